"""LiveFeed polling ``runs/delta`` (forced ``poll``) against real servers: the revision it
asks from, the events it makes of a delta (and of which changes), the resyncs it asks for,
the token it carries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.live.feed import POLL, RESYNC

from .test_feed_reconnect import post
from .test_feed_ws import Consumer

API = "/api/observability"


class DeltaServer:
    """``runs/delta`` as the test sets it: ``revision``, ``changes`` (sent whatever ``since``
    says, as a sloppy backend might) and ``expired``; every ``since`` asked is kept."""

    def __init__(self, revision: int, changes: list[tuple[str, int]] | None = None) -> None:
        self.revision = revision
        self.changes = changes or []
        self.expired = False
        self.asked: list[str | None] = []
        self.token = "tok"

    def app(self) -> Starlette:
        async def delta(request: Request) -> Response:
            if request.query_params.get("t") != self.token:
                return PlainTextResponse("unauthorized\n", 401)
            self.asked.append(request.query_params.get("since"))
            changes = [{"entity": "run", "id": i, "revision": r} for i, r in self.changes]
            return JSONResponse(
                {"revision": self.revision, "changes": changes or None, "expired": self.expired}
            )

        return Starlette(routes=[Route(f"{API}/runs/delta", delta)])


def polled(server: DeltaServer, url: str, **options: Any) -> Consumer:
    return Consumer(url, token=server.token, transport=POLL, poll_interval=0.01, **options)


def not_resyncs(c: Consumer) -> list[tuple[str | None, Any]]:
    return [(e.refId, e.payload) for e in c.events if e.action != RESYNC]


async def test_polling_makes_events_of_the_changes_after_the_revision_it_has(
    serve_app: Callable[[Any], str],
) -> None:
    """The first poll is the baseline (no event); each later one asks ``since`` the newest
    revision seen and makes one ``ingested`` event per change above it (a change at that
    revision or below it is old news), stamped now in epoch milliseconds."""
    server = DeltaServer(4, [("run_old", 4)])
    url = serve_app(server.app())
    before = int(time.time() * 1000)
    async with polled(server, url) as c:
        await c.until(lambda: c.feed.revision == 4, "the baseline")
        server.changes, server.revision = [("run_old", 4), ("run_x", 5)], 5
        await c.until(lambda: c.named("run_x"), "run_x")
        server.changes, server.revision = [("run_x", 5), ("run_y", 7)], 7
        await c.until(lambda: c.named("run_y"), "run_y")
        await c.until(lambda: server.asked[-1] == "7", "a poll since 7")
    after = int(time.time() * 1000)

    assert not_resyncs(c) == [
        ("run_x", {"runId": "run_x", "revision": 5}),
        ("run_y", {"runId": "run_y", "revision": 7}),
    ]
    assert server.asked[0] == "0"  # the baseline asks from the start
    assert "4" in server.asked and "5" in server.asked
    for event in c.events:
        assert (event.kind, event.action) == ("observability.records", "ingested")
        assert before <= event.timestamp <= after
        assert event.id == f"observability:{event.refId}:{event.timestamp}"


async def test_polling_starts_from_the_revision_the_feed_already_has(
    serve_app: Callable[[Any], str],
) -> None:
    """A feed that knows revision 4 (from another transport, or its consumer) polls from
    there: the first delta's newer changes are events, not a baseline."""
    server = DeltaServer(6, [("run_x", 6)])
    url = serve_app(server.app())
    async with polled(server, url) as c:
        c.feed.revision = 4
        await c.until(lambda: c.named("run_x"), "run_x")
    assert server.asked[0] == "4"
    assert not_resyncs(c)[0] == ("run_x", {"runId": "run_x", "revision": 6})


async def test_polling_resyncs_when_the_log_expired_or_the_backend_started_afresh(
    serve_app: Callable[[Any], str],
) -> None:
    """``expired`` (the delta log no longer reaches back to ``since``) and a revision below
    ``since`` (a backend started on a new database) cannot say what changed: a resync naming
    why and the revision, from which polling goes on."""
    server = DeltaServer(8)
    url = serve_app(server.app())
    async with polled(server, url) as c:
        await c.until(lambda: c.feed.revision == 8, "the baseline")
        server.revision, server.expired = 12, True
        await c.until(lambda: [e for e in c.events if e.action == RESYNC], "a resync")
        server.expired = False
        await c.until(lambda: c.feed.revision == 12, "revision 12")
        server.revision = 3
        await c.until(lambda: len([e for e in c.events if e.action == RESYNC]) == 2, "reset")
        await c.until(lambda: c.feed.revision == 3, "revision 3")
        server.changes, server.revision = [("run_z", 4)], 4
        await c.until(lambda: c.named("run_z"), "run_z after the reset")
        await c.until(lambda: server.asked[-1] == "4", "a poll since 4")

    resyncs = [e.payload for e in c.events if e.action == RESYNC]
    assert resyncs == [{"reason": "expired", "revision": 12}, {"reason": "reset", "revision": 3}]
    assert not_resyncs(c) == [("run_z", {"runId": "run_z", "revision": 4})]


async def test_polling_a_backend_with_a_token(make_backend: Callable[..., EmbeddedBackend]) -> None:
    """The token goes with every poll (``?t=``): a backend served with one answers them."""
    backend = make_backend(token="sekrit")
    async with Consumer(backend.url, token="sekrit", transport=POLL, poll_interval=0.01) as c:
        await c.until(lambda: c.feed.revision == 0, "the baseline")
        await post(backend.url, "a", token="sekrit")
        await c.until(lambda: c.named("a"), "a")
    assert c.feed.state != "offline"
