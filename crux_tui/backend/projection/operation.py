"""The operation RunDetail (crux-v5.md C): every member run projected with the per-run rule
book, child runs mounted under the span that started them, one document for the whole
operation.

Pure: :func:`project_operation_detail` is a function of an :class:`OperationGraph` (the
member graphs and their ``run:start`` links) and the clock. Steps (C.1, C.4, C.7):

1. project each member with :func:`project_run_detail` (unchanged, per run);
2. the root member's projection becomes the document, or a synthetic "Incomplete
   operation" when the root has not arrived;
3. mount each child's root node (``run:<childRunId>``) under its trigger span in its
   parent run: that span's node, the node a folded trigger span (a Convex boundary is a
   detail) is attached to, else the parent run's root; a parent that never resolves
   (missing, cyclic) puts the child under the operation root;
4. re-flatten ``rows`` and ``spanIndex`` and recompute the metric roll-ups over the
   mounted tree (status roll-ups are not re-run: the document's status is the root run's);
5. aggregate counts, facets and metrics over members, add ``memberRuns``, the topology
   health and diagnostics, ``definitionRefs`` and the (unspecified) manifest.

``memberRuns[i].root`` is the member's root node *without* its subtree and bodies (details,
events, artifacts, relations, inspection, request): they are already in the document
(mounted), and sending a big run's nodes twice would double the body. Clients render the
mounted tree (crux-v5.md E.3 #14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from crux_tui.backend.operations import INCOMPLETE_OPERATION, child_counts, sum_metrics
from crux_tui.backend.timeutil import sort_key
from crux_tui.contract.models import (
    DetailCounts,
    Diagnostic,
    Graph,
    MemberRun,
    MetricBuckets,
    NodeDisplay,
    NodeSource,
    RunDetail,
    RunDetailNode,
    RunSummary,
)
from crux_tui.contract.statuses import INCOMPLETE, severity_of
from crux_tui.perf import no_gc

from . import metrics as met
from .build import presented_status, project_run_detail
from .flatten import rows_of, span_index_of, walk
from .settled import clock_independent
from .topology import MemberLink, operation_topology

#: ``schemaVersion`` of an operation RunDetail.
OPERATION_DETAIL_VERSION = 5
#: What we say about definitions: crux-tui has no project manifests to resolve them.
UNSPECIFIED_MANIFEST = {"resolution": "manifest-unspecified", "definitions": []}


@dataclass(frozen=True, slots=True)
class MemberGraph:
    """One member run: its canonical graph and what its ``run:start`` said."""

    graph: Graph
    parent_run_id: str = ""
    triggered_by_span_id: str = ""
    #: The run's ``run:start`` arrived (for the root: the operation is not incomplete).
    has_start: bool = True
    #: Run-level ``definitionRefs`` (from ``run:start``).
    definition_refs: tuple[dict[str, Any], ...] = ()
    #: span id -> the ``definitionRefs`` that span emitted.
    span_refs: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.graph.run.runId


@dataclass(frozen=True, slots=True)
class OperationGraph:
    """Everything the operation RunDetail is made of."""

    operation_id: str
    #: Root first (when stored), then by start time and run id.
    members: tuple[MemberGraph, ...]
    first_seen_at: str = ""
    revision: int = 0
    #: run id -> operation, for parents named by members that belong to another operation.
    foreign_runs: Mapping[str, str] = field(default_factory=dict)


def operation_settled(operation: OperationGraph) -> bool:
    """True when the operation's RunDetail no longer depends on the clock."""
    return all(clock_independent(m.graph) for m in operation.members)


#: A member's presented status (the lifecycle ticker's rule).
member_status = presented_status


def project_operation_detail(operation: OperationGraph, now: datetime) -> RunDetail:
    """Project an operation at ``now`` (aware UTC datetime). Pure; never mutates the input."""
    with no_gc():
        return _project(operation, now)


Projected = list[tuple[MemberGraph, RunDetail]]


