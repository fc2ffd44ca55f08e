"""The runs-list row of an operation, from its member runs' stored summaries (crux-v5.md B.2).

Pure: the store hands over each member's canonical summary and effective status
(lifecycle-reconciled when the reconciler said so) and gets the row it keeps for
``runs/page``. The operation RunDetail counts children with the same rule
(:func:`child_counts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from crux_tui.backend.rollup import ADDITIVE_METRICS
from crux_tui.backend.timeutil import sort_key
from crux_tui.contract.models import DeliveryHealth, RunSummary
from crux_tui.contract.statuses import (
    FAILED_CHILD_STATUSES,
    INCOMPLETE,
    OPEN_OPERATION_STATUSES,
    RUNNING,
    SUSPENDED,
)

#: Name and status of an operation whose root run has not arrived (B.5).
INCOMPLETE_OPERATION = "Incomplete operation"


@dataclass(frozen=True, slots=True)
class StoredMember:
    """A member run as stored: its canonical summary and its effective status."""

    summary: RunSummary
    status: str


def child_counts(operation_id: str, members: Iterable[tuple[str, str]]) -> dict[str, int]:
    """``childRunCount`` and the active / suspended / failed child counts from
    ``(runId, status)`` pairs of every member (the root is not a child)."""
    counts = {
        "childRunCount": 0,
        "activeChildCount": 0,
        "suspendedChildCount": 0,
        "failedChildCount": 0,
    }
    for run_id, status in members:
        if run_id == operation_id:
            continue
        counts["childRunCount"] += 1
        if status == RUNNING:
            counts["activeChildCount"] += 1
        elif status == SUSPENDED:
            counts["suspendedChildCount"] += 1
        elif status in FAILED_CHILD_STATUSES:
            counts["failedChildCount"] += 1
    return counts


def sum_metrics(base: dict | None, others: Iterable[dict | None]) -> dict | None:
    """``base`` (kept as it is) plus the token and cost figures of ``others``."""
    out = dict(base) if base else {}
    for metrics in others:
        for key, value in (metrics or {}).items():
            if key in ADDITIVE_METRICS and type(value) in (int, float):
                current = out.get(key, 0)
                if type(current) not in (int, float):
                    current = 0
                out[key] = current + value
    return out or None


def operation_row(
    operation_id: str,
    members: Sequence[StoredMember],
    *,
    first_seen_at: str,
    revision: int,
    topology_health: str,
) -> RunSummary:
    """The list row of an operation: the root's identity and status (an "Incomplete
    operation" without it), sums over every member."""
    root = next(
        (m for m in members if m.summary.runId == operation_id and m.summary.rootPresent), None
    )
    if root is not None:
        row = msgspec.structs.replace(root.summary, status=root.status)
    else:
        row = RunSummary(
            runId=operation_id, name=INCOMPLETE_OPERATION, status=INCOMPLETE, rootPresent=False
        )
    ordered = sorted(members, key=lambda m: m.summary.runId != operation_id)
    summaries = [m.summary for m in ordered]
    row.operationId = row.rootRunId = operation_id
    row.firstSeenAt = first_seen_at
    row.revision = revision
    row.topologyHealth = topology_health
    row.traceAliasConflict = False
    for name in ("recordCount", "spanCount", "eventCount", "artifactCount", "edgeCount"):
        setattr(row, name, sum(getattr(s, name) for s in summaries))
    row.segmentCount = sum(s.segmentCount for s in summaries)
    row.gapCount = sum(s.gapCount for s in summaries)
    row.orderingConfidence = (
        "partial" if any(s.orderingConfidence == "partial" for s in summaries) else "causal"
    )
    running = [m for m in ordered if m.status == RUNNING and m.summary.activeSegmentId]
    row.activeSegmentId = running[0].summary.activeSegmentId if len(running) == 1 else ""
    row.lastActivityAt = max(
        (s.lastActivityAt for s in summaries), key=sort_key, default=row.lastActivityAt
    )
    for name in ("model", "provider", "promptId"):
        if not getattr(row, name):
            setattr(row, name, next((getattr(s, name) for s in summaries if getattr(s, name)), ""))
    base = root.summary if root is not None else None
    if base is None or len(summaries) > 1:
        row.metrics = sum_metrics(
            base.metrics if base is not None else None,
            [s.metrics for s in summaries if s is not base],
        )
    for key, value in child_counts(
        operation_id, ((m.summary.runId, m.status) for m in members)
    ).items():
        setattr(row, key, value)
    row.deliveryHealth = _delivery_health(row, summaries)
    return row


def _delivery_health(row: RunSummary, summaries: Sequence[RunSummary]) -> DeliveryHealth:
    """Degraded when any member had rejections; healthy once the operation is terminal,
    causal and gap-free; else unknown (B.2)."""
    known = [s.deliveryHealth for s in summaries if s.deliveryHealth is not None]
    last = max((h.lastKnownAt for h in known), key=sort_key, default="")
    degraded = [h for h in known if h.status == "degraded"]
    if degraded:
        return DeliveryHealth(
            status="degraded", rejected=sum(h.rejected for h in degraded), lastKnownAt=last
        )
    settled = bool(row.endedAt) and row.status not in OPEN_OPERATION_STATUSES and row.rootPresent
    if settled and row.orderingConfidence == "causal" and not row.gapCount:
        return DeliveryHealth(status="healthy", lastKnownAt=last)
    return DeliveryHealth(status="unknown", lastKnownAt=last)
