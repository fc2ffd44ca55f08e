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
