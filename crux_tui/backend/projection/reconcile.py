"""Presentation reconciliation R1-R7 (``presentation.md`` section 2), on the GraphIndex copies.

Strict order: R1 boundary ack, R2 lease expiry, R3 terminal ancestors, R4 operation deadlines,
R5 incompleteness propagation, R6 terminal children, R7 freshness. Every rule is O(n) (R5 sorts
its causes: O(k log k)). Only the working copies are changed; every reconciled span/run gets
``attributes.diagnostics.reconciledFrom`` plus context keys.

Deterministic ports of Go behaviour that depended on slice/map order:

* R3 visits spans parents-first (pre-order) instead of input order. The result only differs
  from Go when a child precedes a reconciled parent in the input *and* that parent had completion
  evidence (the child then inherits "ok" instead of the grand-parent's status).
* R5 processes causes latest ``endedAt`` first (ties: input order), so an ancestor with several
  expired descendants is closed at the latest cause end -- consistent with the run rule, which
  also takes the latest cause end. (Go iterated a map: nondeterministic.)
* R6 additionally records which child decided the aggregate status (``decidedBy``, with
  ``decidedByReason`` / ``causeSpanId`` when known; see :func:`decided_by`).
* R7 additionally stamps ``reconciledFrom: "freshness"`` on spans/runs it marks stale/incomplete
  (the issue requires a marker on every reconciled span; Go leaves none here).
"""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import SpanEventSummary, SpanSummary
from crux_tui.contract.statuses import ACK_STATUSES, INCOMPLETE, STALE, TERMINAL_CHILDREN_RANK

from . import times
from .common import (
    BOUNDARY_PRIMITIVES,
    LEASE_EVENTS,
    TERMINAL_ACK_EVENTS,
    attrs,
    is_open,
    is_terminal,
    merge_diagnostics,
    number,
    reconciled_from,
    sub,
    text,
)
from .index import GraphIndex

COMPLETION_EVENTS = frozenset({"usage.observed", "generation.finished", "tool.result"})
COMPLETION_ARTIFACTS = frozenset({"output", "tool.result"})


def _close(span: Any, ended: str, status: str, diag: dict[str, Any]) -> None:
    span.endedAt = ended
    span.status = status
    span.durationMs = times.duration_ms(span.startedAt, ended)
    merge_diagnostics(span, diag)


def _ev_name(ev: SpanEventSummary) -> str:
    return ev.name if type(ev.name) is str else ""


def _ev_ts(ev: SpanEventSummary) -> str:
    return ev.timestamp if type(ev.timestamp) is str else ""


def reconcile(idx: GraphIndex, now_ns: int) -> None:
    """Apply R1-R7 in order to ``idx.spans`` / ``idx.run`` (the working copies)."""
    r1_boundary_ack(idx)
    r2_boundary_lease(idx, now_ns)
    r3_terminal_ancestors(idx)
    r4_operation_deadlines(idx, now_ns)
    r5_propagate_incomplete(idx)
    r6_terminal_children(idx)
    r7_freshness(idx, now_ns)


# R1 ---------------------------------------------------------------------------------------
def r1_boundary_ack(idx: GraphIndex) -> None:
    for span in idx.spans:
        if span.primitive not in BOUNDARY_PRIMITIVES or not is_open(span):
            continue
        latest: SpanEventSummary | None = None
        for ev in idx.events_by_span.get(span.spanId, ()):
            if _ev_name(ev) in TERMINAL_ACK_EVENTS and (
                latest is None or _ev_ts(ev) > _ev_ts(latest)
            ):
                latest = ev
        if latest is None:
            continue
        if _ev_name(latest) == "runtime.convex.boundary.failed":
            status = "error"
        else:
            status = text(attrs(latest), "status")
            status = status if status in ACK_STATUSES else "ok"
        _close(
            span,
            times.reformat(_ev_ts(latest)),
            status,
            {"reconciledFrom": "runtime.convex.boundary", "boundaryEvent": _ev_name(latest)},
        )


# R2 ---------------------------------------------------------------------------------------
def _lease(idx: GraphIndex, span: SpanSummary) -> tuple[str, str]:
    """(leaseExpiresAt, event name) -- max by string compare over requested/received events."""
    best, best_event = "", ""
    for ev in idx.events_by_span.get(span.spanId, ()):
        if _ev_name(ev) in LEASE_EVENTS:
            lease = text(attrs(ev), "leaseExpiresAt")
            if lease and lease > best:
                best, best_event = lease, _ev_name(ev)
    return best, best_event


