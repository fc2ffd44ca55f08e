"""LiveFeed against the Go-shaped `crux dev` v5 stand-in: ``/ws/ui``, transport choice,
catch-up after a drop, ignored message types, deleted events, token.chunk thinning."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from gocrux import fixtures as fx
from gocrux.server import GoCrux
from gocrux.shapes import lifecycle_event, observability_event, token_chunk_event

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.models import ObservabilityEvent
from crux_tui.live.feed import (
    CONNECTING,
    LIVE,
    OFFLINE,
    POLL,
    POLLING,
    RECONNECTING,
    RESYNC,
    SSE,
    WS,
    LiveFeed,
)

from .proxy import TcpProxy

API = "/api/observability"


class Consumer:
    """Runs a feed in a task and keeps everything it yields and says."""

    def __init__(self, url: str, **options: Any) -> None:
        self.states: list[str] = []
        self.transports: list[tuple[str, str]] = []
        self.events: list[ObservabilityEvent] = []
        options.setdefault("ws_reconnect", 0.05)
        options.setdefault("initial_backoff", 0.05)
        self.feed = LiveFeed(
            url,
            on_state=self.states.append,
            on_transport=lambda t, note: self.transports.append((t, note)),
            **options,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Consumer:
        async def run() -> None:
            async for event in self.feed:
                self.events.append(event)

        self._task = asyncio.create_task(run())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def until(self, predicate: Callable[[], Any], what: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if self._task is not None and self._task.done():
                self._task.result()  # raise what killed it
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)
        return value

    def named(self, *ids: str) -> list[ObservabilityEvent]:
        return [e for e in self.events if e.run_refs() & set(ids)]

    def kinds(self) -> list[tuple[str, str]]:
        return [(e.kind, e.action) for e in self.events]


async def test_auto_picks_the_websocket_of_crux_dev(make_gocrux: Callable[..., GoCrux]) -> None:
    gocrux = make_gocrux(index_bytes=3_000_000)  # the first frame: a 3 MB project index
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.feed.state == LIVE, "live")
        assert c.transports == [(SSE, ""), (WS, "")] and c.feed.transport == WS
        # nothing can be replayed on a first connection: refresh what is shown
        await c.until(lambda: c.events, "resync")
        assert c.kinds() == [("observability.records", RESYNC)]
        assert c.events[0].payload == {"reason": "connected"}
        assert gocrux.count(f"{API}/stream") == 1  # asked once, 404, never again
        assert gocrux.count("/ws/ui", "WS") == 1
        revision = await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "the ingested event")
        event = c.named(fx.PLAIN)[0]
        assert (event.kind, event.action, event.payload) == (
            "observability.records",
            "ingested",
            {"operationId": fx.PLAIN, "entity": "operation", "revision": revision},
        )
        assert c.feed.revision == revision


async def test_every_other_message_type_is_ignored(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        for message in (
            {"type": "inspect:event", "_tag": "InspectEvent", "kind": "refresh", "event": {"x": 1}},
            {"type": "index:delta", "generation": 2},
            {"type": "index", "projectRoot": "/p", "generation": 3},
            {"type": "flow:snapshot", "flows": []},
            {"type": "runtime:snapshot", "memoryEvents": []},
            {"type": "runtime_bridge:event", "event": {"kind": "ready"}},
            {"type": "memory:event", "_tag": "MemoryStoreEvent", "event": {"refId": fx.CHAT}},
            {"type": "a-type-from-next-year", "event": {"refId": fx.CHAT}},
            {"no": "type"},
            {"type": "observability:event", "event": "not an object"},
        ):
            await gocrux.push(message)
        await gocrux.push_event(lifecycle_event(fx.CHILD_NOTIFY, "error"))
        await c.until(lambda: len(c.events) == 2, "the lifecycle event")
        event = c.events[1]
        assert (event.kind, event.refId, event.payload["status"]) == (
            "observability.lifecycle",
            fx.CHILD_NOTIFY,
            "error",
        )
        assert len(c.events) == 2
        # ignored, not taken as the end of the connection
        assert gocrux.count("/ws/ui", "WS") == 1 and RECONNECTING not in c.states


async def test_a_payload_sent_as_a_json_string_is_read(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        event = observability_event("observability.records", "ingested", "", {})
        event["payload"] = '{"operationIds": ["run_op_chat"], "revision": 40}'
        await gocrux.push_event(event)
        await c.until(lambda: c.named(fx.CHAT), "event")
        assert c.feed.revision == 40


async def test_deleted_event_without_id_or_timestamp(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        await gocrux.push_event(
            {
                "_tag": "ObservabilityEvent",
                "id": "",
                "timestamp": 0,
                "kind": "observability.records",
                "action": "deleted",
                "severity": "info",
                "refId": fx.CHAT,
                "payload": {"operationIds": [fx.CHAT, fx.PLAIN], "revision": 30},
            }
        )
        await c.until(lambda: c.named(fx.PLAIN), "deleted event")
        event = c.events[-1]
        assert (event.action, event.id, event.timestamp) == ("deleted", "", 0)
        assert event.run_refs() == {fx.CHAT, fx.PLAIN}
        assert c.feed.revision == 30


async def test_no_polling_while_the_socket_is_up(gocrux: GoCrux) -> None:
    # a poll interval this short would show dozens of requests if anything polled
    async with Consumer(gocrux.url, poll_interval=0.01) as c:
        await c.until(lambda: c.events, "connected")
        before = gocrux.requests()
        for _ in range(20):
            await gocrux.change(fx.PLAIN)
        await c.until(lambda: len(c.named(fx.PLAIN)) == 20, "twenty events")
        assert gocrux.requests() == before  # not one HTTP request, not one new socket
        assert c.feed.state == LIVE and c.feed.transport == WS


async def test_reconnects_after_a_drop_and_catches_up_with_the_delta(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        seen = await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "a first event")
        c.states.clear()
        await gocrux.drop_sockets()
        await c.until(lambda: RECONNECTING in c.states, "reconnecting")
        # changes the socket could not tell (nobody is connected)
        missed = await gocrux.change(fx.CHAT, notify=False)
        await c.until(lambda: c.named(fx.CHAT), "the catch-up")
        assert c.states[:2] == [RECONNECTING, LIVE]
        event = c.named(fx.CHAT)[0]
        assert (event.refId, event.payload["revision"]) == (fx.CHAT, missed)
        assert gocrux.count(f"{API}/runs/delta") == 1 and gocrux.count("/ws/ui", "WS") == 2
        assert [e.action for e in c.events].count(RESYNC) == 1  # only the first connection
        assert seen < missed == c.feed.revision


async def test_catch_up_past_the_delta_log_resyncs(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event")
        await gocrux.drop_sockets()
        missed = await gocrux.change(fx.CHAT, notify=False)
        gocrux.expire_log()
        await c.until(lambda: [e for e in c.events[1:] if e.action == RESYNC], "resync")
        assert c.events[-1].payload == {"reason": "expired", "revision": missed}
        assert not c.named(fx.CHAT)


async def test_a_failed_catch_up_resyncs(gocrux: GoCrux) -> None:
    """After a reconnect the feed cannot read what it missed (``runs/delta`` fails): it says
    so with a resync and stays live on the socket."""
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event")
        gocrux.delta_fails = True
        await gocrux.drop_sockets()
        await c.until(lambda: [e for e in c.events[1:] if e.action == RESYNC], "resync")
        assert c.events[-1].payload == {"reason": "catch-up failed"}
        await c.until(lambda: c.feed.state == LIVE, "live again")
        await gocrux.change(fx.CHAT)
        await c.until(lambda: c.named(fx.CHAT), "a live event after it")


async def test_a_crux_dev_served_with_a_token(make_gocrux: Callable[..., GoCrux]) -> None:
    """The token goes with the socket (``/ws/ui?t=``) and with the catch-up's ``runs/delta``:
    the feed stays on the socket and catches up after a drop."""
    gocrux = make_gocrux(token="tok")
    gocrux.expire_log()  # the log starts here: a catch-up must ask since what it has seen
    async with Consumer(gocrux.url, token="tok") as c:
        await c.until(lambda: c.feed.state == LIVE and c.events, "live")
        assert c.feed.transport == WS
        await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event on the socket")
        missed = await gocrux.change(fx.CHAT, notify=False)  # the socket does not say it
        await gocrux.drop_sockets()
        await c.until(lambda: c.named(fx.CHAT), "the catch-up")
        assert c.named(fx.CHAT)[0].payload["revision"] == missed
        assert [e.action for e in c.events].count(RESYNC) == 1
        assert c.feed.transport == WS


async def test_a_socket_whose_handshake_never_completes_is_given_up() -> None:
    """A server that accepts the connection and never answers the upgrade: after
    ``open_timeout`` the feed counts a failure and tries again (here: offline after one)."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}"
        async with Consumer(url, transport=WS, open_timeout=0.1, offline_after=2) as c:
            await c.until(lambda: c.feed.state == OFFLINE, "offline")
            assert len(accepted) >= 2
    finally:
        for writer in accepted:
            writer.close()
        server.close()


