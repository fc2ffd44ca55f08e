"""Helpers for app tests: wall-clock v2 records, posting over HTTP, bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from records import RunBuilder


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ago(seconds: float) -> str:
    return iso(datetime.now(UTC) - timedelta(seconds=seconds))


class RunRecords(RunBuilder):
    """:class:`records.RunBuilder` with wall-clock times, for screens that show "5 s ago".

    Times are absolute RFC3339 strings (default: the run started 5 s ago, things end now).
    """

    def __init__(
        self,
        run_id: str,
        *,
        name: str = "chat",
        root_primitive: str = "agent.run",
        started: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        super().__init__(run_id, trace_id=trace_id or ("t" + run_id).ljust(32, "0")[:32])
        self.name = name
        self.root_primitive = root_primitive
        self.started = started or ago(5)

    def run_start(self, **extra: Any) -> dict[str, Any]:  # type: ignore[override]
        assert self.seq == 0, "run:start must be the first record"
        return super().run_start(self.name, self.root_primitive, at=self.started, **extra)

    def run_end(  # type: ignore[override]
        self, status: str = "ok", ended: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        return super().run_end(status, at=ended or ago(0), **extra)

    def span_start(  # type: ignore[override]
        self,
        span_id: str,
        primitive: str,
        name: str,
        *,
        parent: str | None = None,
        started: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return super().span_start(
            span_id, primitive, parent=parent, name=name, at=started or self.started, **extra
        )

    def span_end(  # type: ignore[override]
        self, span_id: str, status: str = "ok", ended: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        return super().span_end(span_id, status, at=ended or ago(0), **extra)

    def event(  # type: ignore[override]
        self,
        span_id: str,
        name: str,
        attributes: dict[str, Any] | None = None,
        ts: str | None = None,
    ) -> dict[str, Any]:
        return super().event(span_id, name, at=ts or ago(1), attributes=attributes or {})

    def artifact(  # type: ignore[override]
        self,
        span_id: str,
        kind: str,
        preview: Any,
        *,
        content_type: str = "application/json",
        encoding: str = "json",
        size: int | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._record(
            "artifact",
            artifactId=f"art_{self.run_id}_{self.seq + 1}",
            spanId=span_id,
            kind=kind,
            createdAt=ago(1),
            contentType=content_type,
            encoding=encoding,
            preview=preview,
            sizeBytes=size,
            attributes=attributes or None,
        )


async def post_records(url: str, records: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        version = records[0].get("schemaVersion", 2) if records else 2  # the records' own
        response = await client.post(
            "/api/observability/records", json={"schemaVersion": version, "records": records}
        )
    assert response.status_code in (200, 202), response.text
    body = response.json()
    rejected = [d for d in body.get("dispositions") or [] if d.get("outcome") != "accepted"]
    assert not rejected, rejected


def simple_run(
    run_id: str, name: str, *, status: str = "ok", started: str | None = None
) -> list[dict[str, Any]]:
    """A finished (or running) one-generation agent run."""
    r = RunRecords(run_id, name=name, started=started)
    records = [
        r.run_start(),
        r.span_start(f"{run_id}_agent", "agent.run", name, agentId=name),
        r.span_start(
            f"{run_id}_gen",
            "generation.call",
            "generate reply",
            parent=f"{run_id}_agent",
            model="gpt-4o",
            provider="openai",
        ),
    ]
    if status != "running":
        records += [
            r.span_end(
                f"{run_id}_gen",
                status,
                metrics={
                    "inputTokens": 40,
                    "outputTokens": 20,
                    "totalTokens": 60,
                    "costUsd": 0.0042,
                },
            ),
            r.span_end(f"{run_id}_agent", status),
            r.run_end(status),
        ]
    return records


async def wait_for(
    pilot: Any, predicate: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition"
) -> Any:
    """Let the app run until ``predicate()`` is truthy (bounded; no timing assertions)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # widgets may not be mounted yet
            value = None
        if value:
            await pilot.pause()  # let the screen repaint what the state now says
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)


def screen_text(app: Any) -> str:
    """The rendered text of the current screen, exactly the characters a terminal gets."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=False
    )
    console.print(update)
    return console.export_text(styles=False)


async def open_first_run(app: Any, pilot: Any) -> Any:
    """From the runs list: enter on the first (newest) run; its screen once rows are shown."""
    from crux_tui.app.screens.run import RunScreen
    from crux_tui.app.screens.runs import RunsScreen

    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count,
        what="a run listed",
    )
    await pilot.press("enter")
    return await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.timeline.rows and app.screen,
        what="the run open",
    )
