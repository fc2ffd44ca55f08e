"""In-process bus of ObservabilityEvents with a bounded replay ring.

Each published event carries a sequence number (the store revision it announces) that
becomes the SSE ``id:``. Subscribers get an async iterator; a reconnecting client passes
the last id it saw and receives the later events the ring still holds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from crux_tui.contract.models import ObservabilityEvent
from crux_tui.contract.statuses import LIFECYCLE_ERROR_STATUSES, SEVERITY_ERROR, SEVERITY_WARN

DEFAULT_RING_SIZE = 4096


def now_ms() -> int:
    """Wall clock in unix milliseconds."""
    return int(time.time() * 1000)


def records_event(
    operation_id: str, trace_id: str, revision: int, at_ms: int | None = None
) -> ObservabilityEvent:
    """The ``observability.records`` / ``ingested`` event of one operation (crux-v5.md D.4)."""
    stamp = at_ms if at_ms is not None else now_ms()
    payload: dict[str, Any] = {
        "operationId": operation_id,
        "entity": "operation",
        "revision": revision,
    }
    if trace_id:
        payload["traceId"] = trace_id
    return ObservabilityEvent(
        id=f"observability:{operation_id}:{stamp}",
        timestamp=stamp,
        kind="observability.records",
        action="ingested",
        severity="info",
        refId=operation_id,
        payload=payload,
    )


def deleted_event(operation_ids: list[str], revision: int) -> ObservabilityEvent:
    """The ``observability.records`` / ``deleted`` event of one delete call: as Crux sends
    it, with an empty ``id`` and a zero ``timestamp``."""
    return ObservabilityEvent(
        id="",
        timestamp=0,
        kind="observability.records",
        action="deleted",
        severity="info",
        refId=operation_ids[0] if operation_ids else "",
        payload={"operationIds": list(operation_ids), "revision": revision},
    )


def lifecycle_event(
    run_id: str, status: str, reason: str, revision: int, at_ms: int | None = None
) -> ObservabilityEvent:
    """The ``observability.lifecycle`` / ``reconciled`` event of one (member) run."""
    stamp = at_ms if at_ms is not None else now_ms()
    return ObservabilityEvent(
        id=f"observability:lifecycle:{run_id}:{stamp}",
        timestamp=stamp,
        kind="observability.lifecycle",
        action="reconciled",
        severity=SEVERITY_ERROR if status in LIFECYCLE_ERROR_STATUSES else SEVERITY_WARN,
        refId=run_id,
        payload={"runId": run_id, "status": status, "reason": reason, "revision": revision},
    )


class _Subscriber:
    __slots__ = ("loop", "queue")

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[int, ObservabilityEvent] | None] = asyncio.Queue(maxsize)


class EventBus:
    """Thread-safe publish, asyncio subscribe."""

    def __init__(self, ring_size: int = DEFAULT_RING_SIZE, queue_size: int = 1024) -> None:
        self._ring: deque[tuple[int, ObservabilityEvent]] = deque(maxlen=ring_size)
        self._subs: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size
        self._closed = False

    def publish(self, seq: int, event: ObservabilityEvent) -> None:
        """Record ``event`` under sequence ``seq`` and deliver it to every subscriber."""
        with self._lock:
            self._ring.append((seq, event))
            subs = list(self._subs)
        for sub in subs:
            self._deliver(sub, (seq, event))

    def subscriber_count(self) -> int:
        """Subscriptions open now (SSE streams and ``/ws/ui`` clients)."""
        with self._lock:
            return len(self._subs)

    def covers(self, after: int) -> bool:
        """Whether the ring still holds every event published after ``after``."""
        with self._lock:
            return bool(self._ring) and self._ring[0][0] <= after

    def replay(self, after: int) -> list[tuple[int, ObservabilityEvent]]:
        """Events in the ring with a sequence number greater than ``after``."""
        with self._lock:
            return [item for item in self._ring if item[0] > after]

    def close(self) -> None:
        """End every subscription (server shutdown)."""
        with self._lock:
            self._closed = True
            subs = list(self._subs)
        for sub in subs:
            self._deliver(sub, None)

    def _deliver(self, sub: _Subscriber, item: tuple[int, ObservabilityEvent] | None) -> None:
        def put() -> None:
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                # A stalled client: drop it (it reconnects and replays with Last-Event-ID).
                with self._lock:
                    self._subs.discard(sub)
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is sub.loop:
            put()
        else:
            try:
                sub.loop.call_soon_threadsafe(put)
            except RuntimeError:  # loop closed
                with self._lock:
                    self._subs.discard(sub)

    async def subscribe(
        self,
        after: int | None = None,
        keepalive: float | None = None,
        queue_size: int | None = None,
    ) -> AsyncIterator[tuple[int, ObservabilityEvent] | None]:
        """Yield ``(seq, event)`` pairs; replays ring events after ``after`` first.

        With ``keepalive`` set, yields ``None`` after that many idle seconds. A subscriber
        that falls ``queue_size`` events behind (default: the bus's) is dropped: the
        iteration ends.
        """
        sub = _Subscriber(asyncio.get_running_loop(), queue_size or self._queue_size)
        with self._lock:
            if self._closed:
                return
            self._subs.add(sub)
            backlog = [item for item in self._ring if after is not None and item[0] > after]
        last = after if after is not None else -1
        try:
            for item in backlog:
                last = item[0]
                yield item
            while True:
                try:
                    if keepalive is None:
                        queued = await sub.queue.get()
                    else:
                        queued = await asyncio.wait_for(sub.queue.get(), keepalive)
                except TimeoutError:
                    yield None
                    continue
                if queued is None:
                    return
                if queued[0] <= last and backlog:
                    continue
                last = max(last, queued[0])
                yield queued
        finally:
            with self._lock:
                self._subs.discard(sub)
