"""Diagnostics (§6): run-level list and per-span (first match only). All severity "warn"."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import Diagnostic, RunSummary
from crux_tui.contract.statuses import INCOMPLETE, NO_END_STATUSES, RUNNING

from . import times
from .common import reconciled_from
from .index import GraphIndex

RUN_DESCENDANT_DEADLINE = (
    "descendant-operation-deadline-exceeded",
    "run has incomplete observability because a descendant exceeded its Crux operation deadline "
    "without a terminal record",
    "Flush or acknowledge terminal records from descendant operations before the Crux operation "
    "deadline expires.",
)
STALE_BOUNDARY = (
    "stale-boundary",
    "run has no end record and has been inactive past the local freshness window",
    "Close the observed run on every terminal path, including thrown errors, cancellations, and "
    "serverless boundary exits.",
)
CROSS_TRACE = (
    "cross-trace-run",
    "run contains spans whose trace id differs from the run trace id",
    "Check propagation of runId/traceId through nested runtime boundaries so every span in a run "
    "keeps the root trace id.",
)
MISSING_PARENT = (
    "missing-parent-span",
    "span references a parent span that is not part of this run",
    "Ensure the parent span start/end records are emitted with the same run id before child spans "
    "are flushed.",
)
MISSING_END = (
    "missing-span-end",
    "span has no end record and appears stale",
    "Call span.end or span.error for this operation on every terminal path.",
)
OPERATION_DEADLINE = (
    "operation-deadline-exceeded",
    "span exceeded its Crux operation deadline before a terminal observability record arrived",
    "Close or error the observed span before the configured operation deadline, or extend the "
    "deadline for legitimate long-running work.",
)
SPAN_DESCENDANT_DEADLINE = (
    "descendant-operation-deadline-exceeded",
    "span has incomplete observability because a descendant exceeded its Crux operation deadline",
    "Check descendant operations for missing terminal span records or too-short operation "
    "deadlines.",
)
LEASE_EXPIRED = (
    "convex-boundary-lease-expired",
    "Convex boundary did not send a terminal acknowledgement before its lease expired",
    "Ensure the Convex runtime bridge sends terminal acknowledgements or increases the boundary "
    "lease for this action.",
)
# Issue #3 asks for this one although newer Go builds dropped it (shared W3C traces are legal).
TRACE_ALIAS_CONFLICT = (
    "trace-alias-conflict",
    "run was resolved from a trace id shared by several runs; the newest run was chosen",
    "Open the run by its run id, or give unrelated runs distinct trace ids.",
)
# Additions for hostile input (not in the Go backend).
PARENT_CYCLE = (
    "cyclic-parent-span",
    "span parent references form a cycle; the span is shown as a root",
    "Ensure parentSpanId always points at an enclosing span that started earlier.",
)
DUPLICATE_SPAN = (
    "duplicate-span-id",
    "several spans share this span id; only the first one is presented",
    "Generate a unique span id for every span.",
)


def make(spec: tuple[str, str, str], span_ids: list[str] | None = None) -> Diagnostic:
    code, message, fix = spec
    return Diagnostic(
        code=code, severity="warn", message=message, spanIds=span_ids, suggestedFix=fix
    )


def run_diagnostics_at(run: RunSummary, now_ns: int) -> list[Diagnostic]:
    """``runDiagnosticsAt``: at most one diagnostic about the run itself."""
    if reconciled_from(run) == "descendant.operation.deadline":
        return [make(RUN_DESCENDANT_DEADLINE)]
    if (
        run.status in (RUNNING, INCOMPLETE)
        and not run.endedAt
        and times.is_stale(run.lastActivityAt or run.startedAt, now_ns)
    ):
        return [make(STALE_BOUNDARY)]
    return []


def span_diagnostics_at(span: Any, now_ns: int) -> list[Diagnostic]:
    """``spanDiagnosticsAt``: first match only."""
    source = reconciled_from(span)
    if source == "operation.deadline":
        return [make(OPERATION_DEADLINE, [span.spanId])]
    if source == "descendant.operation.deadline":
        return [make(SPAN_DESCENDANT_DEADLINE, [span.spanId])]
    if source == "runtime.convex.boundary.lease":
        return [make(LEASE_EXPIRED, [span.spanId])]
    if (
        span.status in NO_END_STATUSES
        and not span.endedAt
        and times.is_stale(span.startedAt, now_ns)
    ):
        return [make(MISSING_END, [span.spanId])]
    return []


def run_detail_diagnostics_at(idx: GraphIndex, now_ns: int) -> list[Diagnostic]:
    """``runDetailDiagnosticsAt`` on the reconciled graph (before re-parenting)."""
    run = idx.run
    out = run_diagnostics_at(run, now_ns)
    if run.traceId:
        for span in idx.spans:
            if span.traceId and span.traceId != run.traceId:
                out.append(make(CROSS_TRACE, [span.spanId]))
                break
    for span in idx.spans:
        raw = idx.raw_parent[span.spanId]
        if raw and raw not in idx.by_id:
            out.append(make(MISSING_PARENT, [span.spanId, raw]))
    for sid in idx.cycle_cut:
        out.append(make(PARENT_CYCLE, [sid, idx.raw_parent[sid]]))
    for sid in dict.fromkeys(idx.duplicates):
        out.append(make(DUPLICATE_SPAN, [sid]))
    for span in idx.spans:
        if (
            span.status in NO_END_STATUSES
            and not span.endedAt
            and times.is_stale(run.lastActivityAt or span.startedAt, now_ns)
        ):
            out.append(make(MISSING_END, [span.spanId]))
    if run.traceAliasConflict is True:
        out.append(make(TRACE_ALIAS_CONFLICT))
    return out