async def test_a_backend_that_started_afresh_resyncs(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event")
        await gocrux.drop_sockets()
        gocrux.revision, gocrux.log = 3, []  # restarted on a new database: revisions begin again
        await c.until(lambda: [e for e in c.events[1:] if e.action == RESYNC], "resync")
        assert c.events[-1].payload == {"reason": "reset", "revision": 3}
        assert c.feed.revision == 3


async def test_the_backend_going_down_and_up(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url, offline_after=2) as c:
        await c.until(lambda: c.events, "connected")
        await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event")
        await asyncio.to_thread(gocrux.go_down)
        await c.until(lambda: OFFLINE in c.states, "offline")
        await gocrux.change(fx.CHAT, notify=False)
        await asyncio.to_thread(gocrux.go_up)
        await c.until(lambda: c.named(fx.CHAT), "the catch-up")
        assert c.feed.state == LIVE and c.feed.transport == WS


async def test_token_chunk_bursts_are_thinned_to_one_a_second_per_run(gocrux: GoCrux) -> None:
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        for n in range(40):
            await gocrux.push_event(token_chunk_event(fx.CHILD_SUM, "sp_sum_gen", n, f"t{n} "))
        tokens = lambda: [e for e in c.events if e.kind == "token.chunk"]  # noqa: E731
        # the last chunk of the burst always comes through (held, then released)
        await c.until(
            lambda: any(e.payload["eventId"] == "evt_39" for e in tokens()), "the last chunk"
        )
        assert tokens()[0].payload["eventId"] == "evt_0"
        assert len(tokens()) < 10  # not forty refetch triggers
        assert tokens()[0].refId == fx.CHILD_SUM


async def test_forced_transports(make_gocrux: Callable[..., GoCrux]) -> None:
    gocrux = make_gocrux()
    async with Consumer(gocrux.url, transport=POLL, poll_interval=0.05) as c:
        await c.until(lambda: c.feed.state == POLLING and c.feed.revision == 10, "polling")
        await gocrux.change(fx.PLAIN, notify=False)
        await c.until(lambda: c.named(fx.PLAIN), "a polled change")
        assert gocrux.count("/ws/ui", "WS") == 0 and gocrux.count(f"{API}/stream") == 0
    async with Consumer(gocrux.url, transport=SSE, max_backoff=0.05) as c:
        await c.until(lambda: c.feed.state == OFFLINE, "offline")
        assert c.transports[-1] == (SSE, f"no SSE route ({API}/stream) at this backend")
    async with Consumer(gocrux.url, transport=WS) as c:
        await c.until(lambda: c.feed.state == LIVE, "live")
        assert c.transports == [(WS, "")]


async def test_auto_polls_a_backend_without_stream_or_socket(
    make_gocrux: Callable[..., GoCrux],
) -> None:
    gocrux = make_gocrux(websocket=False)
    async with Consumer(gocrux.url, poll_interval=0.05) as c:
        await c.until(lambda: c.feed.state == POLLING and c.feed.revision == 10, "polling")
        assert [t for t, _ in c.transports] == [SSE, WS, POLL]
        await gocrux.change(fx.CHAT, notify=False)
        await c.until(lambda: c.named(fx.CHAT), "a polled change")
        assert gocrux.count("/ws/ui", "WS") == 1 and gocrux.count(f"{API}/stream") == 1


async def test_auto_picks_sse_on_the_embedded_backend(pinned_backend: EmbeddedBackend) -> None:
    async with Consumer(pinned_backend.url) as c:
        await c.until(lambda: c.feed.state == LIVE, "live")
        assert c.transports == [(SSE, "")]


def test_unknown_transport_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown live transport"):
        LiveFeed("http://127.0.0.1:1", transport="carrier-pigeon")


async def test_a_reconnect_that_missed_nothing_says_nothing(gocrux: GoCrux) -> None:
    """A catch-up whose delta is at the revision the feed has (nothing missed) yields no
    event and no resync."""
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event")
        await gocrux.drop_sockets()
        await c.until(lambda: gocrux.count(f"{API}/runs/delta") == 1, "the catch-up")
        await c.until(lambda: c.feed.state == LIVE, "live again")
        await gocrux.change(fx.CHAT)
        await c.until(lambda: c.named(fx.CHAT), "the next live event")
    assert [(e.action, e.refId) for e in c.events] == [
        (RESYNC, ""),
        ("ingested", fx.PLAIN),
        ("ingested", fx.CHAT),
    ]


async def test_a_revision_that_is_not_a_number_is_ignored(gocrux: GoCrux) -> None:
    """An event whose ``revision`` is not an integer leaves the revision the feed has."""
    async with Consumer(gocrux.url) as c:
        await c.until(lambda: c.events, "connected")
        seen = await gocrux.change(fx.PLAIN)
        await c.until(lambda: c.named(fx.PLAIN), "an event")
        await gocrux.push_event(
            observability_event(
                "observability.records",
                "ingested",
                fx.CHAT,
                {"operationId": fx.CHAT, "revision": "99"},
            )
        )
        await c.until(lambda: c.named(fx.CHAT), "the odd event")
        assert c.feed.revision == seen


class StatusServer:
    """Answers every request (the WebSocket upgrade too) with one HTTP status; notes the
    feed's state as each connection arrives."""

    def __init__(self, status: int, note: Callable[[], Any]) -> None:
        self.status = status
        self.note = note
        self.seen: list[Any] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> StatusServer:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.seen.append(self.note())
            with contextlib.suppress(OSError):
                await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    f"HTTP/1.1 {self.status} Status\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                await writer.drain()
            writer.close()

        self._server = await asyncio.start_server(answer, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()


@pytest.mark.parametrize("status", [400, 402, 403, 404, 430, 499])
async def test_an_upgrade_refused_with_a_client_error_means_no_socket_here(status: int) -> None:
    """A 4xx answer to the upgrade (but 401, 408 and 429) says this backend has no
    ``/ws/ui``: the forced transport is reported missing, with the status."""
    c: Consumer | None = None
    async with StatusServer(status, lambda: c.feed.state if c else None) as server:
        c = Consumer(server.url, transport=WS, max_backoff=0.05)
        async with c:
            await c.until(lambda: c.feed.state == OFFLINE, "offline")
    assert c.transports[-1] == (WS, f"no WebSocket (/ws/ui) at this backend (HTTP {status})")


@pytest.mark.parametrize("status", [401, 408, 429, 500, 503])
async def test_an_upgrade_refused_for_now_is_retried(status: int) -> None:
    """401, 408, 429 and 5xx answers to the upgrade may pass: each is a failed connection
    (the second in a row says ``offline``), the socket is tried again."""
    c: Consumer | None = None
    async with StatusServer(status, lambda: c.feed.state if c else None) as server:
        c = Consumer(server.url, transport=WS, ws_reconnect=0.01, offline_after=2)
        async with c:
            await c.until(lambda: len(server.seen) >= 4, "four attempts")
    assert server.seen[:4] == [CONNECTING, RECONNECTING, OFFLINE, OFFLINE]
    assert c.transports == [(WS, "")]


async def test_socket_failures_count_to_offline_and_start_over_once_connected(
    gocrux: GoCrux,
) -> None:
    """Through a proxy that refuses, then passes, then cuts: each refused socket is a
    failure (the third in a row says ``offline``), waiting ``ws_reconnect`` before the next;
    a socket that connected starts the count over."""
    seen: list[tuple[str, float | None]] = []
    async with TcpProxy(gocrux.url) as proxy:
        proxy.refusing = True
        async with Consumer(proxy.url, transport=WS, ws_reconnect=0.01, offline_after=3) as c:
            proxy.on_connect = lambda n: seen.append((c.feed.state, c.feed.retry_delay))
            await c.until(lambda: len(seen) >= 4, "four refused sockets")
            proxy.refusing = False
            await c.until(lambda: c.feed.state == LIVE, "live")
            connected = len(seen)
            proxy.refusing = True
            proxy.cut()
            await c.until(lambda: len(seen) >= connected + 3, "three sockets after the cut")

    assert seen[:4] == [
        (CONNECTING, None),
        (RECONNECTING, 0.01),
        (RECONNECTING, 0.01),
        (OFFLINE, 0.01),
    ]
    assert seen[connected : connected + 3] == [
        (RECONNECTING, 0.01),
        (RECONNECTING, 0.01),
        (OFFLINE, 0.01),
    ]


async def test_a_dropped_socket_is_tried_again_two_seconds_on_by_default(gocrux: GoCrux) -> None:
    """Unless told otherwise, a feed whose socket dropped waits 2 s before it connects again
    (then catches up with ``runs/delta``): the wait it says is coming is those 2 s."""
    async with TcpProxy(gocrux.url) as proxy:
        feed = LiveFeed(proxy.url, transport=WS)

        async def run() -> None:
            async for _ in feed:
                pass

        task = asyncio.create_task(run())
        try:
            deadline = time.monotonic() + 15
            while feed.state != LIVE:
                assert time.monotonic() < deadline and not task.done(), "live"
                await asyncio.sleep(0.01)
            proxy.refusing = True
            proxy.cut()
            while feed.state != RECONNECTING:
                assert time.monotonic() < deadline and not task.done(), "reconnecting"
                await asyncio.sleep(0.01)
            assert feed.retry_delay == 2.0
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
