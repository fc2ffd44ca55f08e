"""RunDetail bodies: projected on demand, cached once settled, warmed when a run ends.

A RunDetail describes a whole operation (crux-v5.md C): asking by a member run id or the
operation id gives the same document, so bodies are cached per operation and its revision.
``GET /runs/{runId}`` and the background warmer share :func:`run_detail_body`, so there is
one place that decides when a projected body may be kept (see ``detail_cache``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

import msgspec
from starlette.concurrency import run_in_threadpool

from crux_tui.backend.detail_cache import DetailBody, DetailCache
from crux_tui.backend.events import lifecycle_event
from crux_tui.backend.projection.operation import operation_settled, project_operation_detail
from crux_tui.backend.store import Store
from crux_tui.backend.stored_bodies import BodyKeeper
from crux_tui.contract.models import ObservabilityEvent, RunDetail, RunDetailHead

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()


#: RunDetail members written after the tree when set (the ones a v2 RunDetail lacks).
TAIL_MEMBERS = (
    "memberRuns",
    "definitionRefs",
    "manifest",
    "currentCatalog",
    "currentProjectHealth",
    "redaction",
)


def encode_run_detail(detail: RunDetail) -> tuple[bytearray, int]:
    """``(body, head_length)``: the RunDetail JSON with its head members written first.

    ``body[:head_length] + b"}"`` is the JSON of a :class:`RunDetailHead` (run, rows,
    facets, diagnostics, counts); ``root``, ``spanIndex`` and the operation members
    (``memberRuns``, ``definitionRefs``, ``manifest``, ...) follow. Encoded into one
    buffer: a big run's body is not copied once per part.
    """
    body = bytearray()
    _encoder.encode_into(RunDetailHead.of(detail), body, -1)
    del body[-1:]  # the head's closing brace: the body goes on
    head_length = len(body)
    body += b',"root":'
    _encoder.encode_into(detail.root, body, -1)
    body += b',"spanIndex":'
    _encoder.encode_into(detail.spanIndex, body, -1)
    tail = _encoder.encode(
        {name: value for name in TAIL_MEMBERS if (value := getattr(detail, name)) is not None}
    )
    if len(tail) > 2:
        body += b","
        body += tail[1:-1]
    body += b"}\n"
    return body, head_length


def run_detail_body(
    store: Store,
    cache: DetailCache,
    ref: str,
    moment: datetime,
    keeper: BodyKeeper | None = None,
) -> DetailBody | None:
    """The encoded operation RunDetail of ``ref`` (a run, operation or trace id) at
    ``moment``; ``None`` if unknown.

    Concurrent calls for the same revision (a reader and the warmer) project it once. With
    a ``keeper``, a settled body is also kept with the records, and one kept there (by an
    earlier process) is served without projecting.
    """
    summary = store.operation_summary(ref)
    if summary is None:
        return None
    operation = summary.operationId or summary.runId
    revision, conflict = summary.revision, bool(summary.traceAliasConflict)
    cached = cache.get(operation, revision, conflict)
    if cached is not None:
        return cached

    def project() -> DetailBody | None:
        kept = keeper.load(operation, revision, conflict) if keeper is not None else None
        served = BodyKeeper.expand(kept) if kept is not None else None
        if kept is not None and served is not None:  # kept by an earlier process
            body = cache.body(served, kept.head_length)
            body.status = kept.status
            cache.put(operation, revision, conflict, body)
            return body
        graph = store.operation_graph(ref)
        if graph is None:
            return None
        detail = project_operation_detail(graph, moment)
        data, head_length = encode_run_detail(detail)
        if not operation_settled(graph):  # served once: no reason to write it to disk
            body = DetailBody(data, head_length)
            body.status = detail.run.status
            return body
        body = cache.body(data, head_length)
        body.status = detail.run.status
        # Keyed by the revision read *before* the graph: a record landing in between
        # makes the next request miss, never serve an out-of-date body.
        cache.put(operation, revision, conflict, body)
        if keeper is not None:
            keeper.submit(operation, revision, conflict, body)
        return body

    return cache.once((operation, revision, conflict), project)


class DetailWarmer:
    """Projects operations whose root run has just ended, off the event loop, so opening
    them is a cache hit.

    Changes are coalesced: a run is projected once no batch for it has arrived for
    ``delay`` seconds (an import or a burst of late records is projected once, at its end).
    When the projection presents the run with another status than the list's (its root
    rolled up a suspended flow or a failed span), that status is persisted for the list
    and its status filter, and ``publish`` announces it (an ``observability.lifecycle``
    event, as the lifecycle reconciler does for runs that went quiet).
    """

    def __init__(
        self,
        store: Store,
        cache: DetailCache,
        clock: Callable[[], datetime],
        delay: float = 0.5,
        publish: Callable[[int, ObservabilityEvent], None] | None = None,
        keeper: BodyKeeper | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.keeper = keeper
        self.clock = clock
        self.delay = delay
        self.publish = publish
        #: operation id -> when it last changed (monotonic seconds)
        self._pending: dict[str, float] = {}
        self._wake = asyncio.Event()

    def schedule(self, run_id: str) -> None:
        """Note that operation ``run_id`` changed; it is warmed if its root has ended."""
        self._pending[run_id] = time.monotonic()
        self._wake.set()

    async def run(self) -> None:
        """Warm scheduled runs until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.delay)
            now = time.monotonic()
            batch = [run for run, at in self._pending.items() if now - at >= self.delay]
            for run_id in batch:
                del self._pending[run_id]
            if self._pending:
                self._wake.set()  # still changing: look again after another delay
            for run_id in batch:
                try:
                    await run_in_threadpool(self._warm, run_id)
                except Exception:  # a hostile run must not stop the warmer; reads report it
                    log.debug("warming %s failed", run_id, exc_info=True)

    def _warm(self, run_id: str) -> None:
        """Project an operation whose root run ended (a cache hit if a reader got there
        first); when the root's presented status is not the list's, persist it for the runs
        list and announce it (under the store's write lock: events leave in revision order)."""
        summary = self.store.operation_summary(run_id)
        if summary is None or not summary.endedAt:
            return
        moment = self.clock()
        body = run_detail_body(self.store, self.cache, run_id, moment, self.keeper)
        if body is None or not body.status or body.status == summary.status:
            return
        root = summary.rootRunId or summary.runId
        with self.store.write_lock:
            revision = self.store.set_presented_status(root, body.status, summary.revision)
            if revision is not None and self.publish is not None:
                at_ms = int(moment.timestamp() * 1000)
                event = lifecycle_event(root, body.status, "presented-status", revision, at_ms)
                self.publish(revision, event)
