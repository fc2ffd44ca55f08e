"""LiveFeed: ObservabilityEvents from ``GET /api/observability/stream`` (SSE).

Reconnects with capped exponential backoff and ``Last-Event-ID``. When the stream route
answers 404 (a Go backend has no SSE), it falls back to polling ``/runs/delta`` as the
Crux web UI does (contract section 3.2) and synthesizes ``observability.records`` events
for the runs that changed. Connection states: ``connecting``, ``live``, ``reconnecting``,
``polling``, ``offline``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec
from httpx_sse import SSEError, aconnect_sse

from crux_tui.contract.models import ObservabilityEvent, RunsDelta, items

CONNECTING = "connecting"
LIVE = "live"
RECONNECTING = "reconnecting"
POLLING = "polling"
OFFLINE = "offline"

STREAM_PATH = "/api/observability/stream"
DELTA_PATH = "/api/observability/runs/delta"

_event_decoder = msgspec.json.Decoder(ObservabilityEvent)
_delta_decoder = msgspec.json.Decoder(RunsDelta)


class _StreamMissing(Exception):
    """The backend has no stream route (404)."""


class LiveFeed:
    """Async iterator of live events with automatic reconnect and polling fallback.

    ``async for event in LiveFeed(url): ...`` -- cancel the consuming task (or break) to stop.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        on_state: Callable[[str], None] | None = None,
        last_event_id: str | None = None,
        initial_backoff: float = 0.25,
        max_backoff: float = 5.0,
        poll_interval: float = 1.0,
        offline_after: int = 3,
        read_timeout: float | None = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.on_state = on_state
        self.last_event_id = last_event_id
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.offline_after = offline_after
        self.read_timeout = read_timeout
        self.state = CONNECTING
        self.revision: int | None = None
        self._state_queues: list[asyncio.Queue[str]] = []

    # -- state ---------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        if state == self.state and state != CONNECTING:
            return
        self.state = state
        for queue in self._state_queues:
            queue.put_nowait(state)
        if self.on_state is not None:
            self.on_state(state)

    async def states(self) -> AsyncIterator[str]:
        """Yield the current state, then every state change."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._state_queues.append(queue)
        try:
            yield self.state
            while True:
                yield await queue.get()
        finally:
            self._state_queues.remove(queue)

    # -- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ObservabilityEvent]:
        return self.events()

    def _params(self) -> dict[str, str]:
        return {"t": self.token} if self.token else {}

    def _note_revision(self, event: ObservabilityEvent) -> None:
        revision = (event.payload or {}).get("revision")
        if isinstance(revision, int) and (self.revision is None or revision > self.revision):
            self.revision = revision

    async def events(self) -> AsyncIterator[ObservabilityEvent]:
        """Yield events forever (until the consumer stops or is cancelled)."""
        timeout = httpx.Timeout(connect=3.0, read=self.read_timeout, write=5.0, pool=5.0)
        async with httpx.AsyncClient(base_url=self.url, timeout=timeout) as http:
            backoff = self.initial_backoff
            failures = 0
            self._set_state(CONNECTING)
            while True:
                try:
                    async for event in self._stream(http):
                        failures, backoff = 0, self.initial_backoff
                        yield event
                    # the server ended the stream (shutdown): reconnect quickly
                    failures = 0
                except _StreamMissing:
                    async for event in self._poll(http):
                        yield event
                    return
                except (httpx.HTTPError, SSEError, OSError):
                    failures += 1
                self._set_state(OFFLINE if failures >= self.offline_after else RECONNECTING)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _stream(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        async with aconnect_sse(
            http, "GET", STREAM_PATH, params=self._params(), headers=headers
        ) as source:
            response = source.response
            if response.status_code == 404:
                raise _StreamMissing()
            if response.status_code != 200:
                raise httpx.HTTPStatusError(
                    f"stream answered {response.status_code}",
                    request=response.request,
                    response=response,
                )
            self._set_state(LIVE)
            async for sse in source.aiter_sse():
                if sse.id:
                    self.last_event_id = sse.id
                if sse.event != "observability" or not sse.data:
                    continue
                try:
                    event = _event_decoder.decode(sse.data)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue
                self._note_revision(event)
                yield event

    async def _poll(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        """Polling fallback over ``/runs/delta`` (never returns on its own)."""
        since = self.revision
        failures = 0
        self._set_state(POLLING)
        while True:
            delta: RunsDelta | None = None
            try:
                response = await http.get(
                    DELTA_PATH, params={**self._params(), "since": since or 0}
                )
                if response.status_code == 200:
                    delta = _delta_decoder.decode(response.content)
            except (httpx.HTTPError, msgspec.DecodeError, msgspec.ValidationError, OSError):
                delta = None
            if delta is None:
                failures += 1
                self._set_state(OFFLINE if failures >= self.offline_after else POLLING)
            else:
                failures = 0
                self._set_state(POLLING)
                if since is None:
                    since = delta.revision  # baseline: the caller loads read models itself
                else:
                    for event in _synthesize(delta, since):
                        yield event
                    since = max(since, delta.revision)
                self.revision = since
            await asyncio.sleep(self.poll_interval)


def _synthesize(delta: RunsDelta, since: int) -> list[ObservabilityEvent]:
    """``observability.records`` events for a delta (one per changed run)."""
    stamp = int(time.time() * 1000)
    if delta.expired:
        payload: dict[str, Any] = {"revision": delta.revision, "expired": True}
        return [
            ObservabilityEvent(
                id=f"observability:poll:{stamp}",
                timestamp=stamp,
                kind="observability.records",
                action="ingested",
                payload=payload,
            )
        ]
    return [
        ObservabilityEvent(
            id=f"observability:{change.id}:{stamp}",
            timestamp=stamp,
            kind="observability.records",
            action="ingested",
            refId=change.id,
            payload={"runId": change.id, "revision": change.revision},
        )
        for change in items(delta.changes)
        if change.revision > since
    ]
