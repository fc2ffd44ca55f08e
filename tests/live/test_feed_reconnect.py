"""LiveFeed across broken connections: a real TCP proxy (``proxy.py``) between the feed and
the real embedded backend cuts or refuses connections while the backend goes on taking
records. The rules: no event is lost across a reconnect (``Last-Event-ID``); the wait
before a reconnect doubles up to its cap and starts again after a connection delivered;
repeated failures say ``offline``, for the stream and for polling.

The waits are observed, not timed: ``LiveFeed.retry_delay`` read as each connection
reaches the proxy (the feed is then waiting on it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from records import batch, simple_run
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.live.feed import CONNECTING, LIVE, OFFLINE, POLL, POLLING, RECONNECTING, RESYNC, SSE

from .proxy import TcpProxy
from .test_feed_ws import Consumer

API = "/api/observability"


async def post(url: str, run_id: str, token: str | None = None) -> None:
    params = {"t": token} if token else {}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url + f"{API}/records", json=batch(simple_run(run_id)), params=params
        )
        assert response.status_code == 202


def header(request: bytes, name: bytes) -> bytes | None:
    for line in request.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


async def test_events_sent_while_the_connection_was_cut_arrive_after_the_reconnect(
    backend: EmbeddedBackend,
) -> None:
    """The feed reconnects with ``Last-Event-ID`` (the id of the last event it read), so the
    backend replays what it published while the feed was cut off: nothing is lost, and no
    resync is needed."""
    async with (
        TcpProxy(backend.url) as proxy,
        Consumer(proxy.url, transport=SSE, initial_backoff=0.02, max_backoff=0.05) as c,
    ):
        await c.until(lambda: c.feed.state == LIVE, "live")
        await post(backend.url, "a")
        await c.until(lambda: c.named("a"), "the event of a")
        assert c.feed.last_event_id == "1"

        proxy.refusing = True
        proxy.cut()
        await c.until(lambda: RECONNECTING in c.states, "the cut to be noticed")
        await post(backend.url, "b")  # the feed cannot hear this one now
        proxy.refusing = False
        await c.until(lambda: c.states.count(LIVE) == 2, "live again")
        await post(backend.url, "c")
        await c.until(lambda: c.named("c"), "the event of c")

    assert [e.refId for e in c.events if e.action != RESYNC] == ["a", "b", "c"]
    assert [e.action for e in c.events].count(RESYNC) == 1  # only the first connection's
    sent = [header(request, b"Last-Event-ID") for request in proxy.requests]
    assert sent[0] is None and sent[-1] == b"1"


async def test_the_stream_retry_delay_doubles_to_its_cap_and_resets_after_a_delivery(
    backend: EmbeddedBackend,
) -> None:
    """While connections are refused the wait doubles (0.01, 0.02, 0.04, then the 0.08 cap)
    and the third failure in a row says ``offline``; once a connection delivered an event,
    the next failure waits ``initial_backoff`` again and says ``reconnecting``."""
    seen: list[tuple[str, float | None]] = []
    async with TcpProxy(backend.url) as proxy:
        proxy.refusing = True
        options: dict[str, Any] = {"initial_backoff": 0.01, "max_backoff": 0.08}
        async with Consumer(proxy.url, transport=SSE, offline_after=3, **options) as c:
            proxy.on_connect = lambda n: seen.append((c.feed.state, c.feed.retry_delay))
            await c.until(lambda: len(seen) >= 7, "seven refused connections")
            proxy.refusing = False
            await c.until(lambda: c.feed.state == LIVE and c.events, "a delivering connection")
            delivered = len(seen)
            proxy.refusing = True
            proxy.cut()
            await c.until(lambda: len(seen) >= delivered + 2, "two reconnects after the cut")

    assert seen[:7] == [
        (CONNECTING, None),
        (RECONNECTING, 0.01),
        (RECONNECTING, 0.02),
        (OFFLINE, 0.04),
        (OFFLINE, 0.08),
        (OFFLINE, 0.08),
        (OFFLINE, 0.08),
    ]
    assert seen[delivered : delivered + 2] == [(RECONNECTING, 0.01), (RECONNECTING, 0.02)]


async def test_polling_failures_report_offline_and_a_good_poll_clears_it(
    backend: EmbeddedBackend,
) -> None:
    """Polling ``runs/delta``: a failed poll keeps ``polling`` until the second in a row, which
    says ``offline``; the first poll that is answered says ``polling`` again, and the count
    starts over (one failure after it is not ``offline``)."""
    seen: list[str] = []
    async with TcpProxy(backend.url, keep_alive=False) as proxy:  # one poll, one connection
        proxy.refusing = True
        async with Consumer(proxy.url, transport=POLL, poll_interval=0.01, offline_after=2) as c:
            proxy.on_connect = lambda n: seen.append(c.feed.state)
            await c.until(lambda: len(seen) >= 4, "four refused polls")
            proxy.refusing = False
            await c.until(lambda: c.states[-1] == POLLING and len(c.states) > 3, "an answer")
            answered = len(seen)
            proxy.refusing = True
            await c.until(lambda: len(seen) >= answered + 3, "three polls refused again")

    assert seen[:4] == [POLLING, POLLING, OFFLINE, OFFLINE]
    assert seen[answered : answered + 3] == [POLLING, POLLING, OFFLINE]
    assert c.states == [CONNECTING, POLLING, OFFLINE, POLLING, OFFLINE]


async def test_the_stream_carries_the_token(make_backend: Callable[..., EmbeddedBackend]) -> None:
    """A backend served with a token: the stream is asked with ``?t=`` and goes live."""
    backend = make_backend(token="sekrit")
    async with Consumer(backend.url, token="sekrit", transport=SSE) as c:
        await c.until(lambda: c.feed.state == LIVE, "live")
        await post(backend.url, "a", token="sekrit")
        await c.until(lambda: c.named("a"), "the event of a")


def scripted_stream(status: int, body: bytes = b"") -> Starlette:
    """A ``/stream`` route that answers ``status`` with ``body`` and ends."""

    async def stream(request: Request) -> Response:
        return Response(body, status, media_type="text/event-stream")

    return Starlette(routes=[Route(f"{API}/stream", stream)])


async def test_a_stream_answered_with_an_error_status_is_a_failure(
    serve_app: Callable[[Any], str],
) -> None:
    """``/stream`` answered 500: each attempt is a failed connection (the feed goes on, and
    the second in a row says ``offline``), not the end of the feed."""
    url = serve_app(scripted_stream(500))
    options: dict[str, Any] = {"initial_backoff": 0.01, "max_backoff": 0.02}
    async with Consumer(url, transport=SSE, offline_after=2, **options) as c:
        await c.until(lambda: c.feed.state == OFFLINE, "offline")
    assert c.states == [CONNECTING, RECONNECTING, OFFLINE] and c.events == []


async def test_a_stream_the_server_ends_is_not_a_failure(serve_app: Callable[[Any], str]) -> None:
    """A stream the server ends cleanly (a shutdown) is reconnected without counting a
    failure: even with ``offline_after=1`` the feed only says ``reconnecting``."""
    url = serve_app(scripted_stream(200, b": bye\n\n"))
    options: dict[str, Any] = {"initial_backoff": 0.01, "max_backoff": 0.02}
    async with Consumer(url, transport=SSE, offline_after=1, **options) as c:
        await c.until(lambda: c.states.count(LIVE) >= 3, "three connections")
    assert OFFLINE not in c.states and RECONNECTING in c.states