def _project(operation: OperationGraph, now: datetime) -> RunDetail:
    op_id = operation.operation_id
    # 1. every member, per run
    projected: Projected = [(m, project_run_detail(m.graph, now)) for m in operation.members]
    _attach_definition_refs(projected)
    member_runs = _member_runs(op_id, projected)  # before mounting moves their roots
    root_pair = next(((m, d) for m, d in projected if m.run_id == op_id), None)
    children = [(m, d) for m, d in projected if m.run_id != op_id]
    # 2. the document
    doc = root_pair[1] if root_pair is not None else _incomplete_document(op_id, children)
    # 3-4. child runs mounted, the tree flattened again, metrics rolled up again
    if children:
        _mount(op_id, doc, root_pair, children)
        order = walk(doc.root)
        _recompute_metrics(order, {m.run_id: d.run.metrics for m, d in projected})
        doc.rows = rows_of(order)
        doc.spanIndex = span_index_of(order)
    # 5. operation-wide figures, topology, member runs, definitions
    root_present = root_pair is not None and root_pair[0].has_start
    health, topology_diagnostics = _topology(operation, root_present)
    _aggregate(doc, op_id, [d for _, d in projected], root_pair is not None)
    run = doc.run
    run.topologyHealth = health
    run.rootPresent = root_present
    run.firstSeenAt = operation.first_seen_at or run.firstSeenAt
    doc.schemaVersion = OPERATION_DETAIL_VERSION
    doc.diagnostics = [*(doc.diagnostics or ()), *topology_diagnostics]
    doc.memberRuns = member_runs
    doc.definitionRefs = _unique_refs(m.definition_refs for m in operation.members)
    doc.manifest = {**UNSPECIFIED_MANIFEST, "definitions": []}
    return doc


def _member_runs(op_id: str, projected: Projected) -> list[MemberRun]:
    """``memberRuns``: each member's run, links, shallow root and diagnostics (C.3)."""
    return [
        MemberRun(
            run=msgspec.structs.replace(d.run),
            parentRunId=m.parent_run_id if m.run_id != op_id else "",
            triggeredBySpanId=m.triggered_by_span_id if m.run_id != op_id else "",
            root=_shallow(d.root),
            diagnostics=list(d.diagnostics or ()),
        )
        for m, d in projected
    ]


def _topology(operation: OperationGraph, root_present: bool) -> tuple[str, list[Diagnostic]]:
    """The operation's topology health and diagnostics (B.4, C.6) from its members' links."""
    spans = {m.run_id: {s.spanId for s in m.graph.spans or ()} for m in operation.members}
    return operation_topology(
        operation.operation_id,
        root_present,
        [
            MemberLink(m.run_id, m.parent_run_id, m.triggered_by_span_id, m.graph.run.traceId)
            for m in operation.members
        ],
        lambda run, span: span in spans.get(run, ()),
        operation.foreign_runs.get,
    )


def _shallow(node: RunDetailNode) -> RunDetailNode:
    """A member's root node without its subtree and bodies (the document carries them, mounted):
    identity, status, timing, metrics, attributes, error and diagnostics."""
    return msgspec.structs.replace(
        node,
        children=None,
        details=None,
        events=None,
        artifacts=None,
        relations=None,
        inspection=None,
        request=None,
    )


def _incomplete_document(op_id: str, children: Projected) -> RunDetail:
    """The synthetic document of an operation whose root run has not arrived (C.1)."""
    starts = [d.run.startedAt for _, d in children if d.run.startedAt]
    started = min(starts, key=sort_key, default="")
    label = INCOMPLETE_OPERATION
    root = RunDetailNode(
        id=f"run:{op_id}",
        virtual=True,
        runId=op_id,
        family="run",
        name=label,
        status=INCOMPLETE,
        startedAt=started,
        kind="run",
        display=NodeDisplay(kind="run", label=label, severity=severity_of(INCOMPLETE)),
        source=NodeSource(placementReason="primary"),
        details=[],
        children=[],
        path=[f"run:{op_id}"],
    )
    run = RunSummary(
        runId=op_id,
        operationId=op_id,
        rootRunId=op_id,
        rootPresent=False,
        name=label,
        status=INCOMPLETE,
        startedAt=started,
    )
    return RunDetail(run=run, root=root, rows=[], spanIndex={}, facets={}, diagnostics=[])


