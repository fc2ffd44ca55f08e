"""The SSE stream: ingest and lifecycle events, Last-Event-ID replay, keep-alive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from records import batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend

API = "/api/observability"


async def sse_lines(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[str]:
    async with client.stream("GET", url, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            yield line


async def collect_events(
    url: str,
    count: int,
    headers: dict[str, str] | None = None,
    started: asyncio.Event | None = None,
) -> list[tuple[int, dict]]:
    out: list[tuple[int, dict]] = []
    current_id = None
    async with httpx.AsyncClient(timeout=10) as client:
        async for line in sse_lines(client, url, headers):
            if started is not None and line.startswith(":"):
                started.set()
            if line.startswith("id: "):
                current_id = int(line[4:])
            elif line.startswith("data: "):
                assert current_id is not None
                out.append((current_id, json.loads(line[6:])))
                if len(out) >= count:
                    return out
    return out


async def post(backend: EmbeddedBackend, records: list[dict]) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(backend.url + f"{API}/records", json=batch(records))
        assert r.status_code == 202


async def test_ingest_events_are_streamed(pinned_backend: EmbeddedBackend) -> None:
    started = asyncio.Event()
    task = asyncio.create_task(
        collect_events(pinned_backend.url + f"{API}/stream", 2, started=started)
    )
    await asyncio.wait_for(started.wait(), 10)
    await post(pinned_backend, simple_run("a") + simple_run("b"))
    events = await asyncio.wait_for(task, 10)
    # one event per operation (crux-v5.md D.4): a v2 run is its own operation
    assert [e["payload"]["operationId"] for _, e in events] == ["a", "b"]
    for seq, event in events:
        assert event["_tag"] == "ObservabilityEvent"
        assert (event["kind"], event["action"], event["severity"]) == (
            "observability.records",
            "ingested",
            "info",
        )
        assert event["refId"] == event["payload"]["operationId"]
        assert event["payload"]["entity"] == "operation"
        assert event["payload"]["revision"] == seq
        assert event["payload"]["traceId"] == "trace_" + event["refId"]
    assert [seq for seq, _ in events] == [1, 2]


async def test_last_event_id_replays_later_events(pinned_backend: EmbeddedBackend) -> None:
    for run in ("a", "b", "c"):
        await post(pinned_backend, simple_run(run))
    events = await asyncio.wait_for(
        collect_events(pinned_backend.url + f"{API}/stream", 2, {"Last-Event-ID": "1"}), 10
    )
    assert [(seq, e["refId"]) for seq, e in events] == [(2, "b"), (3, "c")]


async def test_keepalive_comment(pinned_backend: EmbeddedBackend) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        comments = []
        async for line in sse_lines(client, pinned_backend.url + f"{API}/stream"):
            if line.startswith(": keep-alive"):
                comments.append(line)
                break
    assert comments == [": keep-alive"]


async def test_lifecycle_event_when_run_goes_stale(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    backend = make_backend(clock="2026-05-16T18:30:00Z", lifecycle_interval=0.1)
    await post(backend, simple_run("open", ended=False))
    events = await asyncio.wait_for(
        collect_events(backend.url + f"{API}/stream", 2, {"Last-Event-ID": "0"}), 20
    )
    kinds = [(e["kind"], e["refId"]) for _, e in events]
    assert kinds == [("observability.records", "open"), ("observability.lifecycle", "open")]
    lifecycle = events[1][1]
    assert lifecycle["action"] == "reconciled" and lifecycle["severity"] in ("warn", "error")
    assert lifecycle["payload"]["status"] not in ("running", "")
    assert set(lifecycle["payload"]) >= {"runId", "status", "reason"}
    async with httpx.AsyncClient() as client:
        row = (await client.get(backend.url + f"{API}/runs/page")).json()["rows"][0]
    assert row["status"] == lifecycle["payload"]["status"]


@pytest.mark.parametrize("header", ["abc", "", "X1", "evt-1"])
async def test_bad_last_event_id_is_ignored(pinned_backend: EmbeddedBackend, header: str) -> None:
    """An id that is not a number (another backend's, such as ``X1`` or ``evt-1``) is not
    one of ours: the stream starts from now, as without one."""
    started = asyncio.Event()
    task = asyncio.create_task(
        collect_events(pinned_backend.url + f"{API}/stream", 1, {"Last-Event-ID": header}, started)
    )
    await asyncio.wait_for(started.wait(), 10)
    await post(pinned_backend, simple_run("z"))
    events = await asyncio.wait_for(task, 10)
    assert events[0][1]["refId"] == "z"


async def test_last_event_id_resumes_after_a_restart_from_the_change_log(
    make_backend: Callable[..., EmbeddedBackend], tmp_path
) -> None:
    db = tmp_path / "devtools.sqlite3"
    first = make_backend(db=db, clock="2026-05-16T18:00:05Z")
    await post(first, simple_run("run_before"))
    seen = first.store.revision()
    await post(first, simple_run("run_while_away_1"))
    await post(first, simple_run("run_while_away_2"))
    first.stop()

    second = make_backend(db=db, clock="2026-05-16T18:00:05Z")  # empty in-memory ring
    events = await asyncio.wait_for(
        collect_events(second.url + f"{API}/stream", 2, {"Last-Event-ID": str(seen)}), 10
    )
    assert [e["payload"]["operationId"] for _, e in events] == [
        "run_while_away_1",
        "run_while_away_2",
    ]
    assert all(seq > seen for seq, _ in events)


async def test_an_ended_run_presented_otherwise_is_listed_and_announced_so(
    pinned_backend: EmbeddedBackend,
) -> None:
    """A run that ended ok around a suspended flow is presented suspended; the list (and its
    status filter) says so once the run is projected, and a lifecycle event announces it."""
    from crux_tui.demo.scenarios import SCENARIOS

    plan = next(s for s in SCENARIOS if s.run_id == "run_plan_approval")
    await post(pinned_backend, plan.build(*_scenario_args()).records)
    events = await asyncio.wait_for(
        collect_events(pinned_backend.url + f"{API}/stream", 2, {"Last-Event-ID": "0"}), 20
    )
    lifecycle = events[-1][1]
    assert (lifecycle["kind"], lifecycle["refId"]) == (
        "observability.lifecycle",
        "run_plan_approval",
    )
    assert lifecycle["payload"]["status"] == "suspended"
    async with httpx.AsyncClient() as client:
        page = (await client.get(pinned_backend.url + f"{API}/runs/page?status=suspended")).json()
        detail = (await client.get(pinned_backend.url + f"{API}/runs/run_plan_approval")).json()
    assert [row["runId"] for row in page["rows"]] == ["run_plan_approval"]
    assert page["rows"][0]["status"] == detail["run"]["status"] == detail["root"]["status"]


def _scenario_args() -> tuple:
    import random
    from datetime import UTC, datetime

    return random.Random(7), datetime(2026, 5, 16, 18, 0, 0, tzinfo=UTC)
