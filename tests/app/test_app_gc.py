"""The app defers full GC passes to pauses in the user's input, and gives them back on exit."""

from __future__ import annotations

import gc

from crux_tui.app.main import make_app

from .helpers import wait_for


async def test_full_gc_passes_wait_for_idle_and_are_restored(backend_url: str) -> None:
    saved = gc.get_threshold()
    app = make_app(backend_url, start_feed=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert gc.get_threshold()[2] > 1_000_000  # CPython's own full passes are off
        collector = app.idle_collector
        before = collector._last_input
        await pilot.press("j")
        assert collector._last_input > before  # key presses count as input
        for _ in range(12):
            gc.collect(1)  # the generation count says a full pass is due...
        kept: list[object] = []
        while not collector.due():  # ...and the heap has grown enough to want one
            kept.extend([i] for i in range(20_000))
        # No input and nothing in flight for a second: a tick runs it.
        await wait_for(pilot, lambda: collector.full_passes >= 1, what="idle full pass")
        del kept
    assert gc.get_threshold() == saved
