"""LiveFeed against real servers: live events, reconnect after a restart, 404 -> polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from records import batch, simple_run
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.models import ObservabilityEvent
from crux_tui.live.feed import CONNECTING, LIVE, POLLING, RECONNECTING, RESYNC, LiveFeed

API = "/api/observability"


async def post(url: str, records: list[dict]) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(url + f"{API}/records", json=batch(records))
        assert r.status_code == 202


async def wait_state(states: list[str], wanted: str) -> None:
    while wanted not in states:
        await asyncio.sleep(0.02)


async def next_event(it, timeout: float = 10) -> ObservabilityEvent:  # type: ignore[no-untyped-def]
    return await asyncio.wait_for(it.__anext__(), timeout)


async def test_live_events_and_states(pinned_backend: EmbeddedBackend) -> None:
    states: list[str] = []
    feed = LiveFeed(pinned_backend.url, on_state=states.append)
    it = feed.events()
    before = int(time.time() * 1000)
    # a first connection cannot replay anything: the consumer is told to refresh
    resync = await next_event(it)
    assert (resync.kind, resync.action, resync.run_refs()) == (
        "observability.records",
        RESYNC,
        set(),
    )
    assert resync.payload == {"reason": "connected"}
    # stamped now, in epoch milliseconds, and named by it
    assert before <= resync.timestamp <= int(time.time() * 1000)
    assert resync.id == f"observability:resync:{resync.timestamp}"
    first = asyncio.ensure_future(next_event(it))
    await asyncio.wait_for(wait_state(states, LIVE), 10)
    await post(pinned_backend.url, simple_run("a"))
    event = await first
    assert (event.kind, event.refId, event.payload["revision"]) == ("observability.records", "a", 1)
    assert feed.last_event_id == "1" and feed.revision == 1
    assert states[:2] == ["connecting", "live"]
    await it.aclose()


async def test_reconnects_after_restart_with_last_event_id(
    make_backend: Callable[..., EmbeddedBackend], tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite3"
    first = make_backend(db=db, clock="2026-05-16T18:00:05Z")
    port = first.port
    states: list[str] = []
    feed = LiveFeed(first.url, on_state=states.append, initial_backoff=0.05, max_backoff=0.2)
    it = feed.events()
    assert (await next_event(it)).action == RESYNC
    pending = asyncio.ensure_future(next_event(it))
    await asyncio.wait_for(wait_state(states, LIVE), 10)
    await post(first.url, simple_run("a"))
    assert (await pending).refId == "a"

    pending = asyncio.ensure_future(next_event(it, 20))
    await asyncio.to_thread(first.stop)
    await asyncio.wait_for(wait_state(states, RECONNECTING), 10)
    second = make_backend(db=db, port=port, clock="2026-05-16T18:00:05Z")
    states.clear()
    await asyncio.wait_for(wait_state(states, LIVE), 20)
    await post(second.url, simple_run("b"))
    event = await pending
    # resumed with Last-Event-ID: what was missed is replayed, no resync
    assert event.refId == "b" and event.payload["revision"] == 2
    assert feed.last_event_id == "2"
    await it.aclose()


async def test_falls_back_to_polling_without_stream_route(
    serve_app: Callable[[object], str],
) -> None:
    revision = {"value": 4}

    async def delta(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", "0"))
        current = revision["value"]
        changes = (
            [{"entity": "run", "id": "run_x", "revision": current}] if current > since else None
        )
        return JSONResponse({"revision": current, "changes": changes, "expired": False})

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/delta", delta)]))
    states: list[str] = []
    feed = LiveFeed(url, on_state=states.append, poll_interval=0.05)
    it = feed.events()
    pending = asyncio.ensure_future(next_event(it))
    await asyncio.wait_for(wait_state(states, POLLING), 10)
    while feed.revision != 4:  # baseline taken from the first poll, no event for it
        await asyncio.sleep(0.02)
    revision["value"] = 5
    event = await pending
    assert (event.kind, event.action, event.refId) == ("observability.records", "ingested", "run_x")
    assert event.payload == {"runId": "run_x", "revision": 5}
    assert feed.state == POLLING
    await it.aclose()


async def test_feed_is_cancellable(backend: EmbeddedBackend) -> None:
    feed = LiveFeed(backend.url)

    async def consume() -> None:
        async for _ in feed:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done and task.cancelled()


async def test_states_tells_the_current_state_then_each_change(
    pinned_backend: EmbeddedBackend,
) -> None:
    """``states()`` yields the state now, then every state the feed takes, in order."""
    feed = LiveFeed(pinned_backend.url)
    states = feed.states()
    assert await asyncio.wait_for(anext(states), 5) == CONNECTING
    it = feed.events()
    pending = asyncio.ensure_future(next_event(it))
    assert await asyncio.wait_for(anext(states), 10) == CONNECTING  # the feed started
    assert await asyncio.wait_for(anext(states), 10) == LIVE
    assert (await pending).action == RESYNC
    await states.aclose()
    await it.aclose()


async def test_a_revision_the_consumer_read_counts_only_while_live(
    pinned_backend: EmbeddedBackend,
) -> None:
    """``note_revision``: views read while the feed is live are current, so a catch-up may
    start from their revision (never going back); read while it is not, they may be behind
    and are not taken."""
    feed = LiveFeed(pinned_backend.url)
    feed.note_revision(3)
    assert feed.revision is None  # not live yet
    it = feed.events()
    await next_event(it)
    assert feed.state == LIVE
    feed.note_revision(7)
    feed.note_revision(5)
    assert feed.revision == 7
    await it.aclose()