def _has_ack(idx: GraphIndex, span: SpanSummary) -> bool:
    return any(
        _ev_name(ev) in TERMINAL_ACK_EVENTS for ev in idx.events_by_span.get(span.spanId, ())
    )


def r2_boundary_lease(idx: GraphIndex, now_ns: int) -> None:
    for span in idx.spans:
        if span.primitive not in BOUNDARY_PRIMITIVES or not is_open(span) or _has_ack(idx, span):
            continue
        lease, event = _lease(idx, span)
        parsed = times.parse(lease)
        if parsed is None or now_ns < parsed[0]:
            continue
        _close(
            span,
            times.format_ns(*parsed),
            STALE,
            {
                "reconciledFrom": "runtime.convex.boundary.lease",
                "boundaryEvent": event,
                "leaseExpiresAt": lease,
            },
        )


# R3 ---------------------------------------------------------------------------------------
def has_completion_evidence(idx: GraphIndex, sid: str) -> bool:
    if any(_ev_name(ev) in COMPLETION_EVENTS for ev in idx.events_by_span.get(sid, ())):
        return True
    return any(a.kind in COMPLETION_ARTIFACTS for a in idx.artifacts_by_span.get(sid, ()))


def r3_terminal_ancestors(idx: GraphIndex) -> None:
    nearest: dict[str, str] = {}  # spanId -> nearest terminal ancestor (after reconciliation)
    by_id = idx.by_id
    for sid in idx.topo:
        span = by_id[sid]
        parent_id = idx.parent[sid]
        if parent_id:
            parent = by_id[parent_id]
            anc_id = parent_id if is_terminal(parent) else nearest.get(parent_id, "")
        else:
            anc_id = ""
        if anc_id:
            nearest[sid] = anc_id
        if not anc_id or not is_open(span):
            continue
        anc = by_id[anc_id]
        if not times.before_or_equal(span.startedAt, anc.endedAt):
            continue
        status = "ok" if has_completion_evidence(idx, sid) else anc.status
        _close(
            span,
            anc.endedAt,
            status,
            {"reconciledFrom": "terminal.ancestor", "ancestorSpanId": anc_id},
        )


# R4 ---------------------------------------------------------------------------------------
def attribute_deadline(span: SpanSummary) -> tuple[str, float | None]:
    """Deadline from span attributes: ``deadlineAt`` else ``startedAt + timeoutMs``."""
    a = attrs(span)
    timeout = number(a.get("timeoutMs"))
    deadline = text(a, "deadlineAt")
    if deadline:
        return deadline, timeout
    if timeout is not None and timeout > 0:
        started = times.parse(span.startedAt)
        if started is not None:
            return times.format_ns(started[0] + int(timeout * 1_000_000), started[1]), timeout
    return "", timeout


def r4_operation_deadlines(idx: GraphIndex, now_ns: int) -> None:
    for span in idx.spans:
        if not is_open(span):
            continue
        deadline, timeout = attribute_deadline(span)
        for ev in idx.events_by_span.get(span.spanId, ()):
            if _ev_name(ev) != "operation.deadline":
                continue
            ev_deadline = text(attrs(ev), "deadlineAt")
            if ev_deadline and ev_deadline > deadline:
                deadline, timeout = ev_deadline, number(attrs(ev).get("timeoutMs"))
        parsed = times.parse(deadline)
        if parsed is None or now_ns < parsed[0]:
            continue
        diag: dict[str, Any] = {"reconciledFrom": "operation.deadline", "deadlineAt": deadline}
        if timeout is not None:
            diag["timeoutMs"] = timeout
        _close(span, times.format_ns(*parsed), INCOMPLETE, diag)


# R5 ---------------------------------------------------------------------------------------
def r5_propagate_incomplete(idx: GraphIndex) -> None:
    causes = [
        s
        for s in idx.spans
        if s.status == INCOMPLETE and s.endedAt and reconciled_from(s) == "operation.deadline"
    ]
    if not causes:
        return
    # Latest end first (stable: input order among equal ends) -- see module docstring.
    causes.sort(key=lambda s: times.sort_key_latest(s.endedAt), reverse=True)  # stable
    visited: set[str] = set()
    for cause in causes:
        for anc_id in idx.ancestors(cause.spanId):
            if anc_id in visited:
                break  # everything above was already handled by a later-ending cause
            visited.add(anc_id)
            anc = idx.by_id[anc_id]
            if is_open(anc):
                _close(
                    anc,
                    cause.endedAt,
                    INCOMPLETE,
                    {
                        "reconciledFrom": "descendant.operation.deadline",
                        "causeSpanId": cause.spanId,
                    },
                )
    run = idx.run
    if is_open(run):
        latest = causes[0]
        run.endedAt = latest.endedAt
        run.status = INCOMPLETE
        run.durationMs = times.duration_ms(run.startedAt, run.endedAt)
        merge_diagnostics(
            run,
            {"reconciledFrom": "descendant.operation.deadline", "causeSpanId": latest.spanId},
        )


