"""Symptoms in the TUI, with Pilot against the embedded backend loaded with the demo: the runs
list marks runs that have some; in a run, `D` lists them with the diagnostics (title, what
the records show, the fix), Enter goes to the span they name (revealing it), and the detail
pane of that span says which symptom it is part of."""

from __future__ import annotations

import asyncio

from crux_tui.app.main import make_app
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.app.widgets.detail_pane import DetailPane
from crux_tui.app.widgets.diagnostics import DiagnosticsList
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.demo import build_demo_records
from crux_tui.loading import load_records
from crux_tui.symptoms import KIND_BY_CODE

from .helpers import screen_text, wait_for

#: demo operation -> the symptom it shows
DEMO_SYMPTOMS = {
    "run_weekly_report": "child-action-separate-run",
    "run_weekly_summarize": "child-action-separate-run",
    "run_invoice_exit": "run-stays-incomplete",
    "run_release_plan": "plan-flow-incomplete-generation",
    "run_classify_hung": "generation-past-timeout",
    "run_raw_agent": "agent-tools-without-generation",
    "run_unnamed_tool": "tool-label-call-id",
    "run_flow_root": "flow-as-chat-root",
    "run_bridge_error": "bridge-command-message-only",
}


async def load_demo(backend: EmbeddedBackend) -> None:
    assert await asyncio.to_thread(load_records, backend.url, build_demo_records()) == []


def health(app, run_id: str) -> str:
    screen = app.screen
    if not isinstance(screen, RunsScreen):
        return ""
    return screen.table.get_cell(run_id, "health").plain


async def open_run(app, pilot, run_id: str) -> RunScreen:
    """Arrow keys to ``run_id`` in the runs list, then enter."""
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, RunsScreen)
            and app.screen.table.row_count >= 18
            and app.screen.table.has_focus
        ),
        what="runs listed",
    )
    table = app.screen.table
    keys = [row.key.value for row in table.ordered_rows]
    steps = keys.index(run_id) - table.cursor_row
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.timeline.rows is not None,
        what=f"{run_id} shown",
    )
    assert app.screen.run_id == run_id, (app.screen.run_id, keys)
    return app.screen


async def test_runs_list_marks_the_runs_that_have_symptoms(backend: EmbeddedBackend) -> None:
    await load_demo(backend)
    app = make_app(backend.url)
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_for(
            pilot,
            lambda: all("⚑ symptom" in health(app, run_id) for run_id in DEMO_SYMPTOMS),
            what="every demo symptom run marked",
        )
        assert "⚑" not in health(app, "run_chat_support")  # checked, clean
        assert app.symptom_book.count("run_chat_support") == 0
        assert "⚑ symptom" in screen_text(app)


async def test_each_demo_symptom_is_listed_explained_and_jumped_to(
    backend: EmbeddedBackend,
) -> None:
    await load_demo(backend)
    app = make_app(backend.url)
    async with app.run_test(size=(160, 44)) as pilot:
        for run_id, code in DEMO_SYMPTOMS.items():
            kind = KIND_BY_CODE[code]
            screen = await open_run(app, pilot, run_id)
            await wait_for(pilot, lambda s=screen: s.symptoms, what=f"symptoms of {run_id}")
            (symptom,) = screen.symptoms
            assert symptom.code == code
            assert "· ⚑ symptom" in screen_text(app)  # on the status line

            await pilot.press("D")
            listing = screen.query_one(DiagnosticsList)
            assert listing.has_focus and listing.highlighted == 0
            text = screen_text(app)
            assert f"⚑ symptom  {kind.title}" in text, text
            assert "fix: " + kind.fix[:40] in text

            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda s=screen, span=symptom.spanIds[0]: (
                    s.timeline.has_focus
                    and s.timeline.selected_row is not None
                    and s.timeline.selected_row.span_id == span
                ),
                what=f"the cursor on the span of {code} in {run_id}",
            )
            pane = screen.query_one(DetailPane).plain_text()
            assert "PART OF 1 SYMPTOM" in pane and kind.title in pane
            assert "fix" in pane and kind.fix[:30] in pane

            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="back")


async def test_a_folded_boundary_is_revealed(backend: EmbeddedBackend) -> None:
    """The weekly report's symptom names its Convex boundary, an infrastructure span folded
    away: Enter turns infrastructure on to show it."""
    await load_demo(backend)
    app = make_app(backend.url)
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await open_run(app, pilot, "run_weekly_report")
        await wait_for(pilot, lambda: screen.symptoms, what="symptoms")
        assert not screen.timeline.options.show_infrastructure
        boundary = screen.symptoms[0].spanIds[0]
        assert screen.timeline.rows.index_of(boundary) is None  # hidden
        await pilot.press("D", "enter")
        await wait_for(
            pilot,
            lambda: (
                screen.timeline.selected_row is not None
                and screen.timeline.selected_row.span_id == boundary
            ),
            what="the boundary selected",
        )
        assert screen.timeline.options.show_infrastructure
        assert "infra on" in screen_text(app)


async def test_symptoms_come_before_the_diagnostics(backend: EmbeddedBackend) -> None:
    """A run with diagnostics and a symptom: D lists the symptom first, then each diagnostic
    still jumps as before."""
    await load_demo(backend)
    app = make_app(backend.url)
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await open_run(app, pilot, "run_deadline")
        await wait_for(pilot, lambda: screen.symptoms, what="symptoms")
        listing = screen.query_one(DiagnosticsList)
        assert listing.symptoms and listing.diagnostics
        assert listing.option_count == len(listing.symptoms) + len(listing.diagnostics)
        await pilot.press("D", "down", "enter")  # the first diagnostic
        await wait_for(pilot, lambda: screen.timeline.has_focus, what="jumped")
        first = listing.diagnostics[0]
        if first.spanIds:
            assert screen.timeline.selected_row.span_id in first.spanIds


async def test_d_shows_a_symptom_whole_on_a_small_terminal(backend: EmbeddedBackend) -> None:
    """At 80x24 a symptom's title and evidence wrap over several lines: the focused list
    grows so that its fix is on screen too, and shrinks back when the timeline has focus."""
    await load_demo(backend)
    app = make_app(backend.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(app, pilot, "run_unnamed_tool")
        await wait_for(pilot, lambda: screen.symptoms, what="symptoms")
        kind = KIND_BY_CODE["tool-label-call-id"]
        await pilot.press("D")
        listing = screen.query_one(DiagnosticsList)
        await wait_for(pilot, lambda: listing.has_focus, what="the list focused")
        await pilot.pause()
        text = screen_text(app)
        assert kind.title in text and "fix: " + kind.fix[:30] in text, text
        grown = listing.outer_size.height
        await pilot.press("escape")  # back to the timeline
        await wait_for(pilot, lambda: screen.timeline.has_focus, what="timeline focused")
        await pilot.pause()
        assert listing.outer_size.height < grown