def _nodes_by_id(root: RunDetailNode) -> dict[str, RunDetailNode]:
    out: dict[str, RunDetailNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        out.setdefault(node.id, node)
        stack.extend(node.children or ())
    return out


def _mount(
    op_id: str,
    doc: RunDetail,
    root_pair: tuple[MemberGraph, RunDetail] | None,
    children: Projected,
) -> None:
    """Append each child's root node under its trigger span in its parent run (C.4)."""
    members = [*([root_pair] if root_pair else []), *children]
    # node ids, and where each span is shown, per member: taken before anything moves
    nodes = {m.run_id: _nodes_by_id(d.root) for m, d in members}
    index = {m.run_id: dict(d.spanIndex or {}) for m, d in members}
    mounted: dict[str, RunDetailNode] = {op_id: doc.root}

    def target(parent: str, trigger: str) -> RunDetailNode:
        placement = index.get(parent, {}).get(trigger) if trigger else None
        if placement is not None:
            node_id = placement.nodeId if placement.placement == "node" else placement.ownerNodeId
            node = nodes[parent].get(node_id)
            if node is not None:
                return node
        return mounted[parent]

    pending = list(children)
    while pending:
        rest = []
        for member, detail in pending:
            parent = member.parent_run_id
            if parent and parent != member.run_id and parent in mounted:
                host = target(parent, member.triggered_by_span_id)
                host.children = [*(host.children or ()), detail.root]
                mounted[member.run_id] = detail.root
            else:
                rest.append((member, detail))
        if len(rest) == len(pending):
            break
        pending = rest
    for _member, detail in pending:  # the parent never resolved: under the operation root
        doc.root.children = [*(doc.root.children or ()), detail.root]


def _recompute_metrics(order: list[tuple[RunDetailNode, int]], run_metrics: dict[str, Any]) -> None:
    """Metric roll-ups over the mounted tree (§4 rules: a virtual run root totals its
    children and details, gaps filled from its run's metrics)."""
    totals: dict[int, dict[str, float]] = {}
    for node, _depth in reversed(order):
        buckets = node.metricBuckets or MetricBuckets()
        totals[id(node)] = met.roll_up_node(
            node,
            met.normalize(buckets.own),
            met.normalize(buckets.details),
            met.combined(*(totals[id(k)] for k in node.children or ())),
            run_metrics.get(node.runId),
        )


def _aggregate(doc: RunDetail, op_id: str, details: list[RunDetail], has_root: bool) -> None:
    """Operation-wide figures on the document: counts, facets, metrics, child counts."""
    run = doc.run
    run.operationId = run.rootRunId = op_id
    runs = [d.run for d in details]
    for name in ("recordCount", "spanCount", "eventCount", "artifactCount", "edgeCount"):
        setattr(run, name, sum(getattr(r, name) for r in runs))
    run.segmentCount = sum(r.segmentCount for r in runs)
    run.gapCount = sum(r.gapCount for r in runs)
    for key, value in child_counts(
        op_id, ((d.run.runId, member_status(d)) for d in details)
    ).items():
        setattr(run, key, value)
    if len(details) > 1 or not has_root:
        root_metrics = run.metrics if has_root else None
        run.metrics = sum_metrics(
            root_metrics, [d.run.metrics for d in details if d.run.runId != op_id or not has_root]
        )
        counts = DetailCounts()
        facets: dict[str, dict[str, int]] = {}
        for d in details:
            c = d.counts
            counts.primary += c.primary
            counts.detail += c.detail
            counts.metadata += c.metadata
            counts.attachedDetails += c.attachedDetails
            for facet, bucket in (d.facets or {}).items():
                into = facets.setdefault(facet, {})
                for word, n in bucket.items():
                    into[word] = into.get(word, 0) + n
        doc.counts = counts
        doc.facets = facets


def _attach_definition_refs(projected: Projected) -> None:
    """``definitionRefs`` of the exact span on its node or detail (C.5)."""
    for member, detail in projected:
        refs = member.span_refs
        if not refs:
            continue
        stack = [detail.root]
        while stack:
            node = stack.pop()
            if node.spanId in refs and not node.virtual:
                node.definitionRefs = refs[node.spanId]
            for d in node.details or ():
                if d.spanId in refs:
                    d.definitionRefs = refs[d.spanId]
            stack.extend(node.children or ())


def _unique_refs(groups: Any) -> list[dict[str, Any]]:
    """Run-level refs of every member, once per (id, kind, role)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[dict[str, Any]] = []
    for refs in groups:
        for ref in refs:
            key = (str(ref.get("id", "")), str(ref.get("kind", "")), str(ref.get("role", "")))
            if key not in seen:
                seen.add(key)
                out.append(ref)
    return out
