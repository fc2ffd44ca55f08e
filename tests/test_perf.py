"""GC helpers: ``no_gc`` nesting and the ``IdleCollector`` that moves full passes to idle time."""

from __future__ import annotations

import gc
import sys
import threading

from crux_tui.perf import IdleCollector, mark_bulk, no_gc


def _make_full_pass_due() -> None:
    for _ in range(12):  # each middle-generation pass counts towards the next full one
        gc.collect(1)


def _grow_heap(collector: IdleCollector) -> list[object]:
    """Allocate until the heap has grown past the collector's growth rule."""
    kept: list[object] = []
    while not collector.due():
        kept.extend([i] for i in range(20_000))
    return kept


def test_no_gc_nests_and_restores() -> None:
    assert gc.isenabled()
    with no_gc():
        assert not gc.isenabled()
        with no_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_no_gc_counts_concurrent_users() -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with no_gc():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(5)
    with no_gc():
        pass
    assert not gc.isenabled()  # the other thread is still inside
    release.set()
    worker.join()
    assert gc.isenabled()


def test_idle_collector_waits_for_a_pause_in_input() -> None:
    saved = gc.get_threshold()
    collector = IdleCollector(idle_after=1.0, force_after=30.0, growth=0.05)
    collector.start(now=100.0)
    try:
        assert gc.get_threshold()[:2] == saved[:2]
        assert gc.get_threshold()[2] > 1_000_000  # CPython no longer starts full passes
        assert not collector.tick(now=102.0)  # idle, but nothing due yet
        _make_full_pass_due()
        assert not collector.due()  # passes were counted, but the heap has not grown
        kept = _grow_heap(collector)
        collector.note_input(now=102.0)
        assert not collector.tick(now=102.5)  # the user is typing
        assert collector.tick(now=103.5)  # a pause: the full pass runs
        assert collector.full_passes == 1
        assert gc.get_count()[2] == 0
        assert not collector.tick(now=200.0)  # and is not repeated until due again
        del kept
    finally:
        collector.stop()
    assert gc.get_threshold() == saved


def test_idle_collector_runs_anyway_under_constant_input() -> None:
    collector = IdleCollector(idle_after=1.0, force_after=30.0, growth=0.05)
    collector.start(now=0.0)
    try:
        _make_full_pass_due()
        kept = _grow_heap(collector)
        for second in range(1, 30):
            collector.note_input(now=float(second))
            assert not collector.tick(now=second + 0.1)
        collector.note_input(now=30.0)
        assert collector.tick(now=30.1)  # 30 s without a pause: no longer deferred
        del kept
    finally:
        collector.stop()


def test_stopped_collector_never_collects() -> None:
    collector = IdleCollector()
    _make_full_pass_due()
    assert not collector.tick(now=1e9)


def test_work_in_flight_counts_as_input() -> None:
    collector = IdleCollector(idle_after=1.0, force_after=30.0, growth=0.05)
    collector.start(now=0.0)
    try:
        _make_full_pass_due()
        kept = _grow_heap(collector)
        assert not collector.tick(now=5.0, busy=True)  # a fetch is running: not now
        assert not collector.tick(now=5.5)
        assert collector.tick(now=6.5)  # a second after the work ended
        del kept
    finally:
        collector.stop()


def test_bulk_pauses_promote_while_a_collector_runs_and_full_passes_take_them_back() -> None:
    import weakref

    class Node:
        pass

    collector = IdleCollector()
    collector.start(now=0.0)
    try:
        with no_gc():  # a small pause promotes nothing: its garbage stays young
            small = Node()
            small.self = small  # type: ignore[attr-defined]
            small_probe = weakref.ref(small)
        del small
        assert gc.get_freeze_count() == 0
        gc.collect(0)
        assert small_probe() is None
        with no_gc():
            made = [[i] for i in range(1000)]
            cycle = Node()
            cycle.self = cycle  # type: ignore[attr-defined]
            probe = weakref.ref(cycle)
            mark_bulk()
        assert gc.get_freeze_count() >= 1000  # no young pass will walk them
        assert gc.is_tracked(made[0])
        del cycle
        gc.collect()  # an ordinary pass does not see promoted objects
        assert probe() is not None
        collector.collect()  # a full pass takes them back first
        assert probe() is None and gc.get_freeze_count() == 0
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0
    with no_gc():
        _ = [[i] for i in range(10)]
        mark_bulk()
    assert gc.get_freeze_count() == 0  # without a collector, pauses promote nothing


def test_growth_is_measured_from_a_heap_that_shrank() -> None:
    """After a big run is closed the heap shrinks; the next full pass is due once the heap
    grows by the rule from there, not from the old peak."""
    collector = IdleCollector(idle_after=0.0, growth=0.05)
    collector.start(now=0.0)
    try:
        big = [[i] for i in range(400_000)]
        collector.tick(now=1.0)
        peak = sys.getallocatedblocks()
        collector._blocks_after_full = peak  # as if the last full pass ran at the peak
        del big
        collector.tick(now=2.0)
        assert collector._blocks_after_full < peak * 0.8  # the baseline followed it down
        kept = _grow_heap(collector)
        assert sys.getallocatedblocks() < peak  # due again well below the old peak
        assert collector.tick(now=3.0)
        del kept
    finally:
        collector.stop()
