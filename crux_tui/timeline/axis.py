"""The run's time axis: window, bar geometry and ruler ticks. Pure. (Which bar a status
gets, and its glyph, is :mod:`crux_tui.contract.statuses`.)"""

from __future__ import annotations

from typing import NamedTuple

from crux_tui.contract.models import RunDetail
from crux_tui.contract.statuses import bar_kind
from crux_tui.timeline.model import TimelineModel, build_model


class Bar(NamedTuple):
    start: int
    length: int
    kind: str


def run_window(detail: RunDetail | TimelineModel) -> tuple[float, float]:
    """``(start_ms, end_ms)`` epoch milliseconds covering the run and all its spans."""
    model = detail if isinstance(detail, TimelineModel) else build_model(detail)
    return model.window_start_ms, model.window_end_ms


def bar_geometry(
    start_offset_ms: float | None,
    duration_ms: float,
    window_ms: float,
    width: int,
    *,
    status: str = "ok",
    open_ended: bool = False,
) -> Bar | None:
    """Map a span to bar columns ``[start, start+length)`` within ``width`` cells.

    At least one cell wide; an open-ended (running, no end) bar runs to the right edge.
    ``None`` when the span has no start time or there is no room.
    """
    if width <= 0 or start_offset_ms is None:
        return None
    kind = bar_kind(status, open_ended)
    if window_ms <= 0:
        return Bar(0, width if open_ended else 1, kind)
    scale = width / window_ms
    start = int(max(0.0, start_offset_ms) * scale)
    start = min(start, width - 1)
    if open_ended:
        length = width - start
    else:
        stop = (max(0.0, start_offset_ms) + max(0.0, duration_ms)) * scale
        length = max(1, round(stop) - start)
        length = min(length, width - start)
    return Bar(start, max(1, length), kind)


def ruler_ticks(window_ms: float, width: int, min_gap: int = 10) -> list[tuple[int, float]]:
    """``[(column, offset_ms)]`` for a time ruler with labels at least ``min_gap`` apart."""
    if width <= 0 or window_ms <= 0:
        return [(0, 0.0)]
    target = window_ms * min_gap / width
    step = 1.0
    while step < target:
        for factor in (2.0, 2.5, 2.0):  # 1 -> 2 -> 5 -> 10 ...
            step *= factor
            if step >= target:
                break
    ticks: list[tuple[int, float]] = []
    t = 0.0
    while t <= window_ms + 1e-9 and len(ticks) < width:
        ticks.append((int(t * width / window_ms), t))
        t += step
    return ticks
