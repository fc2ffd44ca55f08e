"""Typed models of the Crux devtools observability HTTP contract (``crux-api.md``).

One set of ``msgspec`` Structs serves both sides: the embedded backend builds and
encodes them, the client decodes them. Decoding is tolerant: unknown fields are
ignored, every field has a default, and arrays that a Go backend may send as
``null`` are typed ``list[...] | None`` -- read them through :func:`items`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

JSONObject = dict[str, Any]


def items(value: list[T] | None) -> list[T]:
    """Return ``value`` or an empty list when the backend sent ``null``."""
    return value if value is not None else []


class DeliveryHealth(msgspec.Struct, kw_only=True, gc=False):
    status: str = "unknown"
    rejected: int = 0
    lastKnownAt: str = ""


class RunSummary(msgspec.Struct, kw_only=True, gc=False):
    """One row of the runs list; also ``RunDetail.run`` and ``Graph.run``."""

    runId: str = ""
    traceId: str = ""
    sessionId: str = ""
    userId: str = ""
    name: str = ""
    rootPrimitive: str = ""
    status: str = ""
    startedAt: str = ""
    endedAt: str = ""
    durationMs: float = 0
    model: str = ""
    provider: str = ""
    promptId: str = ""
    recordCount: int = 0
    spanCount: int = 0
    eventCount: int = 0
    artifactCount: int = 0
    edgeCount: int = 0
    segmentCount: int = 0
    activeSegmentId: str = ""
    orderingConfidence: str = "causal"
    gapCount: int = 0
    traceAliasConflict: bool = False
    lastActivityAt: str = ""
    revision: int = 0
    deliveryHealth: DeliveryHealth | None = None
    attributes: JSONObject | None = None
    metrics: JSONObject | None = None
    error: Any = None
    # v4/v5 additions, accepted when a newer backend sends them.
    operationId: str = ""
    childRunCount: int = 0
    activeChildCount: int = 0
    suspendedChildCount: int = 0
    failedChildCount: int = 0
    topologyHealth: str = ""
    #: The operation's root run id (= ``operationId``); empty from a v2 backend.
    rootRunId: str = ""
    #: False for an "Incomplete operation" row: the root's ``run:start`` has not arrived.
    rootPresent: bool = True
    #: When the operation was first seen: the order and cursor key of a v5 runs page.
    firstSeenAt: str = ""
    deployment: JSONObject | None = None


class RunsPage(msgspec.Struct, kw_only=True, gc=False):
    revision: int = 0
    rows: list[RunSummary] | None = None
    nextCursor: str | None = None


class RunChange(msgspec.Struct, kw_only=True, gc=False):
    entity: str = "run"
    id: str = ""
    revision: int = 0


class RunsDelta(msgspec.Struct, kw_only=True, gc=False):
    revision: int = 0
    changes: list[RunChange] | None = None
    expired: bool = False


class SpanSummary(msgspec.Struct, kw_only=True, gc=False):
    """A canonical span (start and end merged). Nodes and details embed these fields."""

    spanId: str = ""
    runId: str = ""
    traceId: str = ""
    parentSpanId: str = ""
    family: str = ""
    primitive: str = ""
    name: str = ""
    status: str = ""
    startedAt: str = ""
    endedAt: str = ""
    durationMs: float = 0
    model: str = ""
    provider: str = ""
    promptId: str = ""
    contextId: str = ""
    agentId: str = ""
    toolName: str = ""
    flowId: str = ""
    stepId: str = ""
    memoryId: str = ""
    retrieverId: str = ""
    attributes: JSONObject | None = None
    metrics: JSONObject | None = None
    error: Any = None


class SpanEventSummary(msgspec.Struct, kw_only=True, gc=False):
    eventId: str = ""
    runId: str = ""
    traceId: str = ""
    spanId: str = ""
    name: str = ""
    timestamp: str = ""
    attributes: JSONObject | None = None


class ArtifactSummary(msgspec.Struct, kw_only=True, gc=False):
    artifactId: str = ""
    runId: str = ""
    traceId: str = ""
    spanId: str = ""
    kind: str = ""
    createdAt: str = ""
    contentType: str = ""
    encoding: str = ""
    sizeBytes: int = 0
    hash: str = ""
    uri: str = ""
    preview: Any = None
    attributes: JSONObject | None = None
    redaction: JSONObject | None = None


class EdgeEndpoint(msgspec.Struct, kw_only=True, gc=False):
    kind: str = ""
    id: str = ""


class EdgeSummary(msgspec.Struct, kw_only=True, gc=False):
    edgeId: str = ""
    runId: str = ""
    traceId: str = ""
    edgeType: str = ""
    from_: EdgeEndpoint = msgspec.field(default_factory=EdgeEndpoint, name="from")
    to: EdgeEndpoint = msgspec.field(default_factory=EdgeEndpoint)
    createdAt: str = ""
    attributes: JSONObject | None = None


class StoredRecord(msgspec.Struct, kw_only=True, gc=False):
    recordId: str = ""
    runId: str = ""
    traceId: str = ""
    segmentId: str = ""
    segmentSeq: int = 0
    type: str = ""
    payloadJson: str = ""
    receivedAt: str = ""
    operationId: str = ""


class Graph(msgspec.Struct, kw_only=True, gc=False):
    """The raw canonical graph of one run (``GET /runs/{id}/graph``); input of the projection."""

    run: RunSummary = msgspec.field(default_factory=RunSummary)
    spans: list[SpanSummary] | None = None
    events: list[SpanEventSummary] | None = None
    artifacts: list[ArtifactSummary] | None = None
    edges: list[EdgeSummary] | None = None
    records: list[StoredRecord] | None = None


class Diagnostic(msgspec.Struct, kw_only=True, gc=False):
    code: str = ""
    severity: str = "warn"
    message: str = ""
    recordIds: list[str] | None = None
    spanIds: list[str] | None = None
    suggestedFix: str = ""


class NodeDisplay(msgspec.Struct, kw_only=True, gc=False):
    kind: str = ""
    label: str = ""
    description: str = ""
    icon: str = ""
    accent: str = ""
    severity: str = ""


class Timing(msgspec.Struct, kw_only=True, gc=False):
    startedAt: str = ""
    endedAt: str = ""
    durationMs: float = 0
    selfMs: float | None = None
    childrenMs: float | None = None
    detailsMs: float | None = None


class MetricBuckets(msgspec.Struct, kw_only=True, gc=False):
    own: JSONObject | None = None
    children: JSONObject | None = None
    details: JSONObject | None = None
    total: JSONObject | None = None


class NodeSource(msgspec.Struct, kw_only=True, gc=False):
    placementReason: str = ""
    ownerSpanId: str = ""
    canonicalParentSpanId: str = ""


class RunDetailDetail(SpanSummary, kw_only=True, gc=False):
    """A folded (non-primary) span attached to the node it explains."""

    id: str = ""
    kind: str = ""
    role: str = ""
    label: str = ""
    display: str = "detail"
    timing: Timing = msgspec.field(default_factory=Timing)
    summary: Any = None
    events: list[SpanEventSummary] | None = None
    artifacts: list[ArtifactSummary] | None = None
    relations: list[EdgeSummary] | None = None
    diagnostics: list[Diagnostic] | None = None
    source: NodeSource = msgspec.field(default_factory=NodeSource)
    inspection: dict[str, Any] | None = None
    definitionRefs: list[JSONObject] | None = None
    redaction: JSONObject | None = None
    decisionReport: Any = None


class RunDetailNode(SpanSummary, kw_only=True, gc=False):
    """A visible node of the presentation tree."""

    id: str = ""
    virtual: bool = False
    parentId: str = ""
    path: list[str] | None = None
    kind: str = ""
    display: NodeDisplay = msgspec.field(default_factory=NodeDisplay)
    timing: Timing = msgspec.field(default_factory=Timing)
    metricBuckets: MetricBuckets | None = None
    source: NodeSource = msgspec.field(default_factory=NodeSource)
    details: list[RunDetailDetail] | None = None
    artifacts: list[ArtifactSummary] | None = None
    events: list[SpanEventSummary] | None = None
    relations: list[EdgeSummary] | None = None
    diagnostics: list[Diagnostic] | None = None
    inspection: dict[str, Any] | None = None
    request: Any = None
    flow: Any = None
    step: Any = None
    composition: Any = None
    transition: Any = None
    definitionRefs: list[JSONObject] | None = None
    redaction: JSONObject | None = None
    decisionReport: Any = None
    children: list[RunDetailNode] | None = None


class RunDetailRow(msgspec.Struct, kw_only=True, gc=False):
    nodeId: str = ""
    spanId: str = ""
    parentId: str = ""
    depth: int = 0
    path: list[str] | None = None
    hasChildren: bool = False
    expandedDefault: bool = False
    display: NodeDisplay = msgspec.field(default_factory=NodeDisplay)
    status: str = ""
    model: str = ""
    provider: str = ""
    timing: Timing = msgspec.field(default_factory=Timing)
    match: bool = False


class Placement(msgspec.Struct, kw_only=True, gc=False):
    placement: str = ""
    nodeId: str = ""
    ownerNodeId: str = ""
    path: list[str] | None = None
    reason: str = ""


class DetailCounts(msgspec.Struct, kw_only=True, gc=False):
    primary: int = 0
    detail: int = 0
    metadata: int = 0
    attachedDetails: int = 0


class MemberRun(msgspec.Struct, kw_only=True, gc=False):
    """One run of an operation (crux-v5.md C.3): its own summary, tree and diagnostics.

    Child trees also appear mounted inside ``RunDetail.root`` as ``run:<runId>`` nodes;
    a client renders those, not these trees a second time.
    """

    run: RunSummary = msgspec.field(default_factory=RunSummary)
    parentRunId: str = ""
    triggeredBySpanId: str = ""
    root: RunDetailNode = msgspec.field(default_factory=RunDetailNode)
    diagnostics: list[Diagnostic] | None = None


class RunDetail(msgspec.Struct, kw_only=True, gc=False):
    """``GET /api/observability/runs/{runId}``: the folded, reconciled presentation of a run.

    From a v5 backend it covers the whole operation: ``memberRuns`` lists every member
    run, child runs are mounted inside ``root`` under the span that started them.
    """

    schemaVersion: int = 2
    run: RunSummary = msgspec.field(default_factory=RunSummary)
    root: RunDetailNode = msgspec.field(default_factory=RunDetailNode)
    rows: list[RunDetailRow] | None = None
    spanIndex: dict[str, Placement] | None = None
    facets: dict[str, dict[str, int]] | None = None
    diagnostics: list[Diagnostic] | None = None
    counts: DetailCounts = msgspec.field(default_factory=DetailCounts)
    memberRuns: list[MemberRun] | None = None
    definitionRefs: list[JSONObject] | None = None
    manifest: JSONObject | None = None
    currentCatalog: JSONObject | None = None
    currentProjectHealth: JSONObject | None = None
    redaction: JSONObject | None = None


#: Response header of the embedded backend: the RunDetail body's first N bytes plus ``}``
#: are a JSON object of the :class:`RunDetailHead` fields. A client may paint the rows
#: from them while the rest (the node bodies) still downloads. Other backends omit it.
HEAD_LENGTH_HEADER = "x-crux-rundetail-head-length"


class RunDetailHead(msgspec.Struct, kw_only=True, gc=False):
    """The small part of a RunDetail that a list view needs first: the run and its rows.

    The embedded backend writes these members before ``root`` and ``spanIndex`` (JSON
    member order carries no meaning, so the body is an ordinary RunDetail).
    """

    schemaVersion: int = 2
    run: RunSummary = msgspec.field(default_factory=RunSummary)
    rows: list[RunDetailRow] | None = None
    facets: dict[str, dict[str, int]] | None = None
    diagnostics: list[Diagnostic] | None = None
    counts: DetailCounts = msgspec.field(default_factory=DetailCounts)

    @classmethod
    def of(cls, detail: RunDetail) -> RunDetailHead:
        """The head of ``detail`` (its members shared, not copied)."""
        return cls(
            schemaVersion=detail.schemaVersion,
            run=detail.run,
            rows=detail.rows,
            facets=detail.facets,
            diagnostics=detail.diagnostics,
            counts=detail.counts,
        )


class ObservabilityEvent(msgspec.Struct, kw_only=True, gc=False):
    """A live invalidation event (``observability.records`` / ``observability.lifecycle``)."""

    tag: str = msgspec.field(default="ObservabilityEvent", name="_tag")
    id: str = ""
    timestamp: int = 0
    kind: str = ""
    action: str = ""
    severity: str = "info"
    refId: str = ""
    payload: JSONObject | None = None

    def run_refs(self) -> set[str]:
        """Every run or trace id this event names (contract section 3.2)."""
        refs = {self.refId} if self.refId else set()
        payload = self.payload or {}
        for key in ("runId", "traceId", "operationId"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                refs.add(value)
        for key in ("runIds", "traceIds", "operationIds"):
            values = payload.get(key)
            if isinstance(values, list):
                refs.update(v for v in values if isinstance(v, str) and v)
        return refs


class DeleteResult(msgspec.Struct, kw_only=True, gc=False):
    """``DELETE /runs/{id}`` (crux-v5.md B.1): the operations removed with all their member
    runs, and the revision that records it."""

    operationIds: list[str] | None = None
    revision: int = 0


class IngestDisposition(msgspec.Struct, kw_only=True, gc=False):
    index: int
    recordId: str = ""
    outcome: str = "accepted"
    code: str = "accepted"
    message: str | None = None
    retryable: bool = False


class IngestResponse(msgspec.Struct, kw_only=True, gc=False):
    dispositions: list[IngestDisposition] | None = None
