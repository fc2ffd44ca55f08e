"""Every command palette entry of every screen, run through the palette as a user would
(ctrl+p, type its name, pick it, enter), does what its key does.

The expected commands of each screen are listed here with the effect each must have: a
command added to a screen without an entry here fails the test, so none goes untried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.artifact_picker import ArtifactPicker
from crux_tui.app.screens.help import HelpScreen
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import STATUS_FILTERS, RunsScreen
from crux_tui.app.widgets.diagnostics import DiagnosticsList
from crux_tui.app.widgets.json_tree import JsonTree
from crux_tui.app.widgets.stack_view import StackView

from .helpers import wait_for

Check = Callable[[], Any]


@dataclass
class Case:
    """A palette command: what to set up first (keys), and what must hold afterwards."""

    name: str
    effect: Callable[[dict[str, Any]], Check]
    setup: Callable[[Any], Awaitable[None]] | None = None


def palette_names(app: Any) -> set[str]:
    """The names the palette offers on the current screen (screen + system providers)."""
    screen = app.screen
    names = set()
    for provider in screen.COMMANDS:
        names |= {command.name for command in provider(screen).commands()}
    names |= {command.title for command in app.get_system_commands(screen)}
    return names


async def run_from_palette(app: Any, pilot: Any, name: str) -> None:
    """ctrl+p, type ``name``, move down to the entry called exactly that, enter."""
    screen = app.screen
    await pilot.press("ctrl+p")
    palette = await wait_for(
        pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen, what="palette"
    )
    await pilot.press(*name[:5])  # the start of the name, then pick it from the list

    def position() -> int | None:
        gathering = any(
            w.group == CommandPalette._GATHER_COMMANDS_GROUP and not w.is_finished
            for w in app.workers
        )
        options = palette.query_one(CommandList)
        if gathering:
            return None
        for index in range(options.option_count):
            if options.get_option_at_index(index).hit.text == name:
                return index + 1
        return None

    target = await wait_for(pilot, position, what=f"palette entry {name!r}") - 1
    options = palette.query_one(CommandList)
    current = -1 if options.highlighted is None else options.highlighted
    await pilot.press(*["down"] * (target - current))
    highlighted = options.get_option_at_index(options.highlighted or 0)
    assert highlighted.hit.text == name, (highlighted.hit.text, name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen is not palette, what="palette closed")
    if app.screen is screen:
        await pilot.pause()


def keys(*names: str) -> Callable[[Any], Awaitable[None]]:
    async def setup(pilot: Any) -> None:
        await pilot.press(*names)
        await pilot.pause()

    return setup


def system_cases(app: Any, tmp_path: Path, screen_type: type) -> list[Case]:
    """Keys, Theme and Screenshot (every screen), and Maximize where a widget can be."""

    def screenshot(state: dict[str, Any]) -> Check:
        for old in tmp_path.glob("crux-tui-*.svg"):
            old.unlink()
        return lambda: any(tmp_path.glob("crux-tui-*.svg"))

    def help_shown(state: dict[str, Any]) -> Check:
        return lambda: isinstance(app.screen, HelpScreen)

    async def close_help(pilot: Any) -> None:
        if isinstance(app.screen, HelpScreen):
            await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, screen_type), what="help closed")

    def theme(state: dict[str, Any]) -> Check:
        state["theme"] = app.theme
        return lambda: isinstance(app.screen, CommandPalette)

    async def pick_theme(pilot: Any) -> None:
        # "Theme" opens a second palette listing the themes: pick one that is not in use
        themes = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: themes.option_count > 2, what="themes listed")
        names = [themes.get_option_at_index(i).hit.text for i in range(themes.option_count)]
        target = next(i for i, theme in enumerate(names) if theme != app.theme)
        current = -1 if themes.highlighted is None else themes.highlighted
        await pilot.press(*["down"] * (target - current), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, screen_type), what="theme chosen")

    cases = [
        Case("Keys", help_shown),
        Case("Screenshot", screenshot, setup=close_help),
        Case("Theme", theme),
    ]
    cases.append(Case("__theme_done__", lambda s: lambda: True, setup=pick_theme))
    return cases


async def run_system_cases(app: Any, pilot: Any, tmp_path: Path, screen_type: type) -> set[str]:
    """Run the system cases on the current screen; returns their names."""
    before = app.theme
    cases = system_cases(app, tmp_path, screen_type)
    for case in cases:
        if case.name.startswith("__"):
            await case.setup(pilot)
            continue
        if case.setup is not None:
            await case.setup(pilot)
        check = case.effect({})
        await run_from_palette(app, pilot, case.name)
        await wait_for(pilot, check, what=f"effect of {case.name!r}")
    await wait_for(pilot, lambda: app.theme != before, what="theme changed")
    maximizable = "Maximize" in palette_names(app)
    if maximizable:
        await run_from_palette(app, pilot, "Maximize")
        await wait_for(pilot, lambda: app.screen.maximized is not None, what="maximized")
        await run_from_palette(app, pilot, "Minimize")
        await wait_for(pilot, lambda: app.screen.maximized is None, what="minimized")
    return {case.name for case in cases if not case.name.startswith("__")} | (
        {"Maximize"} if maximizable else set()
    )


async def test_every_palette_command_does_what_its_key_does(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # export and screenshot write here
    app = make_app(demo_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count >= 8,
            what="demo runs listed",
        )
        runs: RunsScreen = app.screen
        done = await run_system_cases(app, pilot, tmp_path, RunsScreen)
        await runs_screen_cases(app, pilot, runs, done)
        run = await open_from_palette(app, pilot, runs, "run_tool_error")
        done = await run_system_cases(app, pilot, tmp_path, RunScreen)
        await run_screen_cases(app, pilot, run, runs, done, tmp_path)
        await wait_for(pilot, lambda: app.screen is runs, what="back on the runs list")
        await run_from_palette(app, pilot, "Quit")
        await wait_for(pilot, lambda: app.return_code is not None, what="quit")


async def open_from_palette(app: Any, pilot: Any, runs: RunsScreen, run_id: str) -> RunScreen:
    runs.table.move_cursor(row=runs.table.get_row_index(run_id))
    await pilot.pause()
    await run_from_palette(app, pilot, "Open run")
    return await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, RunScreen)
            and app.screen.detail is not None
            and not app.screen.partial
            and app.screen
        ),
        what=f"{run_id} open",
    )


async def runs_screen_cases(app: Any, pilot: Any, runs: RunsScreen, done: set[str]) -> None:
    table = runs.table

    def cursor_at(row: Callable[[], int]) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: table.cursor_row == row()

    def status_is(label: str) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: runs.status_filter[0] == label and runs.loaded_once

    def filter_field(shown: bool) -> Callable[[dict[str, Any]], Check]:
        field = runs.query_one("#runs-filter")
        return lambda state: lambda: field.display is shown and field.has_focus is shown

    def refreshed(state: dict[str, Any]) -> Check:
        state["generation"] = runs.loader.generation
        return lambda: runs.loader.generation > state["generation"]

    def cycled(state: dict[str, Any]) -> Check:
        state["index"] = runs.status_index
        return lambda: runs.status_index == (state["index"] + 1) % len(STATUS_FILTERS)

    def copied(state: dict[str, Any]) -> Check:
        return lambda: app.clipboard == runs.selected_run_id()

    def asks_first(state: dict[str, Any]) -> Check:
        from crux_tui.app.screens.confirm import ConfirmScreen

        return lambda: isinstance(app.screen, ConfirmScreen)  # n cancels, below

    async def back_to_list(pilot: Any) -> None:
        await wait_for(pilot, lambda: runs.loaded_once and table.row_count >= 8, what="list")
        table.focus()
        table.move_cursor(row=2)
        await pilot.pause()

    cases = [
        Case("Next run", cursor_at(lambda: 3), setup=back_to_list),
        Case("Previous run", cursor_at(lambda: 1), setup=back_to_list),
        Case("Last run", cursor_at(lambda: table.row_count - 1), setup=back_to_list),
        Case("First run", cursor_at(lambda: 0)),
        Case("Copy run id", copied),
        Case("Delete", asks_first),
        Case("__no__", lambda s: lambda: app.screen is runs, setup=keys("n")),
        Case("Refresh", refreshed),
        Case("Filter", filter_field(True)),
        Case("Clear filter", filter_field(False)),
        Case("Status filter", cycled),
        *[Case(f"Status filter: {label}", status_is(label)) for label, _ in STATUS_FILTERS],
    ]
    real = {case.name for case in cases if not case.name.startswith("__")}
    expected = real | done | {"Open run", "Quit"}
    assert palette_names(app) == expected, "every palette command of the runs list needs a case"
    for case in cases:
        if case.setup is not None:
            await case.setup(pilot)
        if case.name.startswith("__"):
            continue
        check = case.effect({})
        await run_from_palette(app, pilot, case.name)
        await wait_for(pilot, check, what=f"effect of {case.name!r}")
    await run_from_palette(app, pilot, "Status filter: all")
    await back_to_list(pilot)


async def run_screen_cases(
    app: Any,
    pilot: Any,
    run: RunScreen,
    runs: RunsScreen,
    done: set[str],
    tmp_path: Path,
) -> None:
    timeline = run.timeline
    detail = run.detail
    assert detail is not None
    tool = next(row for row in timeline.model.entries if row.primitive == "tool.call")
    root_key = timeline.model.entries[0].key

    def option(name: str, value: bool) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: getattr(timeline.options, name) is value

    def cursor(index: Callable[[], int]) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: timeline.cursor_index == index()

    def on_key(key: str) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: timeline.selected_row.key == key

    def root_expanded(value: bool) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: timeline.rows[0].expanded is value

    def to_row(key: str) -> Callable[[Any], Awaitable[None]]:
        async def setup(pilot: Any) -> None:
            timeline.focus()
            timeline.select_span(key)
            await pilot.pause()

        return setup

    async def hide_pane(pilot: Any) -> None:
        if run.detail_pane.display:
            await pilot.press("p")
        await wait_for(pilot, lambda: not run.detail_pane.display, what="pane hidden")

    async def search_tool(pilot: Any) -> None:
        await pilot.press("slash", *"lookupOrder", "enter")
        await wait_for(pilot, lambda: run.match_count == 1, what="search")
        await to_row(root_key)(pilot)

    def copied(value: Callable[[], str]) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: app.clipboard == value()

    def exported(state: dict[str, Any]) -> Check:
        return lambda: (tmp_path / "crux-run-run_tool_error.json").exists()

    def refreshed(state: dict[str, Any]) -> Check:
        state["seq"] = run.loader.applied
        return lambda: run.loader.applied > state["seq"]

    def artifact_list(state: dict[str, Any]) -> Check:
        return lambda: isinstance(app.screen, ArtifactPicker)  # the tool has several

    def searching(state: dict[str, Any]) -> Check:
        field = run.query_one("#run-search")
        return lambda: field.display and field.has_focus

    async def leave_search(pilot: Any) -> None:
        await pilot.press("escape")
        await wait_for(pilot, lambda: timeline.has_focus, what="search closed")
        await to_row(tool.key)(pilot)

    def says(words: str) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: any(words in str(n.message) for n in app._notifications)

    def pane(shown: bool) -> Callable[[dict[str, Any]], Check]:
        return lambda state: lambda: run.detail_pane.display is shown

    last = lambda: len(timeline.rows) - 1  # noqa: E731
    cases = [
        Case("Infra", option("show_infrastructure", True)),
        Case("Canonical", option("canonical_parents", True)),
        Case("Details", option("show_details", True)),
        Case("__reset__", lambda s: lambda: True, setup=keys("i", "c", "d")),
        Case("Collapse all", lambda s: lambda: timeline.options.expand_mode == "none"),
        Case("Expand all", lambda s: lambda: timeline.options.expand_mode == "all"),
        Case("Next error", on_key(tool.key), setup=to_row(root_key)),
        Case("Prev error", on_key(tool.key), setup=to_row(root_key)),
        Case("Collapse", root_expanded(False), setup=to_row(root_key)),
        Case("Expand", root_expanded(True)),
        Case("Toggle", root_expanded(False)),
        Case("Last", cursor(last), setup=keys("space")),
        Case("First", cursor(lambda: 0)),
        Case("Down", cursor(lambda: 1)),
        Case("Up", cursor(lambda: 0)),
        Case("Page down", cursor(last)),
        Case("Page up", cursor(lambda: 0)),
        Case("Next match", on_key(tool.key), setup=search_tool),
        Case("Prev match", on_key(tool.key), setup=to_row(root_key)),
        Case("Open", pane(True), setup=hide_pane),
        Case("Detail pane", pane(False)),
        Case("__pane__", lambda s: lambda: True, setup=keys("p")),
        Case("Search", searching),
        Case("Copy id", copied(lambda: tool.span_id), setup=leave_search),
        Case("Copy JSON", lambda s: lambda: '"spanId"' in (app.clipboard or "")),
        Case("Export", exported),
        Case("Refresh", refreshed),
        Case("Diagnostics", lambda s: lambda: run.query_one(DiagnosticsList).has_focus),
        Case("Timeline", lambda s: lambda: timeline.has_focus),
        Case("Trigger span", says("Select a child run")),  # this run has none
        Case("Artifact", artifact_list, setup=to_row(tool.key)),
    ]
    real = {case.name for case in cases if not case.name.startswith("__")}
    expected = real | done | {"Back", "Quit", "Why"}  # Why: on a reconciled run, below
    assert palette_names(app) == expected, "every palette command of a run needs a case"
    diagnostics = run.query_one(DiagnosticsList)
    for case in cases:
        if case.setup is not None:
            await case.setup(pilot)
        if case.name.startswith("__"):
            continue
        if case.name == "Diagnostics" and not diagnostics.display:
            # this run has none: the command says so instead (checked on another run below)
            await run_from_palette(app, pilot, case.name)
            await wait_for(pilot, lambda: timeline.has_focus, what="no diagnostics")
            continue
        check = case.effect({})
        await run_from_palette(app, pilot, case.name)
        await wait_for(pilot, check, what=f"effect of {case.name!r}")
    await artifact_screen_cases(app, pilot, run, tmp_path)
    await run_from_palette(app, pilot, "Back")
    await wait_for(pilot, lambda: app.screen is runs, what="back")
    # a run with diagnostics: the command focuses them
    other = await open_from_palette(app, pilot, runs, "run_deadline")
    await run_from_palette(app, pilot, "Diagnostics")
    await wait_for(pilot, lambda: other.query_one(DiagnosticsList).has_focus, what="focused")
    await run_from_palette(app, pilot, "Timeline")
    await wait_for(pilot, lambda: other.timeline.has_focus, what="timeline focused")
    # the run is incomplete because its generation stalled: Why goes there
    await pilot.press("g")
    await run_from_palette(app, pilot, "Why")
    await wait_for(
        pilot,
        lambda: (
            other.timeline.selected_row.status == "incomplete"
            and other.timeline.selected_row.kind == "generation"
        ),
        what="the stalled generation",
    )
    await run_from_palette(app, pilot, "Back")


async def artifact_screen_cases(app: Any, pilot: Any, run: RunScreen, tmp_path: Path) -> None:
    await pilot.press("1")  # the stack, first in the list
    viewer = await wait_for(
        pilot, lambda: isinstance(app.screen, ArtifactScreen) and app.screen, what="viewer"
    )
    done = await run_system_cases(app, pilot, tmp_path, ArtifactScreen)
    stack = viewer.query_one(StackView)
    stack.focus()
    await pilot.pause()
    assert palette_names(app) == done | {
        "Back",
        "Copy",
        "Expand all",
        "Collapse all",
        "Open in editor",
        "Fold library frames",
        "Down",
        "Up",
        "Quit",
    }
    await run_from_palette(app, pilot, "Copy")
    await wait_for(pilot, lambda: "at lookupOrder" in (app.clipboard or ""), what="copied")
    folded = stack.folded
    await run_from_palette(app, pilot, "Fold library frames")
    await wait_for(pilot, lambda: stack.folded is not folded, what="library frames folded")
    start = stack.highlighted or 0
    await run_from_palette(app, pilot, "Down")
    await wait_for(pilot, lambda: (stack.highlighted or 0) > start, what="down")
    await run_from_palette(app, pilot, "Up")
    await wait_for(pilot, lambda: (stack.highlighted or 0) == start, what="up")
    await run_from_palette(app, pilot, "Open in editor")  # its file is not here: says so
    await wait_for(
        pilot,
        lambda: any("orders.ts" in str(n.message) for n in app._notifications),
        what="where it looked",
    )
    await run_from_palette(app, pilot, "Back")
    await wait_for(pilot, lambda: app.screen is run, what="back to the run")
    # the JSON artifact of the same span: expand / collapse its tree
    raw = next(a for a in run.detail_pane.artifacts if a.kind == "error.raw")
    run.detail_pane.request_artifact(raw)
    viewer = await wait_for(
        pilot, lambda: isinstance(app.screen, ArtifactScreen) and app.screen, what="raw viewer"
    )
    tree = viewer.query_one(JsonTree)

    def all_expanded() -> bool:
        stack = [tree.root]
        while stack:
            node = stack.pop()
            if node.allow_expand and not node.is_expanded:
                return False
            stack.extend(node.children)
        return True

    await run_from_palette(app, pilot, "Collapse all")
    await wait_for(pilot, lambda: not all_expanded(), what="collapsed")
    await run_from_palette(app, pilot, "Expand all")
    await wait_for(pilot, all_expanded, what="expanded")
    await run_from_palette(app, pilot, "Back")
    await wait_for(pilot, lambda: app.screen is run, what="back to the run")
    await asyncio.sleep(0)