# R6 ---------------------------------------------------------------------------------------
def _latest_end(spans: list[Any]) -> str:
    latest: str = max((s.endedAt for s in spans), key=times.sort_key_latest)
    return latest


def _decider(spans: list[Any]) -> Any:
    """The span whose status is the aggregate: highest R6 rank, the first one on ties."""
    # max keeps the first maximum
    return max(spans, key=lambda s: TERMINAL_CHILDREN_RANK.get(s.status, 0))


def decided_by(spans: list[Any]) -> tuple[str, dict[str, Any]]:
    """(aggregate status, diagnostics naming the child that decided it and why).

    ``decidedBy`` is that child (none when every child is ok). The chain is followed through children that were closed by
    their own children (or by a descendant's deadline) down to the span that caused it,
    ``causeSpanId`` when that is not the child itself; ``decidedByReason`` is how the cause's
    status was reconciled, when it was. (An addition of ours: Go records ``reconciledFrom``.)
    """
    child = _decider(spans)
    if not TERMINAL_CHILDREN_RANK.get(child.status, 0):  # every child ok: nothing decided it
        return child.status, {"reconciledFrom": "terminal.children"}
    diag: dict[str, Any] = {"reconciledFrom": "terminal.children", "decidedBy": child.spanId}
    inner = sub(attrs(child), "diagnostics")
    cause, how = child.spanId, text(inner, "reconciledFrom")
    if how == "terminal.children":
        cause = text(inner, "causeSpanId") or text(inner, "decidedBy") or cause
        how = text(inner, "decidedByReason")
    elif how == "descendant.operation.deadline" and text(inner, "causeSpanId"):
        cause, how = text(inner, "causeSpanId"), "operation.deadline"
    if cause != child.spanId:
        diag["causeSpanId"] = cause
    if how:
        diag["decidedByReason"] = how
    return child.status, diag


def r6_terminal_children(idx: GraphIndex) -> None:
    by_id = idx.by_id
    for sid in reversed(idx.topo):  # children before parents: one pass reaches the fixed point
        kids = idx.children.get(sid)
        span = by_id[sid]
        if not kids or not is_open(span):
            continue
        children = [by_id[k] for k in kids]
        if all(is_terminal(c) for c in children):
            status, diag = decided_by(children)
            _close(span, _latest_end(children), status, diag)
    run = idx.run
    top = [s for s in idx.spans if idx.raw_parent[s.spanId] == ""]
    if top and is_open(run) and all(is_terminal(s) for s in top):
        status, diag = decided_by(top)
        _close(run, _latest_end(top), status, diag)


# R7 ---------------------------------------------------------------------------------------
def protected_spans(idx: GraphIndex, now_ns: int) -> set[str]:
    """Open spans with a future attribute deadline or a live boundary lease, plus ancestors."""
    protected: set[str] = set()
    for span in idx.spans:
        if not is_open(span):
            continue
        live = False
        deadline = times.ns(attribute_deadline(span)[0])
        if deadline is not None and deadline > now_ns:
            live = True
        elif span.primitive in BOUNDARY_PRIMITIVES:
            lease = times.ns(_lease(idx, span)[0])
            live = lease is not None and lease > now_ns
        if not live or span.spanId in protected:
            continue
        protected.add(span.spanId)
        for anc in idx.ancestors(span.spanId):
            if anc in protected:
                break
            protected.add(anc)
    return protected


def r7_freshness(idx: GraphIndex, now_ns: int) -> None:
    protected = protected_spans(idx, now_ns)
    run = idx.run
    if (
        not protected
        and is_open(run)
        and times.is_stale(run.lastActivityAt or run.startedAt, now_ns)
    ):
        run.status = INCOMPLETE
        run.durationMs = times.elapsed_ms(run.startedAt, now_ns)
        merge_diagnostics(run, {"reconciledFrom": "freshness", "staleAfterMs": 60_000})
    for span in idx.spans:
        if span.spanId in protected or not is_open(span):
            continue
        if times.is_stale(run.lastActivityAt or span.startedAt, now_ns):
            span.status = STALE
            span.durationMs = times.elapsed_ms(span.startedAt, now_ns)
            merge_diagnostics(span, {"reconciledFrom": "freshness", "staleAfterMs": 60_000})
