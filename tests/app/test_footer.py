"""The footer: the most important keys first, ? always in sight, no key cut in half."""

from __future__ import annotations

import pytest

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.runs import RunsScreen

from .helpers import screen_text, wait_for
from .test_run_screen import open_run


def footer(app) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_help_key_is_always_visible_and_keys_come_by_importance(
    demo_url: str, size: tuple[int, int]
) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=size) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count
        )
        line = footer(app)
        assert "? Keys" in line and line.split()[:2] == ["/", "Filter"], line
        screen = await open_run(app, pilot, "run_tool_error")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        await wait_for(pilot, lambda: "? Keys" in footer(app), what="the run's keys")
        line = footer(app)
        assert "? Keys" in line and "^p palette" in line, line
        assert line.split()[:6] == ["esc", "Back", "/", "Search", "i", "Infra"], line
        shown = line.split("? Keys")[0].split()
        assert shown[-1] in {"Infra", "Canonical", "error", "Artifact", "Diagnostics", "pane"}
        screen.timeline.select_span(
            next(e.key for e in screen.timeline.model.entries if e.primitive == "tool.call")
        )
        await pilot.press("a", "1")  # several artifacts: a list first, the stack is number 1
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="artifact")
        line = footer(app)
        assert "? Keys" in line and line.split()[:2] == ["esc", "Back"], line


async def test_d_moves_up_the_footer_on_a_run_with_symptoms_or_diagnostics(
    demo_url: str,
) -> None:
    """At 80 columns D is cut from the footer of a run with nothing to list; on one whose D
    list has a symptom or a diagnostic it comes right after search."""
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count
        )
        screen = await open_run(app, pilot, "run_tool_error")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        await wait_for(pilot, lambda: "Infra" in footer(app), what="the run's footer")
        assert "Diagnostics" not in footer(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="back")
        screen = await open_run(app, pilot, "run_unnamed_tool")  # a symptom, no diagnostic
        await wait_for(pilot, lambda: screen.symptoms, what="symptoms")
        await wait_for(
            pilot,
            lambda: footer(app).split()[:6] == ["esc", "Back", "/", "Search", "D", "Diagnostics"],
            what="D right after search",
        )


async def test_the_footer_keeps_its_keys_while_the_bindings_stay_the_same(demo_url: str) -> None:
    """Screens refresh their bindings often (a relayout, a cursor move, the symptoms found)
    with the same keys: the footer keeps its key widgets then, and composes them anew only
    when what they show changes (the search field has the focus)."""
    from textual.widgets._footer import FooterKey

    from crux_tui.app.widgets.footer import CruxFooter

    app = make_app(demo_url, poll_interval=100.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_tool_error")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        await wait_for(pilot, lambda: "Infra" in footer(app), what="the run's footer")
        await wait_for(pilot, lambda: not screen.loader.busy, what="loaded")
        await pilot.pause(0.3)
        bar = screen.query_one(CruxFooter)
        keys = list(bar.query(FooterKey))
        assert len(keys) > 5
        for _ in range(3):
            screen.refresh_bindings()
            await pilot.pause()
        await pilot.press("down", "down", "i", "i")  # a relayout refreshes them too
        await pilot.pause(0.2)
        assert all(a is b for a, b in zip(list(bar.query(FooterKey)), keys, strict=True))
        await pilot.press("slash")  # the search field's keys are not the timeline's
        await wait_for(
            pilot,
            lambda: not any(k in keys for k in bar.query(FooterKey)),
            what="the keys composed anew",
        )
        assert "Infra" not in footer(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Infra" in footer(app), what="the timeline's keys again")
        assert "? Keys" in footer(app)
