"""Small things a newcomer trips over: plurals, the source in the title, toasts, scrollbars,
JSON spelling of values, and G following a live run."""

from __future__ import annotations

import pytest

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.demo import LIVE_RUN_ID, LiveRunFeeder

from .helpers import RunRecords, ago, open_first_run, post_records, screen_text, wait_for
from .test_run_screen import open_run


async def test_one_span_is_singular_and_the_title_names_the_source(backend_url: str) -> None:
    r = RunRecords("run_one", name="one span", started=ago(5))
    await post_records(
        backend_url,
        [
            r.run_start(),
            r.span_start("only", "agent.run", "one span"),
            r.span_end("only"),
            r.run_end(),
        ],
    )
    app = make_app(backend_url, poll_interval=0.2, source="traces.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.runs)
        assert "Crux runs  traces.jsonl  1 loaded" in screen_text(app)
        screen = await open_run(app, pilot, "run_one")
        header = str(screen.query_one("#run-title").content)
        assert "· 1 span" in header and "1 spans" not in header
        assert "1 row ·" in str(screen.query_one("#run-statusline").content)
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.runs)
        assert f"Crux runs  {backend_url}" in screen_text(app)


async def test_toasts_leave_the_status_line_and_no_horizontal_scrollbar(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_run(app, pilot, "run_tool_error")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        assert not screen.timeline.show_horizontal_scrollbar
        await pilot.press("y")  # "Copied span id …"
        toast = await wait_for(pilot, lambda: app.screen.query("Toast").first(), what="toast")
        status = screen.query_one("#run-statusline")
        assert toast.region.bottom <= status.region.y, (toast.region, status.region)


async def test_values_keep_their_json_spelling(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_tool_error")
        tool = next(e for e in screen.timeline.model.entries if e.primitive == "tool.call")
        screen.timeline.select_span(tool.key)
        await pilot.pause()
        raw = next(a for a in screen.detail_pane.artifacts if a.kind == "error.raw")
        screen.detail_pane.request_artifact(raw)
        viewer = await wait_for(
            pilot, lambda: isinstance(app.screen, ArtifactScreen) and app.screen, what="viewer"
        )
        assert "retryable false" in viewer.plain_text()
        assert "retryable False" not in viewer.plain_text()


async def test_G_on_a_live_run_follows_new_rows(backend) -> None:
    feeder = LiveRunFeeder(backend.url, interval=0.3).start()
    try:
        app = make_app(backend.url)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_first_run(app, pilot)
            assert screen.run_id == LIVE_RUN_ID
            await pilot.press("G")
            for _ in range(3):  # the run grows; the cursor stays on its last row
                rows = len(screen.timeline.rows)
                await wait_for(pilot, lambda r=rows: len(screen.timeline.rows) > r, what="grows")
                timeline = screen.timeline
                assert timeline.cursor_index == len(timeline.rows) - 1
            await pilot.press("k")  # moving up stops following
            timeline = screen.timeline
            await wait_for(
                pilot, lambda: timeline.cursor_index < len(timeline.rows) - 1, what="moves up"
            )
            for _ in range(2):  # the run grows; the cursor no longer goes to its end
                # (not "the same index": a turn that finishes folds into a detail above it)
                rows = len(timeline.rows)
                await wait_for(pilot, lambda r=rows: len(timeline.rows) > r, what="grows")
                assert timeline.cursor_index < len(timeline.rows) - 1
    finally:
        feeder.stop()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_demo_timelines_show_whole_labels(demo_url: str, size: tuple[int, int]) -> None:
    """Every row of every demo run shows its whole label, beside the detail pane too (the
    bar gives up room first), with c and i on as well."""
    from crux_tui.demo import DEMO_SCENARIOS

    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=size) as pilot:
        for run_id, _, _ in DEMO_SCENARIOS:
            screen = await open_run(app, pilot, run_id)
            timeline = screen.timeline
            await wait_for(pilot, lambda t=timeline: t.rows, what="rows")
            for keys in ((), ("c",), ("i",)):
                await pilot.press(*keys)
                await pilot.pause()
                for index, row in enumerate(timeline.rows):
                    line = timeline._render_row(
                        row, timeline.scrollable_content_region.width, False
                    )
                    assert row.label in line.text, (run_id, keys, row.label, line.text)
                    assert index < 500
            await pilot.press("c", "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs")
