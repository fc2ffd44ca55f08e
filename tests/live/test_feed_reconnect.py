"""LiveFeed across broken connections: a real TCP proxy (``proxy.py``) between the feed and
the real embedded backend cuts or refuses connections while the backend goes on taking
records. The rules: no event is lost across a reconnect (``Last-Event-ID``); the wait
before a reconnect doubles up to its cap and starts again after a connection delivered;
repeated failures say ``offline``, for the stream and for polling.

The waits are observed, not timed: ``LiveFeed.retry_delay`` read as each connection
reaches the proxy (the feed is then waiting on it)."""

from __future__ import annotations

from typing import Any

import httpx
from records import batch, simple_run

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
    """Polling ``runs/delta``: a failed poll keeps ``polling`` until the third in a row, which
    says ``offline``; the first poll that is answered says ``polling`` again."""
    seen: list[str] = []
    async with TcpProxy(backend.url) as proxy:
        proxy.refusing = True
        async with Consumer(proxy.url, transport=POLL, poll_interval=0.01, offline_after=3) as c:
            proxy.on_connect = lambda n: seen.append(c.feed.state)
            await c.until(lambda: len(seen) >= 5, "five refused polls")
            proxy.refusing = False
            await c.until(lambda: c.states[-1] == POLLING and len(c.states) > 3, "an answer")

    assert seen[:5] == [POLLING, POLLING, POLLING, OFFLINE, OFFLINE]
    assert c.states == [CONNECTING, POLLING, OFFLINE, POLLING]
