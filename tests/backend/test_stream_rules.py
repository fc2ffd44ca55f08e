"""The SSE stream as a client reads it, over real HTTP: its preamble and headers, the frame of
each event, where the resume point is read from (``Last-Event-ID`` header, else the
``lastEventId`` query parameter), and a resume across a restart that never repeats an event.
Each test states one rule (issue #18: written against mutants of ``backend/server.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from records import batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend

API = "/api/observability"


async def post(backend: EmbeddedBackend, run_id: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(backend.url + f"{API}/records", json=batch(simple_run(run_id)))
        assert response.status_code == 202


async def frames(
    backend: EmbeddedBackend,
    count: int,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    then: Callable[[], object] | None = None,
) -> tuple[httpx.Headers, list[str], list[list[str]]]:
    """The response headers, the lines before the first event, and the first ``count`` event
    frames (their lines). ``then`` runs (in a thread) once the stream is open."""
    preamble: list[str] = []
    events: list[list[str]] = []
    current: list[str] = []
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "GET", backend.url + f"{API}/stream", headers=headers or {}, params=params or {}
        ) as response,
    ):
        assert response.status_code == 200
        started = False
        async for line in response.aiter_lines():
            if not started and line == ": connected" and then is not None:
                started = True
                await asyncio.to_thread(then)
            if line.startswith(": keep-alive"):
                continue
            if line == "":
                if current and current[0].startswith("event:"):
                    events.append(current)
                    if len(events) >= count:
                        return response.headers, preamble, events
                elif current:
                    preamble.extend(current)
                current = []
                continue
            current.append(line)
    raise AssertionError("the stream ended")


def ids(events: list[list[str]]) -> list[int]:
    return [int(frame[1].removeprefix("id: ")) for frame in events]


def payloads(events: list[list[str]]) -> list[dict]:
    return [json.loads(frame[2].removeprefix("data: "))["payload"] for frame in events]


async def test_the_stream_opens_with_a_retry_hint_and_frames_each_event(
    pinned_backend: EmbeddedBackend,
) -> None:
    """First a ``retry: 1000`` hint and a ``: connected`` comment; the stream is
    ``text/event-stream``, never cached nor buffered by a proxy; each event is exactly
    ``event: observability`` / ``id: REVISION`` / ``data: JSON``."""

    def publish() -> None:
        response = httpx.post(pinned_backend.url + f"{API}/records", json=batch(simple_run("a")))
        assert response.status_code == 202

    headers, preamble, events = await asyncio.wait_for(frames(pinned_backend, 1, then=publish), 20)
    assert preamble == ["retry: 1000", ": connected"]
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache"
    assert headers["x-accel-buffering"] == "no"
    (frame,) = events
    assert len(frame) == 3 and frame[:2] == ["event: observability", "id: 1"]
    assert json.loads(frame[2].removeprefix("data: "))["refId"] == "a"


async def test_the_resume_point_may_come_as_the_last_event_id_query_parameter(
    pinned_backend: EmbeddedBackend,
) -> None:
    """A client that cannot set headers (a browser ``EventSource`` on first connect) passes
    ``?lastEventId=N``; the ``Last-Event-ID`` header wins when both are there."""
    for run in ("a", "b", "c"):
        await post(pinned_backend, run)
    _, _, by_query = await asyncio.wait_for(
        frames(pinned_backend, 2, params={"lastEventId": "1"}), 20
    )
    assert ids(by_query) == [2, 3]
    _, _, both = await asyncio.wait_for(
        frames(pinned_backend, 1, headers={"Last-Event-ID": "2"}, params={"lastEventId": "0"}),
        20,
    )
    assert ids(both) == [3]


@pytest.mark.parametrize(
    ("headers", "params", "message"),
    [
        (
            {"Last-Event-ID": "9" * 30},
            {},
            "Last-Event-ID out of range (expected a 64-bit integer)",
        ),
        ({}, {"lastEventId": "9" * 30}, "lastEventId out of range (expected a 64-bit integer)"),
    ],
)
async def test_a_resume_point_out_of_range_is_400_naming_where_it_came_from(
    pinned_backend: EmbeddedBackend, headers: dict, params: dict, message: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            pinned_backend.url + f"{API}/stream", headers=headers, params=params
        )
    assert (response.status_code, response.text) == (400, message + "\n")


async def test_a_resume_across_a_restart_never_repeats_an_event(
    make_backend: Callable[..., EmbeddedBackend], tmp_path: Path
) -> None:
    """After a restart the client is caught up from the change log; an event the new
    process has published meanwhile (in its ring too) is sent once, not twice, and the
    caught-up events name the operation and revision (no trace id: the log has none)."""
    db = tmp_path / "devtools.sqlite3"
    first = make_backend(db=db, clock="2026-05-16T18:00:05Z", lifecycle_interval=None)
    await post(first, "seen")
    await post(first, "away")
    await post(first, "away_too")
    first.stop()
    second = make_backend(db=db, clock="2026-05-16T18:00:05Z", lifecycle_interval=None)
    await post(second, "after_restart")  # revision 4, in the new ring only

    def one_more() -> None:
        response = httpx.post(second.url + f"{API}/records", json=batch(simple_run("live")))
        assert response.status_code == 202

    _, _, events = await asyncio.wait_for(
        frames(second, 4, headers={"Last-Event-ID": "1"}, then=one_more), 20
    )
    assert ids(events) == [2, 3, 4, 5]
    assert all(frame[0] == "event: observability" and len(frame) == 3 for frame in events)
    assert [p["operationId"] for p in payloads(events)] == [
        "away",
        "away_too",
        "after_restart",
        "live",
    ]
    caught_up = payloads(events)[0]
    assert caught_up == {"operationId": "away", "entity": "operation", "revision": 2}


async def test_a_negative_resume_point_replays_from_the_start(
    pinned_backend: EmbeddedBackend,
) -> None:
    """A negative ``Last-Event-ID`` is still a number (before everything): every change is
    replayed, as for 0."""
    for run in ("a", "b"):
        await post(pinned_backend, run)
    _, _, events = await asyncio.wait_for(
        frames(pinned_backend, 2, headers={"Last-Event-ID": "-1"}), 20
    )
    assert ids(events) == [1, 2]


async def test_the_stream_goes_on_after_a_keep_alive(pinned_backend: EmbeddedBackend) -> None:
    """A keep-alive comment is only a comment: the events published after it still come."""
    seen: list[str] = []
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", pinned_backend.url + f"{API}/stream") as response,
    ):
        async for line in response.aiter_lines():
            seen.append(line)
            if line == ": keep-alive" and seen.count(line) == 1:
                await post(pinned_backend, "after_keepalive")
            if line.startswith("data: "):
                break
    assert json.loads(seen[-1].removeprefix("data: "))["refId"] == "after_keepalive"
