"""Regenerate ``screenshots/*.svg`` from the real app on the demo data.

    python -m crux_tui.screenshots [--out screenshots] [--size 140x40]

It starts the embedded backend on a free loopback port, loads the demo scenarios
through the real ingest route, and drives the app headless with Textual's Pilot.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.artifact_picker import ArtifactPicker
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.cli import load_records
from crux_tui.contract.models import RunDetailNode, items
from crux_tui.demo import build_demo_records


async def _until(pilot: Any, predicate: Callable[[], Any], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                await pilot.pause(0.2)
                return
        except Exception:  # widgets may not be mounted yet
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)


async def _open_run(app: Any, pilot: Any, run_id: str) -> RunScreen:
    while not isinstance(app.screen, RunsScreen):
        await pilot.press("escape")
        await pilot.pause(0.1)
    screen = app.screen
    await _until(pilot, lambda: run_id in [r.runId for r in screen.visible_runs()], run_id)
    screen.table.move_cursor(row=screen.table.get_row_index(run_id))
    await pilot.press("enter")
    await _until(
        pilot,
        lambda: (
            isinstance(app.screen, RunScreen)
            and app.screen.detail is not None
            and app.screen.timeline.rows
        ),
        f"{run_id} open",
    )
    return app.screen


def _find(root: RunDetailNode, predicate: Callable[[Any], bool]) -> str:
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if predicate(node):
            return node.spanId
        stack.extend(items(getattr(node, "children", None)))
        stack.extend(items(getattr(node, "details", None)))
    raise LookupError("screenshots: demo span not found")


async def capture(out: Path, size: tuple[int, int]) -> list[Path]:
    """Drive the app through the tour and save one SVG per view; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with EmbeddedBackend(lifecycle_interval=0.2) as backend:
        problems = await asyncio.to_thread(load_records, backend.url, build_demo_records())
        if problems:
            raise RuntimeError(f"screenshots: demo records rejected: {problems[:3]}")
        app = make_app(backend.url)
        async with app.run_test(size=size) as pilot:

            def save(name: str) -> None:
                saved.append(Path(app.save_screenshot(f"{name}.svg", path=str(out))))

            await _until(pilot, lambda: isinstance(app.screen, RunsScreen), "runs screen")
            await _until(
                pilot,
                lambda: {"stale", "incomplete"} <= {r.status for r in app.screen.visible_runs()},
                "reconciled statuses",
            )
            save("runs")

            screen = await _open_run(app, pilot, "run_research")
            tool = _find(screen.detail.root, lambda n: n.primitive == "tool.call")
            screen.timeline.select_span(tool)
            await pilot.pause(0.3)
            save("timeline")
            await pilot.press("i")
            boundary = _find(
                screen.detail.root,
                lambda n: n.primitive == "runtime.convex.action" and n.parentSpanId,
            )
            screen.timeline.select_span(boundary)
            await pilot.pause(0.3)
            save("timeline-infrastructure")
            await pilot.press("i", "c")
            await pilot.pause(0.3)
            save("timeline-canonical")
            await pilot.press("c")

            screen = await _open_run(app, pilot, "run_tool_error")
            screen.timeline.select_span(
                _find(screen.detail.root, lambda n: n.primitive == "tool.call")
            )
            await pilot.pause(0.3)
            await pilot.press("a")  # several artifacts: a list first, the stack is number 1
            await _until(pilot, lambda: isinstance(app.screen, ArtifactPicker), "artifact list")
            await pilot.press("1")
            await _until(pilot, lambda: isinstance(app.screen, ArtifactScreen), "artifact")
            save("error-stack")
            await pilot.press("escape")

            screen = await _open_run(app, pilot, "run_deadline")
            screen.timeline.select_span(
                _find(
                    screen.detail.root,
                    lambda n: n.status == "incomplete" and n.kind == "generation",
                )
            )
            await pilot.pause(0.3)
            save("incomplete")
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="screenshots", help="output folder")
    parser.add_argument("--size", default="140x40", help="terminal size, COLSxROWS")
    args = parser.parse_args(argv)
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    for path in asyncio.run(capture(Path(args.out), (cols, rows))):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
