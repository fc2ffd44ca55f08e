"""Canonical graph assembly: decoded records of one run (in arrival order) -> :class:`Graph`.

Pure. ``span:start`` and ``span:end`` merge into one span (either may come first), a second
start for a started span id is kept apart so the projection can report it, and
``token.chunk`` events stay out of ``Graph.events`` (served by the span events route).
"""

from __future__ import annotations

from collections.abc import Sequence

from crux_tui.backend.timeutil import millis_between
from crux_tui.backend.wire import WireRecord
from crux_tui.contract.models import (
    ArtifactSummary,
    EdgeEndpoint,
    EdgeSummary,
    Graph,
    RunSummary,
    SpanEventSummary,
    SpanSummary,
)
from crux_tui.contract.statuses import RUNNING

#: Span events kept out of ``Graph.events`` (served lazily by the span events route).
LAZY_EVENT_NAMES = frozenset({"token.chunk"})


def event_summary(w: WireRecord, trace: str) -> SpanEventSummary:
    """A decoded ``span:event`` as the contract presents it."""
    return SpanEventSummary(
        eventId=w.eventId or "",
        runId=w.runId,
        traceId=w.traceId or trace,
        spanId=w.spanId or "",
        name=w.name or "",
        timestamp=w.timestamp or "",
        attributes=w.attributes,
    )


def _span_from(w: WireRecord, trace: str) -> SpanSummary:
    return SpanSummary(
        spanId=w.spanId or "",
        runId=w.runId,
        traceId=w.traceId or trace,
        parentSpanId=w.parentSpanId or "",
        family=w.family or "",
        primitive=w.primitive or "",
        name=w.name or "",
        status=w.status or RUNNING,
        startedAt=w.startedAt or "",
        model=w.model or "",
        provider=w.provider or "",
        promptId=w.promptId or "",
        contextId=w.contextId or "",
        agentId=w.agentId or "",
        toolName=w.toolName or "",
        flowId=w.flowId or "",
        stepId=w.stepId or "",
        memoryId=w.memoryId or "",
        retrieverId=w.retrieverId or "",
        attributes=w.attributes,
    )


def _close_span(span: SpanSummary, w: WireRecord) -> None:
    if w.endedAt:
        span.endedAt = w.endedAt
    if w.status:
        span.status = w.status
    if w.durationMs is not None:
        span.durationMs = w.durationMs
    elif span.endedAt and span.startedAt:
        span.durationMs = millis_between(span.startedAt, span.endedAt) or 0
    if w.metrics is not None:
        span.metrics = w.metrics
    if w.error is not None:
        span.error = w.error
    if w.attributes and w.type == "span:end":
        span.attributes = {**(span.attributes or {}), **w.attributes}


def assemble_graph(summary: RunSummary, wires: Sequence[WireRecord]) -> Graph:
    """Merge decoded records (in arrival order) into the canonical graph."""
    trace = summary.traceId
    spans: dict[str, SpanSummary] = {}
    pending_end: dict[str, WireRecord] = {}
    events: list[SpanEventSummary] = []
    artifacts: list[ArtifactSummary] = []
    edges: list[EdgeSummary] = []
    duplicates: list[SpanSummary] = []
    for w in wires:
        rtype = w.type
        if rtype == "span:start" or rtype == "span":
            sid = w.spanId or ""
            existing = spans.get(sid)
            fresh = _span_from(w, trace)
            if existing is not None and not existing.family and not existing.primitive:
                # a span:end arrived first: keep its completion fields
                end = pending_end.pop(sid, None)
                spans[sid] = fresh
                if end is not None:
                    _close_span(fresh, end)
            elif existing is None:
                spans[sid] = fresh
            else:
                # A second start for a started span id: the first one wins; keep the
                # other in the graph so the projection reports ``duplicate-span-id``.
                if rtype == "span":
                    _close_span(fresh, w)
                duplicates.append(fresh)
                continue
            if rtype == "span":
                _close_span(spans[sid], w)
        elif rtype == "span:end":
            sid = w.spanId or ""
            span = spans.get(sid)
            if span is None:
                span = SpanSummary(spanId=sid, runId=w.runId, traceId=w.traceId or trace)
                spans[sid] = span
                pending_end[sid] = w
            _close_span(span, w)
        elif rtype == "span:event":
            if (w.name or "") not in LAZY_EVENT_NAMES:
                events.append(event_summary(w, trace))
        elif rtype == "artifact":
            size = w.sizeBytes
            artifacts.append(
                ArtifactSummary(
                    artifactId=w.artifactId or "",
                    runId=w.runId,
                    traceId=w.traceId or trace,
                    spanId=w.spanId or "",
                    kind=w.kind or "",
                    createdAt=w.createdAt or "",
                    contentType=w.contentType or "",
                    encoding=w.encoding or "",
                    sizeBytes=int(size) if size is not None else 0,
                    hash=w.hash or "",
                    uri=w.uri or "",
                    preview=w.preview,
                    attributes=w.attributes,
                )
            )
        elif rtype == "edge":
            src, dst = w.from_ or EdgeEndpoint(), w.to or EdgeEndpoint()
            edges.append(
                EdgeSummary(
                    edgeId=w.edgeId or "",
                    runId=w.runId,
                    traceId=w.traceId or trace,
                    edgeType=w.edgeType or "",
                    from_=EdgeEndpoint(kind=src.kind, id=src.id),
                    to=EdgeEndpoint(kind=dst.kind, id=dst.id),
                    createdAt=w.createdAt or "",
                    attributes=w.attributes,
                )
            )
    return Graph(
        run=summary,
        spans=[*spans.values(), *duplicates],
        events=events,
        artifacts=artifacts,
        edges=edges,
    )
