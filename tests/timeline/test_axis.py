"""Time axis: run window and bar geometry."""

from __future__ import annotations

import itertools

from crux_tui.timeline import bar_geometry, build_model, parse_ms, ruler_ticks, run_window
from tests.timeline.builders import BASE, convex_run, node, run_detail


def test_parse_ms_variants():
    base = BASE.timestamp() * 1000
    assert parse_ms("2026-05-16T18:00:00Z") == base
    assert parse_ms("2026-05-16T18:00:00.5Z") == base + 500
    assert abs(parse_ms("2026-05-16T18:00:00.123456789Z") - (base + 123.456789)) < 1e-6
    assert parse_ms("2026-05-16T20:00:00+02:00") == base
    assert parse_ms("") is None
    assert parse_ms("garbage-garbage-garbage") is None
    assert parse_ms(None) is None


def test_run_window_covers_spans():
    detail = convex_run()
    start, end = run_window(detail)
    assert start == BASE.timestamp() * 1000
    assert end - start == 1000
    assert run_window(build_model(detail)) == (start, end)


def test_bar_geometry():
    assert bar_geometry(0, 1000, 1000, 50) == (0, 50, "done")
    assert bar_geometry(500, 0, 1000, 50) == (25, 1, "done")  # at least one cell
    assert bar_geometry(999, 1, 1000, 50).start == 49
    bar = bar_geometry(250, 10, 1000, 40, status="running", open_ended=True)
    assert bar == (10, 30, "running")  # open-ended: runs to the edge
    assert bar_geometry(0, 10, 1000, 40, status="stale").kind == "stale"
    assert bar_geometry(0, 10, 1000, 40, status="incomplete").kind == "incomplete"
    assert bar_geometry(0, 10, 1000, 40, status="error").kind == "error"
    assert bar_geometry(None, 10, 1000, 40) is None
    assert bar_geometry(0, 10, 1000, 0) is None
    assert bar_geometry(5, 10, 0, 10) == (0, 1, "done")
    for width in (1, 7, 33, 200):
        for start in (0, 10, 500, 999, 1000, 5000):
            b = bar_geometry(start, 300, 1000, width)
            assert 0 <= b.start < width and b.length >= 1 and b.start + b.length <= width


def test_ruler_ticks():
    ticks = ruler_ticks(1000, 50)
    assert ticks[0] == (0, 0.0)
    cols = [c for c, _ in ticks]
    assert all(b - a >= 10 for a, b in itertools.pairwise(cols))
    assert ruler_ticks(0, 10) == [(0, 0.0)]


def test_ruler_ticks_step_by_1_2_5_and_label_the_whole_window():
    """The step is the first of 1, 2, 5, 10, 20, 50, ... ms that puts labels ``min_gap``
    columns apart; ticks run from 0 to the window's end (included), at most one a column."""
    assert ruler_ticks(1000, 50) == [(c, c * 20.0) for c in range(0, 51, 10)]  # step 200
    assert ruler_ticks(3000, 40) == [(0, 0.0), (13, 1000.0), (26, 2000.0), (40, 3000.0)]
    assert ruler_ticks(1000, 50, min_gap=4) == [(c, c * 20.0) for c in range(0, 51, 5)]
    assert ruler_ticks(250, 50, min_gap=5) == [(c, c * 5.0) for c in range(0, 51, 10)]  # 50, not 25
    assert ruler_ticks(1000, 3, min_gap=0) == [(0, 0.0), (0, 1.0), (0, 2.0)]  # width-bound
    assert ruler_ticks(10, 0) == [(0, 0.0)] and ruler_ticks(-1, 10) == [(0, 0.0)]


def test_running_run_window_without_end():
    root = node("a", status="running", ended=False, start=0, duration=300)
    start, end = run_window(run_detail(root, ended=False))
    assert end - start == 300


def test_bar_geometry_edges():
    """Offsets and durations count from 0 (not from 1 ms), a window of 1 ms is a window,
    an open-ended bar of a zero window fills the width, an open-ended bar is a running one."""
    assert bar_geometry(0, 5, 10, 100) == (0, 50, "done")
    assert bar_geometry(5, 0, 10, 100) == (50, 1, "done")
    assert bar_geometry(0, 1, 1, 10) == (0, 10, "done")
    assert bar_geometry(5, 10, 0, 10, status="running", open_ended=True) == (0, 10, "running")
    assert bar_geometry(0, 10, 1000, 40, status="ok", open_ended=True).kind == "running"


def test_ruler_ticks_edges():
    """A window of 1 ms has a ruler; a tick past the window's end is not drawn."""
    assert ruler_ticks(1, 100) == [(0, 0.0), (100, 1.0)]
    assert ruler_ticks(999.5, 50)[-1] == (40, 800.0)
