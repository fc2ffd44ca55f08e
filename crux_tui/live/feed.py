"""LiveFeed: the ObservabilityEvents a viewer needs to stay current, over the best transport
the backend has.

Transports, tried in this order unless one is forced (``transport=``):

* ``sse`` -- ``GET /api/observability/stream`` (our embedded backend): reconnects with
  capped exponential backoff and ``Last-Event-ID``, so the server replays what was missed.
* ``ws`` -- ``/ws/ui`` (`crux dev`, ``crux-v5.md`` D.3): no subscribe message; only
  ``observability:event`` messages count (the project ``index`` sent on connect can be
  megabytes: no frame size limit); reconnects every 2 s, then catches up over HTTP with
  ``runs/delta`` from the last revision seen.
* ``poll`` -- ``runs/delta`` every second, as the Crux web UI does without a socket.

A transport is skipped when the backend does not have it (404 or a refused upgrade);
connection failures only reconnect. Whenever the feed cannot say what changed while it
was not connected (the first connection, an ``expired`` delta, a failed catch-up) it
yields a *resync* event that names nothing: refresh everything shown. ``token.chunk``
bursts are thinned to one event per run per second (:mod:`~crux_tui.live.throttle`).

Connection states: ``connecting``, ``live``, ``reconnecting``, ``polling``, ``offline``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec
from httpx_sse import SSEError, aconnect_sse
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI, WebSocketException

from crux_tui.contract.models import ObservabilityEvent, RunsDelta, items
from crux_tui.contract.statuses import CONNECTING, LIVE, OFFLINE, POLLING, RECONNECTING
from crux_tui.live.throttle import TOKEN_INTERVAL, TokenThrottle
from crux_tui.live.websocket import WS_PATH, decode_message, ws_url

AUTO = "auto"
SSE = "sse"
WS = "ws"
POLL = "poll"
#: What ``--live`` accepts.
TRANSPORTS = (AUTO, SSE, WS, POLL)
AUTO_ORDER = (SSE, WS, POLL)

STREAM_PATH = "/api/observability/stream"
DELTA_PATH = "/api/observability/runs/delta"
#: ``action`` of the event that asks the consumer to refresh everything it shows.
RESYNC = "resync"

_event_decoder = msgspec.json.Decoder(ObservabilityEvent)
_delta_decoder = msgspec.json.Decoder(RunsDelta)


class _TransportMissing(Exception):
    """The backend does not offer this transport (404, or an upgrade it refuses)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resync_event(reason: str, revision: int | None = None) -> ObservabilityEvent:
    """An event naming no run: the consumer cannot know what changed, so refresh it all."""
    stamp = int(time.time() * 1000)
    payload: dict[str, Any] = {"reason": reason}
    if revision is not None:
        payload["revision"] = revision
    return ObservabilityEvent(
        id=f"observability:resync:{stamp}",
        timestamp=stamp,
        kind="observability.records",
        action=RESYNC,
        payload=payload,
    )


