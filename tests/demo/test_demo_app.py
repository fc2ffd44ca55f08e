"""`crux-tui demo` headless: every scenario appears with its status, the live run streams."""

from __future__ import annotations

import asyncio

from crux_tui.app.main import make_app
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.demo import DEMO_SCENARIOS, LIVE_RUN_ID, LiveRunFeeder, build_demo_records
from crux_tui.loading import load_records
from tests.app.helpers import open_first_run, screen_text, wait_for


async def test_demo_app_shows_every_scenario_and_the_live_run(backend) -> None:
    # the same path as `crux-tui demo`: load through the real ingest route, then stream
    assert await asyncio.to_thread(load_records, backend.url, build_demo_records()) == []
    feeder = LiveRunFeeder(backend.url, interval=0.3).start()
    try:
        app = make_app(backend.url)
        async with app.run_test(size=(160, 40)) as pilot:
            expected = {run_id: status for run_id, _, status in DEMO_SCENARIOS}

            def statuses() -> dict[str, str]:
                screen = app.screen
                if not isinstance(screen, RunsScreen):
                    return {}
                return {run.runId: run.status for run in screen.visible_runs()}

            # stale / incomplete arrive from the lifecycle ticker, with no key press
            await wait_for(
                pilot,
                lambda: all(statuses().get(k) == v for k, v in expected.items()),
                what=f"scenario statuses {expected}, saw {statuses()}",
            )
            await wait_for(
                pilot,
                lambda: "stale" in screen_text(app) and "incomplete" in screen_text(app),
                what="reconciled statuses on screen",
            )
            text = screen_text(app)
            for _, name, _ in DEMO_SCENARIOS:
                assert name[:20] in text

            def live_spans() -> int:
                run = next((r for r in app.screen.visible_runs() if r.runId == LIVE_RUN_ID), None)
                return run.spanCount if run else 0

            first = await wait_for(pilot, live_spans, what="live run listed")
            await wait_for(pilot, lambda: live_spans() > first, what="live run grows")
    finally:
        feeder.stop()


async def test_the_live_run_is_running_in_its_header_root_row_and_the_list(backend) -> None:
    """Between turns the streaming chat is still running: the SDK keeps its agent open, and
    the next turn's stream is open. Header, root row and runs list say the same."""
    feeder = LiveRunFeeder(backend.url, interval=0.3).start()
    try:
        app = make_app(backend.url)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_first_run(app, pilot)
            seen: list[tuple[str, str, str]] = []
            spans = 0
            for _ in range(4):  # four refetches after new turns arrived
                await wait_for(
                    pilot, lambda s=spans: screen.detail.run.spanCount > s, what="next turn"
                )
                spans = screen.detail.run.spanCount
                header = str(screen.query_one("#run-title").content)
                seen.append((screen.detail.run.status, screen.timeline.rows[0].status, header))
            assert all(run == root == "running" for run, root, _ in seen), seen
            assert all("◐ running" in header and "✓" not in header for *_, header in seen)
            root_line = screen.timeline.render_line(0).text
            assert "···" in root_line and " 0ms" not in root_line  # no duration yet
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="list")
            row = app.screen.visible_runs()[0]
            assert row.runId == LIVE_RUN_ID and row.status == "running"
    finally:
        feeder.stop()


async def test_the_suspended_run_is_suspended_everywhere(backend) -> None:
    from crux_tui.app.screens.run import RunScreen

    assert await asyncio.to_thread(load_records, backend.url, build_demo_records()) == []
    app = make_app(backend.url)
    async with app.run_test(size=(120, 40)) as pilot:

        def listed() -> dict[str, str]:
            screen = app.screen
            if not isinstance(screen, RunsScreen):
                return {}
            return {run.runId: run.status for run in screen.visible_runs()}

        await wait_for(
            pilot, lambda: listed().get("run_plan_approval") == "suspended", what="list row"
        )
        # the status filter finds it (f cycles: all, running, error, ok, suspended)
        await pilot.press("f", "f", "f", "f")
        await wait_for(
            pilot, lambda: list(listed()) == ["run_plan_approval"], what="suspended filter"
        )
        await pilot.press("enter")
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.detail and app.screen,
            what="run open",
        )
        header = str(screen.query_one("#run-title").content)
        assert "‖ suspended" in header and "✓" not in header
        assert screen.timeline.rows[0].status == "suspended"
