"""The README tour, state by state, from the real app on the demo data.

    python -m crux_tui.screenshots [--out screenshots] [--size 120x40] [--no-color]

writes the README's screenshots; ``tests/app/test_snapshots.py`` compares every state of
the tour, at 80x24 and 120x40 and without colour, with its SVG snapshot. Both take a
fresh app on the tour backend (:func:`tour_backend`, :func:`tour_app`) and bring it into
a state with :func:`drive`, pressing keys as a user would: one code path.

Shots are deterministic: the backend's projection clock and the app's clock are pinned
(:data:`TOUR_NOW`), the demo has a fixed seed, and the live run is a few of its batches
loaded once (nothing ticks while a shot is taken).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from crux_tui.app.main import make_app
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.demo import DEMO_SCENARIOS, LIVE_RUN_ID, build_demo_records, live_run_records
from crux_tui.loading import load_records

#: The pinned clock of the tour: the backend projects at it, the app says "6m ago" from it.
TOUR_NOW = datetime(2026, 5, 16, 18, 0, 0, tzinfo=UTC)
TOUR_SEED = 7
#: Batches of the live run in the tour: it is streaming its third turn at ``TOUR_NOW``.
LIVE_BATCHES = 3
#: The sizes the tour is checked at.
SIZES = ((80, 24), (120, 40))

Step = Callable[[Any], Awaitable[None]]


def tour_records() -> list[dict[str, Any]]:
    """The demo runs at :data:`TOUR_NOW`, and the start of the live run (still running)."""
    records = build_demo_records(seed=TOUR_SEED, now=TOUR_NOW)
    live = live_run_records(TOUR_SEED, start=TOUR_NOW - timedelta(seconds=10))
    for _ in range(LIVE_BATCHES):
        records.extend(next(live))
    return records


@contextlib.contextmanager
def tour_backend() -> Iterator[str]:
    """An embedded backend holding :func:`tour_records`, its clock pinned; yields its URL
    once the presented statuses are in the runs list (stale, incomplete, suspended)."""
    import httpx

    clock = TOUR_NOW.isoformat().replace("+00:00", "Z")
    with EmbeddedBackend(clock=clock, lifecycle_interval=0.2) as backend:
        problems = load_records(backend.url, tour_records())
        if problems:
            raise RuntimeError(f"tour: demo records rejected: {problems[:3]}")
        expected = {run_id: status for run_id, _, status in DEMO_SCENARIOS}
        deadline = time.monotonic() + 30
        while True:
            page = httpx.get(f"{backend.url}/api/observability/runs/page", timeout=10).json()
            shown = {row["runId"]: row["status"] for row in page.get("rows") or ()}
            if all(shown.get(run_id) == status for run_id, status in expected.items()):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"tour: the demo statuses did not settle: {shown}")
            time.sleep(0.1)
        yield backend.url


def tour_app(url: str, *, no_color: bool = False) -> Any:
    """The app as ``crux-tui demo`` opens it, on the pinned clock (``NO_COLOR`` if asked)."""
    saved = os.environ.pop("NO_COLOR", None)
    if no_color:
        os.environ["NO_COLOR"] = "1"
    try:  # Textual reads NO_COLOR when the app is made
        return make_app(url, source="demo", clock=lambda: TOUR_NOW)
    finally:
        os.environ.pop("NO_COLOR", None)
        if saved is not None:
            os.environ["NO_COLOR"] = saved


# ----------------------------------------------------------------------------- driving


async def until(pilot: Any, predicate: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    """Let the app run until ``predicate()`` holds (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # widgets may not be mounted yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"tour: timed out waiting for {what}")
        await pilot.pause(0.05)


def _runs_screen(app: Any) -> Any:
    from crux_tui.app.screens.runs import RunsScreen

    screen = app.screen
    return screen if isinstance(screen, RunsScreen) else None


def _run_screen(app: Any) -> Any:
    from crux_tui.app.screens.run import RunScreen

    screen = app.screen
    if isinstance(screen, RunScreen) and screen.detail is not None and not screen.partial:
        return screen if screen.timeline.rows else None
    return None


async def runs_list(pilot: Any) -> None:
    """The runs list with every demo run and its presented status."""
    app = pilot.app
    expected = {run_id: status for run_id, _, status in DEMO_SCENARIOS}

    def listed() -> bool:
        screen = _runs_screen(app)
        shown = {run.runId: run.status for run in screen.visible_runs()} if screen else {}
        return LIVE_RUN_ID in shown and all(shown.get(k) == v for k, v in expected.items())

    await until(pilot, listed, "the demo runs")
    # the health column marks the runs with symptoms once the list's pass has read them
    await until(pilot, lambda: not _runs_screen(app).symptoms_to_find(), "the symptom marks")


async def open_run(pilot: Any, run_id: str) -> Any:
    """From the runs list: j down to ``run_id``, enter, wait for its timeline."""
    await runs_list(pilot)
    screen = _runs_screen(pilot.app)
    for _ in range(len(screen.visible_runs())):
        if screen.selected_run_id() == run_id:
            break
        await pilot.press("j")
    await pilot.press("enter")
    return await until(pilot, lambda: _run_screen(pilot.app), f"{run_id} open")


async def down_to(pilot: Any, screen: Any, predicate: Callable[[Any], bool], what: str) -> None:
    """Press j until the timeline's cursor is on a row ``predicate`` accepts."""
    timeline = screen.timeline
    for _ in range(len(timeline.rows) + 1):
        if predicate(timeline.selected_row):
            return
        await pilot.press("j")
    raise LookupError(f"tour: no row for {what}")


def _is_tool(row: Any) -> bool:
    return row.entry.primitive == "tool.call"


async def research_tool(pilot: Any) -> Any:
    screen = await open_run(pilot, "run_research")
    await down_to(pilot, screen, _is_tool, "the research tool call")
    return screen


def keys(before: Step, *names: str) -> Step:
    """``before``, then the keys ``names``."""

    async def step(pilot: Any) -> None:
        await before(pilot)
        await pilot.press(*names)

    return step


def opened(run_id: str, *names: str) -> Step:
    async def step(pilot: Any) -> None:
        await open_run(pilot, run_id)
        await pilot.press(*names)

    return step


async def tool_error(pilot: Any) -> None:
    await open_run(pilot, "run_tool_error")
    await pilot.press("e")  # where the error starts


async def artifact_list(pilot: Any) -> None:
    """``a`` on the tool that threw: it has several artifacts, so a list of them first."""
    from crux_tui.app.screens.artifact_picker import ArtifactPicker

    await tool_error(pilot)
    await pilot.press("a")
    await until(pilot, lambda: isinstance(pilot.app.screen, ArtifactPicker), "the artifacts")


async def error_stack(pilot: Any) -> None:
    from crux_tui.app.screens.artifact import ArtifactScreen

    await artifact_list(pilot)
    await pilot.press("1")  # error evidence comes first
    await until(pilot, lambda: isinstance(pilot.app.screen, ArtifactScreen), "the stack")


async def incomplete(pilot: Any) -> None:
    screen = await open_run(pilot, "run_deadline")
    await down_to(
        pilot,
        screen,
        lambda row: row.status == "incomplete" and row.kind == "generation",
        "the stalled generation",
    )


async def help_keys(pilot: Any) -> None:
    from crux_tui.app.screens.help import HelpScreen

    await research_tool(pilot)
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")


@dataclass(frozen=True)
class TourState:
    """One state of the README tour: how to get there, and its README caption (if any)."""

    name: str
    steps: Step
    readme: str = ""


TOUR: tuple[TourState, ...] = (
    TourState("runs", runs_list, "Runs list"),
    TourState("runs-filter", keys(runs_list, "slash", *"research", "enter")),
    TourState("runs-status-filter", keys(runs_list, "f", "f")),
    TourState("timeline", research_tool, "Folded Convex agent timeline"),
    TourState(
        "timeline-infrastructure", keys(research_tool, "i"), "Infrastructure toggle on (`i`)"
    ),
    TourState("timeline-canonical", keys(research_tool, "c"), "Raw canonical parents (`c`)"),
    TourState("timeline-details", keys(research_tool, "d")),
    TourState("errors", tool_error, "Where the error starts (`e`)"),
    TourState("artifact-list", artifact_list),
    TourState("error-stack", error_stack, "`error.stack` artifact"),
    TourState("search", opened("run_chat_support", "slash", *"step", "enter", "n")),
    TourState("incomplete", incomplete, "Incomplete generation and its diagnostic"),
    TourState("diagnostics", keys(incomplete, "D")),
    TourState("symptoms", opened("run_unnamed_tool", "D")),
    TourState("suspended", opened("run_plan_approval")),
    TourState("live", opened(LIVE_RUN_ID, "G")),
    TourState("help", help_keys),
)
STATES = {state.name: state for state in TOUR}


async def drive(pilot: Any, state: str) -> None:
    """Bring a fresh :func:`tour_app` into the tour state ``state``, ready for a shot:
    connected (``● live``), no notification on screen, nothing left to load."""
    app = pilot.app
    await until(pilot, lambda: app.connection_state == "live", "the live stream")
    await STATES[state].steps(pilot)
    await pilot.pause()
    busy = ("run-detail", "runs-refresh", "run-head", "timeline-layout", "run-symptoms", "run-rest")
    await until(
        pilot,
        lambda: not any(not w.is_finished and w.group in busy for w in app.workers),
        "loads to finish",
    )
    await until(pilot, lambda: _shown_whole(app), "every run shown whole")
    app.clear_notifications()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    await pilot.pause()  # a pane filled by the last message is laid out (its scrollbar too)


def _shown_whole(app: Any) -> bool:
    """No run screen in the stack (a modal's background included) shows a preview or a
    detail pane still loading its span's details."""
    from crux_tui.app.screens.run import RunScreen
    from crux_tui.app.widgets.detail_pane import DetailPane

    return not any(
        screen.partial or any(pane.loading for pane in screen.query(DetailPane))
        for screen in app.screen_stack
        if isinstance(screen, RunScreen)
    )


def svg(url: str, state: str, size: tuple[int, int], *, no_color: bool = False) -> str:
    """The SVG of ``state`` at ``size`` (what ``snap_compare`` takes, the same way)."""
    from textual._doc import take_svg_screenshot

    return take_svg_screenshot(
        app=tour_app(url, no_color=no_color),
        terminal_size=size,
        run_before=partial(drive, state=state),
    )


def capture(out: Path, size: tuple[int, int], *, no_color: bool = False) -> list[Path]:
    """Write the README's screenshots (the tour states with a caption) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tour_backend() as url:
        for state in TOUR:
            if state.readme:
                path = out / f"{state.name}.svg"
                path.write_text(svg(url, state.name, size, no_color=no_color), encoding="utf-8")
                saved.append(path)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", default="screenshots", help="output folder")
    parser.add_argument("--size", default="120x40", help="terminal size, COLSxROWS")
    parser.add_argument("--no-color", action="store_true", help="as with NO_COLOR set")
    args = parser.parse_args(argv)
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    for path in capture(Path(args.out), (cols, rows), no_color=args.no_color):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