class LiveFeed:
    """Async iterator of live events with transport choice, reconnect and catch-up.

    ``async for event in LiveFeed(url): ...`` -- cancel the consuming task (or break) to stop.
    ``on_state(state)`` hears every connection state; ``on_transport(transport, note)`` hears
    which transport is in use (``note`` says why, when a forced one is not available).
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: str = AUTO,
        on_state: Callable[[str], None] | None = None,
        on_transport: Callable[[str, str], None] | None = None,
        last_event_id: str | None = None,
        initial_backoff: float = 0.25,
        max_backoff: float = 5.0,
        poll_interval: float = 1.0,
        offline_after: int = 3,
        read_timeout: float | None = 60.0,
        ws_reconnect: float = 2.0,
        open_timeout: float = 10.0,
        token_interval: float = TOKEN_INTERVAL,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(
                f"unknown live transport {transport!r} (one of {', '.join(TRANSPORTS)})"
            )
        self.url = url.rstrip("/")
        self.token = token
        self.requested = transport
        self.on_state = on_state
        self.on_transport = on_transport
        self.last_event_id = last_event_id
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.offline_after = offline_after
        self.read_timeout = read_timeout
        self.ws_reconnect = ws_reconnect
        self.open_timeout = open_timeout
        self.token_interval = token_interval
        self.state = CONNECTING
        #: the transport in use (``None`` before the first attempt)
        self.transport: str | None = None
        #: why the transport is what it is ("" unless a forced one is missing)
        self.note = ""
        #: the newest revision the consumer is known to have seen (catch-up starts there)
        self.revision: int | None = None
        #: the wait before the coming reconnect (``None`` until the first one): it doubles
        #: after each failed SSE connection up to ``max_backoff`` and is ``initial_backoff``
        #: again once a connection delivered
        self.retry_delay: float | None = None
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

    def _use(self, transport: str, note: str = "") -> None:
        if (transport, note) == (self.transport, self.note):
            return
        self.transport, self.note = transport, note
        if self.on_transport is not None:
            self.on_transport(transport, note)

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

    def note_revision(self, revision: int) -> None:
        """The consumer read its views at ``revision`` (a runs page says it): a catch-up
        after a reconnect may start there. Ignored unless live (views read while the
        feed was down may be behind others)."""
        if self.state == LIVE:
            self._raise_revision(revision)

    def _raise_revision(self, revision: Any) -> None:
        if isinstance(revision, int) and (self.revision is None or revision > self.revision):
            self.revision = revision

    # -- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ObservabilityEvent]:
        return self.events()

    def _params(self) -> dict[str, str]:
        return {"t": self.token} if self.token else {}

    async def events(self) -> AsyncIterator[ObservabilityEvent]:
        """Yield events forever (until the consumer stops or is cancelled)."""
        timeout = httpx.Timeout(connect=3.0, read=self.read_timeout, write=5.0, pool=5.0)
        order = AUTO_ORDER if self.requested == AUTO else (self.requested,)
        runners = {SSE: self._sse, WS: self._ws, POLL: self._poll}
        async with httpx.AsyncClient(base_url=self.url, timeout=timeout) as http:
            self._set_state(CONNECTING)
            step = 0
            while True:
                transport = order[step]
                self._use(transport)
                try:
                    async for event in runners[transport](http):
                        yield event
                    return  # pragma: no cover - the runners never end on their own
                except _TransportMissing as missing:
                    if step + 1 < len(order):
                        step += 1
                        continue
                    # a forced transport this backend does not have: say so, ask again later
                    self._use(transport, missing.reason)
                    self._set_state(OFFLINE)
                    await asyncio.sleep(self.max_backoff)

    # -- sse -------------------------------------------------------------------------------

    async def _sse(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        backoff = self.initial_backoff
        failures = 0
        while True:
            try:
                async for event in self._stream(http):
                    failures, backoff = 0, self.initial_backoff
                    yield event
                failures = 0  # the server ended the stream (shutdown): reconnect quickly
            except (httpx.HTTPError, SSEError, OSError):
                failures += 1
            self._set_state(OFFLINE if failures >= self.offline_after else RECONNECTING)
            self.retry_delay = backoff
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _stream(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        headers: dict[str, str] = {}  # aconnect_sse sets Accept and Cache-Control itself
        resumes = bool(self.last_event_id)
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        async with aconnect_sse(
            http, "GET", STREAM_PATH, params=self._params(), headers=headers
        ) as source:
            response = source.response
            if response.status_code == 404:
                raise _TransportMissing(f"no SSE route ({STREAM_PATH}) at this backend")
            if response.status_code != 200:
                raise httpx.HTTPStatusError(
                    f"stream answered {response.status_code}",
                    request=response.request,
                    response=response,
                )
            self._set_state(LIVE)
            if not resumes:  # the server replays from Last-Event-ID; without one, resync
                yield resync_event("connected")
            async for sse in source.aiter_sse():
                if sse.id:
                    self.last_event_id = sse.id
                if sse.event != "observability" or not sse.data:
                    continue
                try:
                    event = _event_decoder.decode(sse.data)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue
                self._raise_revision((event.payload or {}).get("revision"))
                yield event

    # -- websocket -------------------------------------------------------------------------

    async def _ws(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        url = ws_url(self.url, self.token)
        failures = 0
        while True:
            try:
                async with connect(
                    url, max_size=None, open_timeout=self.open_timeout, close_timeout=2.0
                ) as ws:
                    failures = 0
                    self._set_state(LIVE)
                    async for event in self._catch_up(http):
                        yield event
                    async for event in self._messages(ws):
                        yield event
            except InvalidStatus as exc:
                status = exc.response.status_code
                if 400 <= status < 500 and status not in (401, 408, 429):
                    raise _TransportMissing(
                        f"no WebSocket ({WS_PATH}) at this backend (HTTP {status})"
                    ) from exc
                failures += 1
            except InvalidURI as exc:
                raise _TransportMissing(f"cannot make a WebSocket URL of {self.url}") from exc
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException):
                failures += 1  # refused, dropped, closed by the server: reconnect
            self._set_state(OFFLINE if failures >= self.offline_after else RECONNECTING)
            self.retry_delay = self.ws_reconnect
            await asyncio.sleep(self.ws_reconnect)

    async def _catch_up(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        """After (re)connecting: what changed since the last revision seen (``runs/delta``)."""
        since = self.revision
        if since is None:
            yield resync_event("connected")
            return
        delta: RunsDelta | None = None
        try:
            response = await http.get(DELTA_PATH, params={**self._params(), "since": since})
            if response.status_code == 200:
                delta = _delta_decoder.decode(response.content)
        except (httpx.HTTPError, msgspec.DecodeError, msgspec.ValidationError, OSError):
            delta = None
        if delta is None:
            yield resync_event("catch-up failed")
            return
        if delta.revision < since:  # a backend started afresh: its revisions began again
            self.revision = delta.revision
            yield resync_event("reset", delta.revision)
            return
        self._raise_revision(delta.revision)
        if delta.expired:
            yield resync_event("expired", delta.revision)
            return
        for event in _synthesize(delta, since):
            yield event

    async def _messages(self, ws: ClientConnection) -> AsyncIterator[ObservabilityEvent]:
        """Events of one connection, ``token.chunk`` bursts thinned (ends when it closes)."""
        throttle = TokenThrottle(self.token_interval)
        loop = asyncio.get_running_loop()
        while True:
            due = throttle.next_due()
            try:
                if due is None:
                    raw = await ws.recv()
                else:
                    raw = await asyncio.wait_for(ws.recv(), max(0.0, due - loop.time()))
            except TimeoutError:
                for held in throttle.due(loop.time()):
                    yield held
                continue
            event = decode_message(raw)
            if event is None:
                continue
            self._raise_revision((event.payload or {}).get("revision"))
            if event.kind == "token.chunk":
                passed = throttle.offer(event, loop.time())
                if passed is not None:
                    yield passed
                continue
            yield event

    # -- polling ---------------------------------------------------------------------------

    async def _poll(self, http: httpx.AsyncClient) -> AsyncIterator[ObservabilityEvent]:
        """Polling over ``/runs/delta`` (never returns on its own)."""
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
                elif delta.expired or delta.revision < since:  # log gone, or a fresh backend
                    yield resync_event("expired" if delta.expired else "reset", delta.revision)
                    since = delta.revision
                else:
                    for event in _synthesize(delta, since):
                        yield event
                    since = max(since, delta.revision)
                self.revision = since
            await asyncio.sleep(self.poll_interval)


def _synthesize(delta: RunsDelta, since: int) -> list[ObservabilityEvent]:
    """``observability.records`` events for a delta (one per changed run or operation)."""
    stamp = int(time.time() * 1000)
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
