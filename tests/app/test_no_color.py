"""NO_COLOR: error, incomplete and stale stand out without colour, never dimmer than ok."""

from __future__ import annotations

from typing import Any

import pytest
from rich.style import Style

from crux_tui.app.main import make_app
from crux_tui.app.screens.runs import RunsScreen

from .helpers import wait_for
from .test_run_screen import open_run


def screen_lines(app: Any) -> list[list[tuple[str, Style]]]:
    """Every line of the screen as (text, style) segments, after Textual's NO_COLOR filter."""
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True
    )
    return [
        [(segment.text, segment.style or Style()) for strip in line for segment in strip]
        for line in update.strips
    ]


def style_of(app: Any, line_has: str, text: str) -> Style:
    """The style of the first segment containing ``text`` on the line containing ``line_has``."""
    for line in screen_lines(app):
        if line_has in "".join(t for t, _ in line):
            for segment, style in line:
                if text in segment:
                    return style
    raise AssertionError(f"{text!r} not on a line with {line_has!r}")


def stands_out(style: Style) -> bool:
    return bool(style.bold) and bool(style.reverse or style.underline) and not style.dim


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


async def test_without_colour_problems_stand_out(demo_url: str, no_color: None) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    assert app.no_color
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, RunsScreen)
                and {"stale", "incomplete"} <= {run.status for run in app.screen.visible_runs()}
            ),
            what="reconciled runs",
        )
        ok = style_of(app, "support chat", "✓ ok")
        assert not ok.reverse and not ok.dim
        for name, label in (
            ("order lookup", "✗ error"),
            ("summarize thread", "◌ incomplete"),
            ("rank citations", "◇ stale"),
        ):
            style = style_of(app, name, label)
            assert stands_out(style), (label, style)
        screen = await open_run(app, pilot, "run_tool_error")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        error_glyph = style_of(app, "lookupOrder", "✗")
        assert error_glyph.reverse and error_glyph.bold and not error_glyph.dim
        error_bar = style_of(app, "lookupOrder", "━")
        assert error_bar.reverse and not error_bar.dim
        ok_bar = style_of(app, "step-1", "━")
        assert not ok_bar.reverse
        header = style_of(app, "order lookup (tool threw)", "error")
        assert stands_out(header)


@pytest.mark.parametrize("without_colour", [False, True], ids=["colour", "no-color"])
async def test_symptom_marks_are_a_named_style(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, without_colour: bool
) -> None:
    """``⚑ symptom`` (runs list, status line) is ``crux.symptom``: the theme's warning colour
    and bold, or bold underline without colour; never dimmed."""
    if without_colour:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(demo_url, poll_interval=0.2)
    assert app.no_color is without_colour
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, RunsScreen)
                and "⚑" in app.screen.table.get_cell("run_unnamed_tool", "health").plain
            ),
            what="the symptom mark",
        )
        warning = app.get_css_variables()["warning"][:7].lower()
        for style in (
            style_of(app, "shipping quote", "⚑"),
            await status_line_mark(app, pilot),
        ):
            assert style.bold and not style.dim, style
            if without_colour:
                assert style.underline, style
            else:
                assert style.color is not None and style.color.triplet.hex == warning, style


async def status_line_mark(app: Any, pilot: Any) -> Style:
    screen = await open_run(app, pilot, "run_unnamed_tool")
    await wait_for(pilot, lambda: screen.symptoms, what="symptoms")
    return style_of(app, "rows ·", "⚑")
