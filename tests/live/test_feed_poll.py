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
from crux_tui.live.feed import OFFLINE, POLL, RESYNC

from .test_feed_reconnect import post
from .test_feed_ws import Consumer

API = "/api/observability"


Answer = tuple[int, list[tuple[str, int]], bool]


class DeltaServer:
    """``runs/delta`` answering a script: each poll gets the next ``(revision, changes,
    expired)`` (the last one again once the script is done), whatever ``since`` says, as a
    sloppy backend might; every ``since`` asked is kept. It wants the token ``tok``."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.asked: list[str | None] = []
        self.token = "tok"

    def app(self) -> Starlette:
        async def delta(request: Request) -> Response:
            if request.query_params.get("t") != self.token:
                return PlainTextResponse("unauthorized\n", 401)
            self.asked.append(request.query_params.get("since"))
            revision, changes, expired = (
                self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            )
            body = [{"entity": "run", "id": i, "revision": r} for i, r in changes]
            return JSONResponse({"revision": revision, "changes": body or None, "expired": expired})

        return Starlette(routes=[Route(f"{API}/runs/delta", delta)])


def polled(server: DeltaServer, url: str, **options: Any) -> Consumer:
    options.setdefault("token", server.token)
    return Consumer(url, transport=POLL, poll_interval=0.01, **options)


def not_resyncs(c: Consumer) -> list[tuple[str | None, Any]]:
    return [(e.refId, e.payload) for e in c.events if e.action != RESYNC]


async def test_polling_makes_events_of_the_changes_after_the_revision_it_has(
    serve_app: Callable[[Any], str],
) -> None:
    """The first poll is the baseline (no event); each later one asks ``since`` the newest
    revision seen and makes one ``ingested`` event per change above it (a change at that
    revision or below it is old news, and a delta at that revision is no news), stamped now
    in epoch milliseconds."""
    server = DeltaServer(
        (4, [("run_old", 4)], False),
        (5, [("run_old", 4), ("run_x", 5)], False),
        (5, [("run_x", 5)], False),
        (7, [("run_x", 5), ("run_y", 7)], False),
        (7, [("run_y", 7)], False),
    )
    url = serve_app(server.app())
    before = int(time.time() * 1000)
    async with polled(server, url) as c:
        await c.until(lambda: len(server.asked) >= 6, "six polls")
    after = int(time.time() * 1000)

    assert [(e.refId, e.payload) for e in c.events] == [
        ("run_x", {"runId": "run_x", "revision": 5}),
        ("run_y", {"runId": "run_y", "revision": 7}),
    ]
    assert server.asked[:6] == ["0", "4", "5", "5", "7", "7"]
    for event in c.events:
        assert (event.kind, event.action) == ("observability.records", "ingested")
        assert before <= event.timestamp <= after
        assert event.id == f"observability:{event.refId}:{event.timestamp}"


async def test_polling_starts_from_the_revision_the_feed_already_has(
    serve_app: Callable[[Any], str],
) -> None:
    """A feed that knows revision 4 (from another transport, or its consumer) polls from
    there: the first delta's newer changes are events, not a baseline."""
    server = DeltaServer((6, [("run_x", 6)], False))
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
    why and the revision, from which polling goes on (the next change is an event)."""
    server = DeltaServer(
        (8, [], False),
        (12, [], True),
        (13, [("run_w", 13)], False),
        (3, [], False),
        (4, [("run_z", 4)], False),
    )
    url = serve_app(server.app())
    async with polled(server, url) as c:
        await c.until(lambda: len(server.asked) >= 6, "six polls")

    assert [(e.action, e.refId, e.payload) for e in c.events] == [
        (RESYNC, "", {"reason": "expired", "revision": 12}),
        ("ingested", "run_w", {"runId": "run_w", "revision": 13}),
        (RESYNC, "", {"reason": "reset", "revision": 3}),
        ("ingested", "run_z", {"runId": "run_z", "revision": 4}),
    ]
    assert server.asked[:6] == ["0", "8", "12", "13", "3", "4"]


async def test_a_refused_poll_is_a_failure_not_a_delta(serve_app: Callable[[Any], str]) -> None:
    """A poll answered with an error status (here 401: a wrong token) is a failed poll, as a
    refused connection is: the feed goes on polling and says ``offline``."""
    server = DeltaServer((4, [], False))
    url = serve_app(server.app())
    async with polled(server, url, token="wrong", offline_after=2) as c:
        await c.until(lambda: c.feed.state == OFFLINE, "offline")
    assert c.events == [] and c.feed.revision is None


async def test_polling_a_backend_with_a_token(make_backend: Callable[..., EmbeddedBackend]) -> None:
    """The token goes with every poll (``?t=``): a backend served with one answers them."""
    backend = make_backend(token="sekrit")
    async with Consumer(backend.url, token="sekrit", transport=POLL, poll_interval=0.01) as c:
        await c.until(lambda: c.feed.revision == 0, "the baseline")
        await post(backend.url, "a", token="sekrit")
        await c.until(lambda: c.named("a"), "a")
    assert c.feed.state != "offline"
