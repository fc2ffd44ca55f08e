"""Lifecycle reconciler: announces presented-status changes of inactive running runs.

Every tick (1 s) it looks at member runs whose stored status is ``running`` and that have
been inactive for more than 60 s (by the projection clock), projects their operation's
RunDetail (once per operation), and when a run's presented status there is no longer
``running`` (stale, incomplete, terminal from children) persists it once and publishes an
``observability.lifecycle`` / ``reconciled`` event for that member run (crux-v5.md C.7).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from crux_tui.backend.events import EventBus, lifecycle_event
from crux_tui.backend.store import Store, StoreError
from crux_tui.backend.timeutil import sort_key
from crux_tui.contract.models import ObservabilityEvent, items
from crux_tui.contract.statuses import RUNNING

FRESHNESS = timedelta(seconds=60)
log = logging.getLogger(__name__)


def reconcile_once(
    store: Store,
    now: datetime,
    seen: dict[str, int] | None = None,
    publish: Callable[[int, ObservabilityEvent], None] | None = None,
    *,
    settled: dict[str, int] | None = None,
    on_project: Callable[[str], None] | None = None,
) -> list[tuple[int, ObservabilityEvent]]:
    """One reconciliation pass; returns the ``(revision, event)`` pairs it announced.

    ``publish`` is called with each while the store's write lock is held, so lifecycle
    events and ingest events leave in revision order.

    ``seen`` (run id -> revision at the previous pass, updated here) makes a run wait
    until its records stop arriving: a run still being written (an old run imported
    from a file looks inactive by its timestamps) is announced by its ingest events, and
    projecting it again at every tick would only compete with the import.

    ``settled`` (run id -> revision, updated here) holds the member runs that still
    present as running and carry no timestamp at all: nothing but a new record can change
    their status (a member is projected from its own records and the clock, and no clock
    comparison applies), so they are not looked at again until their revision moves; an
    operation whose candidates are all settled is not projected. ``on_project(operation_id)``
    is told of every operation projection.
    """
    from crux_tui.backend.projection.operation import member_status, project_operation_detail

    stale_before = sort_key((now - FRESHNESS).isoformat())
    out: list[tuple[int, ObservabilityEvent]] = []
    candidates = store.lifecycle_candidates(stale_before)
    previous = dict(seen) if seen is not None else None
    if seen is not None:
        seen.clear()
        seen.update((run_id, revision) for run_id, _, _, revision in candidates)
    if settled is not None:  # forget runs that are no longer candidates (bounded)
        live = {run_id: revision for run_id, _, _, revision in candidates}
        for run_id in [r for r, rev in settled.items() if live.get(r) != rev]:
            del settled[run_id]
    by_operation: dict[str, list[tuple[str, str, int]]] = {}
    for run_id, operation, activity_key, revision in candidates:
        if previous is not None and previous.get(run_id) != revision:
            continue  # changed since the last pass: look again once it is quiet
        if settled is not None and run_id in settled:
            continue  # cannot change without a new record (which moves its revision)
        by_operation.setdefault(operation, []).append((run_id, activity_key, revision))
    for operation, runs in by_operation.items():
        if on_project is not None:
            on_project(operation)
        graph = store.operation_graph(operation)
        if graph is None:
            continue
        try:
            detail = project_operation_detail(graph, now)
        except Exception:  # a projection bug must not stop the ticker
            log.exception("projection failed for operation %s", operation)
            continue
        members = {m.run.runId: m for m in items(detail.memberRuns)}
        for run_id, activity_key, revision in runs:
            member = members.get(run_id)
            if member is None:
                continue
            status = member_status(member)
            if status == RUNNING:
                if settled is not None and not activity_key:
                    settled[run_id] = revision
                continue
            diagnostics = items(member.diagnostics)
            reason = diagnostics[0].code if diagnostics else "presentation-reconciled"
            with store.write_lock:
                changed = store.set_lifecycle_status(run_id, status, activity_key)
                if changed is not None:
                    at_ms = int(now.timestamp() * 1000)
                    event = lifecycle_event(run_id, status, reason, changed, at_ms)
                    out.append((changed, event))
                    if publish is not None:
                        publish(changed, event)
    return out


class LifecycleReconciler:
    """The background ticker (an asyncio task running passes in a worker thread)."""

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        clock: Callable[[], datetime],
        interval: float = 1.0,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.interval = interval
        #: run id -> revision at the last pass (see ``reconcile_once``)
        self.seen: dict[str, int] = {}
        #: runs that cannot change status without a new record (see ``reconcile_once``)
        self.settled: dict[str, int] = {}
        #: passes run and operation RunDetail projections made (a cost an idle backend
        #: should not pay)
        self.passes = 0
        self.projections = 0

    async def run(self) -> None:
        """Tick until cancelled."""
        while True:
            try:  # publishes as it goes (in revision order, see reconcile_once)
                await asyncio.to_thread(
                    reconcile_once,
                    self.store,
                    self.clock(),
                    self.seen,
                    self.bus.publish,
                    settled=self.settled,
                    on_project=self._projected,
                )
            except StoreError:
                pass
            except Exception:
                log.exception("lifecycle pass failed")
            self.passes += 1
            await asyncio.sleep(self.interval)

    def _projected(self, operation_id: str) -> None:
        self.projections += 1
