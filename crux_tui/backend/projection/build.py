"""The RunDetail of one run (§1 pipeline), in named stages over one :class:`Projection`.

:func:`project_run_detail` runs the stages in the rule book's order; each reads what the
earlier ones put on the state and adds its own part:

1. :func:`reconcile_graph` -- §2 R1-R7 on a working copy, then the run-level §6
   diagnostics (before re-parenting);
2. :func:`present` -- §3: re-parenting (3.1), roots and children (3.2), display classes
   (3.3), folding into nodes and pending details (3.4), and the ``tool.request`` owners the
   sibling order needs (3.5);
3. :func:`gather_buckets` -- §1 step 8: events, artifacts and relations per span;
4. :func:`choose_root` -- §4 *Root*: which node, if any, is the run's root;
5. :func:`assign_detail_owners` -- §4 *Semantic detail ownership*;
6. :func:`make_nodes` -- §3.4 / §4 *Node*: one node per primary span, children in §3.5
   order;
7. :func:`make_root` -- §4 *Root*: the real root or a virtual one, and the pre-order walk
   (paths, parents, depths);
8. :func:`attach_details` -- §4 *Detail*, *Inspection*, ``spanIndex``;
9. :func:`roll_up` -- §4 *Status rollups*, *Metric rollups*, timing, ``display.severity``;
10. :func:`unify_run_status` -- one status per run (:func:`.status.unified_run_status`);
11. :func:`count_and_facet` -- §1 step 9 / §3.4: ``facets`` and ``counts``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from crux_tui.contract.models import (
    ArtifactSummary,
    DetailCounts,
    Diagnostic,
    Graph,
    MemberRun,
    NodeDisplay,
    NodeSource,
    Placement,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    SpanSummary,
    Timing,
)
from crux_tui.contract.statuses import RUNNING, severity_of
from crux_tui.perf import no_gc

from . import display as disp
from . import metrics as met
from . import times
from .buckets import Buckets
from .common import attrs, tool_call_id
from .diagnostics import run_detail_diagnostics_at, run_diagnostics_at, span_diagnostics_at
from .flatten import Order, rows_of, walk
from .index import GraphIndex
from .inspection import inspection_of, run_tool_requests
from .ownership import semantic_owners
from .reconcile import reconcile
from .status import roll_up as roll_up_status
from .status import unified_run_status
from .tree import (
    TOP,
    Presentation,
    SortInfo,
    build_presentation,
    children_index,
    presentation_parents,
    sort_siblings,
    tool_request_owners,
)

FACET_KEYS = ("family", "primitive", "status", "model", "provider")

Metrics = dict[str, float]


class Projection:
    """What the stages of one projection share. Stages fill it in order (see the module)."""

    __slots__ = (
        "attached",
        "buckets",
        "classes",
        "detail_metrics",
        "details_of",
        "diagnostics",
        "holder",
        "idx",
        "moved",
        "node_detail_metrics",
        "nodes",
        "now_ns",
        "order",
        "order_owners",
        "own_metrics",
        "presentation",
        "reasons",
        "requests",
        "root_sid",
        "run_level",
        "span_index",
    )

    def __init__(self, graph: Graph, now: datetime) -> None:
        self.now_ns = times.from_datetime(now)
        #: the sanitised working copy every stage reads and reconciliation changes
        self.idx = GraphIndex(graph)
        #: §6 run-level diagnostics (stage 1)
        self.diagnostics: list[Diagnostic] = []
        #: span id -> display class (stage 2)
        self.classes: dict[str, str] = {}
        #: the folded forest: nodes, visual parents, detail lists (stage 2)
        self.presentation = Presentation()
        #: toolCallId -> span id of the generation that requested it (stage 2)
        self.order_owners: dict[str, str] = {}
        self.buckets: Buckets | None = None  # stage 3
        self.requests: dict[str, list[ArtifactSummary]] = {}  # stage 3
        #: the primary span that is the run's root, "" for a virtual root (stage 4)
        self.root_sid = ""
        #: detail span id -> the node span id it is attached to (TOP: the run) (stage 5)
        self.holder: dict[str, str] = {}
        #: detail span id -> its placement reason (stage 5)
        self.reasons: dict[str, str] = {}
        #: node span id -> details semantic ownership moved there (stage 5)
        self.moved: dict[str, list[str]] = {}
        #: node span id -> its folded details as folding listed them (stage 5)
        self.details_of: dict[str, list[str]] = {}
        #: run-level details (empty once they trail a real root) (stage 5)
        self.run_level: list[str] = []
        #: span id -> its node (stage 6)
        self.nodes: dict[str, RunDetailNode] = {}
        self.own_metrics: dict[str, Metrics] = {}  # stage 6
        #: the tree in pre-order, root first (stage 7)
        self.order: Order = []
        self.span_index: dict[str, Placement] = {}  # stage 8
        self.detail_metrics: dict[str, Metrics] = {}  # stage 8, per detail span id
        self.node_detail_metrics: dict[str, Metrics] = {}  # stage 8, per node id
        self.attached = 0  # stage 8

    @property
    def root(self) -> RunDetailNode:
        """The root node (after :func:`make_root`)."""
        return self.order[0][0]

    @property
    def root_id(self) -> str:
        return f"run:{self.idx.run.runId}"

    def node_id(self, sid: str) -> str:
        return self.root_id if sid == self.root_sid else f"span:{sid}"

    def bucketed(self) -> Buckets:
        assert self.buckets is not None, "gather_buckets runs first"
        return self.buckets


def project_run_detail(graph: Graph, now: datetime) -> RunDetail:
    """Project a canonical graph at ``now`` (aware UTC datetime). Pure; never mutates ``graph``."""
    with no_gc():  # many acyclic objects: GC passes would dominate otherwise
        p = Projection(graph, now)
        reconcile_graph(p)
        present(p)
        gather_buckets(p)
        choose_root(p)
        assign_detail_owners(p)
        make_nodes(p)
        make_root(p)
        attach_details(p)
        roll_up(p)
        unify_run_status(p)
        return count_and_facet(p)


# 1 ----------------------------------------------------------------------------------------
def reconcile_graph(p: Projection) -> None:
    """§2: R1-R7 on the working copy; then the run-level diagnostics (§6), which §1 step 3
    computes before re-parenting."""
    reconcile(p.idx, p.now_ns)
    p.diagnostics = run_detail_diagnostics_at(p.idx, p.now_ns)


# 2 ----------------------------------------------------------------------------------------
def present(p: Projection) -> None:
    """§3.1-3.4 (§1 steps 4-7): presentation parents, the presentation forest, display
    classes and the fold into nodes and details; §1 step 5's ``tool.request`` owners."""
    idx = p.idx
    p.order_owners = tool_request_owners(idx)
    pparent = presentation_parents(idx)
    proots, pchildren = children_index(idx, pparent)
    ptopo = GraphIndex.preorder(proots, pchildren)
    p.classes = disp.display_classes(idx.spans, ptopo, pparent, pchildren, idx.by_id)
    p.presentation = build_presentation(proots, pchildren, p.classes, idx.by_id)


# 3 ----------------------------------------------------------------------------------------
def gather_buckets(p: Projection) -> None:
    """§1 step 8: events, artifacts and relations per span; the run's tool requests (§4
    *Inspection*: a tool call lists the requests that carry its id)."""
    p.buckets = Buckets(p.idx)
    p.requests = run_tool_requests(p.idx)


# 4 ----------------------------------------------------------------------------------------
def choose_root(p: Projection) -> None:
    """§4 *Root*: a lone top-level node whose primitive is the run's root primitive, or
    whose name is the run's name (normalised), is the run's root."""
    run = p.idx.run
    top = p.presentation.vis_children[TOP]
    if len(top) != 1:
        return
    cand = p.idx.by_id[top[0]]
    if (run.rootPrimitive and run.rootPrimitive == cand.primitive) or (
        run.name and disp.normalize_name(run.name) == disp.normalize_name(cand.name)
    ):
        p.root_sid = cand.spanId


# 5 ----------------------------------------------------------------------------------------
def assign_detail_owners(p: Projection) -> None:
    """§4 *Semantic detail ownership*: a detail whose owner hint or ``explains`` edge names
    a visible node moves there (its reason says which); the others stay where folding put
    them (``chronology``). Run-level details trail a real root."""
    pres = p.presentation
    p.details_of = pres.details
    p.run_level = pres.run_details
    holder = p.holder
    for sid, listed in p.details_of.items():
        for d in listed:
            holder[d] = sid
    for d in p.run_level:
        holder[d] = TOP
    owners = semantic_owners(p.idx, set(holder), set(pres.nodes))
    reasons, moved = p.reasons, p.moved
    for span in p.idx.spans:
        d = span.spanId
        if d not in holder:
            continue
        owner = owners.get(d)
        if owner is None:
            reasons[d] = "chronology"
            continue
        reasons[d] = owner[1]
        if owner[0] != holder[d]:
            holder[d] = owner[0]
            moved.setdefault(owner[0], []).append(d)
    if p.root_sid:  # run-level details trail the real root
        p.details_of[p.root_sid].extend(p.run_level)
        for d in p.run_level:
            if holder[d] == TOP:
                holder[d] = p.root_sid
        p.run_level = []


def _final_details(p: Projection, key: str, listed: list[str]) -> list[str]:
    """The details a node (``key``: its span id, TOP for a virtual root) ends up with: those
    folding listed that no owner took away, then those ownership moved there."""
    holder = p.holder
    kept = [d for d in listed if holder[d] == key]
    kept.extend(p.moved.get(key, ()))
    return kept


# 6 ----------------------------------------------------------------------------------------
def make_nodes(p: Projection) -> None:
    """§3.4 / §4 *Node*: one node per primary span (visual parent, canonical parent, kind,
    label, bodies, diagnostics), then each node's children in §3.5 order."""
    idx, pres, buckets = p.idx, p.presentation, p.bucketed()
    by_id, raw_parent, now_ns = idx.by_id, idx.raw_parent, p.now_ns
    nodes, own_metrics = p.nodes, p.own_metrics
    for sid in pres.nodes:
        span = by_id[sid]
        evs = buckets.events.get(sid) or []
        arts = buckets.artifacts.get(sid) or []
        kind = disp.node_kind(span)
        kw = _span_kwargs(span)
        kw["parentSpanId"] = pres.vis_parent[sid]
        nodes[sid] = RunDetailNode(
            **kw,
            id=p.node_id(sid),
            kind=kind,
            display=NodeDisplay(kind=kind, label=disp.label(span)),
            source=NodeSource(placementReason="primary", canonicalParentSpanId=raw_parent[sid]),
            details=[],
            artifacts=arts or None,
            events=evs or None,
            relations=buckets.relations.get(sid) or None,
            diagnostics=span_diagnostics_at(span, now_ns) or None,
            children=[],
        )
        own_metrics[sid] = met.own_metrics(span, evs, arts)
    for sid in pres.nodes:
        nodes[sid].children = _sorted_children(p, sid)


def _span_kwargs(span: SpanSummary) -> dict[str, Any]:
    return msgspec.structs.asdict(span)


def _sorted_children(p: Projection, parent_key: str) -> list[RunDetailNode]:
    """§3.5: the visible children of ``parent_key`` (TOP: the top level) in sibling order."""
    by_id, raw_parent, order_owners = p.idx.by_id, p.idx.raw_parent, p.order_owners
    infos = []
    for k in p.presentation.vis_children.get(parent_key) or []:
        span = by_id[k]
        call_id = tool_call_id(attrs(span)) if span.primitive == "tool.call" else ""
        after = order_owners.get(call_id, "") if call_id else ""
        infos.append(SortInfo(k, span.startedAt, after if after != k else "", raw_parent[k]))
    nodes = p.nodes
    return [nodes[i.sid] for i in sort_siblings(infos)]


# 7 ----------------------------------------------------------------------------------------
def make_root(p: Projection) -> None:
    """§4 *Root*: the chosen node takes the run's id, status and name; else a virtual run
    root holds the top level. Then the pre-order walk sets paths, parents and depths."""
    run = p.idx.run
    if p.root_sid:
        root = p.nodes[p.root_sid]
        root.status = run.status
        root.display.label = run.name or root.display.label
        root.parentSpanId = ""
    else:
        root = RunDetailNode(
            id=p.root_id,
            virtual=True,
            runId=run.runId,
            traceId=run.traceId,
            family="run",
            primitive=run.rootPrimitive,
            name=run.name,
            status=run.status,
            startedAt=run.startedAt,
            endedAt=run.endedAt,
            durationMs=run.durationMs,
            model=run.model,
            provider=run.provider,
            promptId=run.promptId,
            attributes=run.attributes,
            metrics=run.metrics,
            error=run.error,
            kind="run",
            display=NodeDisplay(kind="run", label=run.name or run.rootPrimitive or run.runId),
            source=NodeSource(placementReason="primary"),
            details=[],
            diagnostics=run_diagnostics_at(run, p.now_ns) or None,
            children=_sorted_children(p, TOP),
        )
    p.order = walk(root)


# 8 ----------------------------------------------------------------------------------------
def attach_details(p: Projection) -> None:
    """§4 *Detail* and *Inspection*: every node gets its final details (built here) and its
    inspection sections; ``spanIndex`` says where each span is shown."""
    requests, own_metrics = p.requests, p.own_metrics
    for node, _depth in p.order:
        key = TOP if node.virtual else node.spanId
        listed = p.run_level if node.virtual else p.details_of.get(key, [])
        ids = _final_details(p, key, listed)
        node.details = [_make_detail(p, d, node) for d in ids]
        p.attached += len(ids)
        node.inspection = inspection_of(
            node.id if node.virtual else node.spanId,
            node,
            {} if node.virtual else own_metrics[node.spanId],
            details=node.details,
            requests=requests,
        )
        p.node_detail_metrics[node.id] = met.combined(*(p.detail_metrics[d] for d in ids))
        if not node.virtual:
            p.span_index[node.spanId] = Placement(
                placement="node", nodeId=node.id, path=node.path, reason="primary"
            )


def _make_detail(p: Projection, d: str, owner: RunDetailNode) -> RunDetailDetail:
    """The folded detail of span ``d`` under ``owner`` (§4 *Detail*)."""
    idx, buckets = p.idx, p.bucketed()
    span = idx.by_id[d]
    evs = buckets.events.get(d) or []
    arts = buckets.artifacts.get(d) or []
    own_m = p.detail_metrics[d] = met.own_metrics(span, evs, arts)
    reason = p.reasons.get(d, "chronology")
    did = f"detail:{d}"
    p.span_index[d] = Placement(
        placement="detail", ownerNodeId=owner.id, path=[*(owner.path or ()), did], reason=reason
    )
    made = RunDetailDetail(
        **_span_kwargs(span),
        id=did,
        kind=disp.node_kind(span),
        role=disp.role(span),
        label=disp.label(span),
        display="metadata" if p.classes[d] == "metadata" else "detail",
        timing=Timing(startedAt=span.startedAt, endedAt=span.endedAt, durationMs=span.durationMs),
        events=evs or None,
        artifacts=arts or None,
        relations=buckets.relations.get(d) or None,
        diagnostics=span_diagnostics_at(span, p.now_ns) or None,
        source=NodeSource(
            placementReason=reason,
            ownerSpanId=owner.spanId if not owner.virtual else "",
            canonicalParentSpanId=idx.raw_parent[d],
        ),
    )
    made.inspection = inspection_of(d, made, own_m, requests=p.requests)
    return made


# 9 ----------------------------------------------------------------------------------------
def roll_up(p: Projection) -> None:
    """§4 *Status rollups* and *Metric rollups*, post-order: status by precedence, severity,
    metric buckets, and timing (self, children and details time)."""
    run_metrics = p.idx.run.metrics
    totals: dict[str, Metrics] = {}
    for node, _depth in reversed(p.order):
        kids = node.children or []
        node.status = roll_up_status(node.status, [k.status for k in kids], node.primitive)
        node.display.severity = severity_of(node.status)
        children_m = met.combined(*(totals[k.id] for k in kids))
        own_m = {} if node.virtual else p.own_metrics[node.spanId]
        totals[node.id] = met.roll_up_node(
            node, own_m, p.node_detail_metrics[node.id], children_m, run_metrics
        )
        children_ms = sum(k.durationMs for k in kids if isinstance(k.durationMs, (int, float)))
        details_ms = sum(d.durationMs for d in node.details or ())
        node.timing = Timing(
            startedAt=node.startedAt,
            endedAt=node.endedAt,
            durationMs=node.durationMs,
            selfMs=max(0, node.durationMs - children_ms),
            childrenMs=children_ms,
            detailsMs=details_ms if node.details else None,
        )


# 10 ---------------------------------------------------------------------------------------
def unify_run_status(p: Projection) -> None:
    """One status per run: the run and its root row agree (see :func:`unified_run_status`)."""
    run, root = p.idx.run, p.root
    run.status = root.status = unified_run_status(run.status, root.status)
    root.display.severity = severity_of(root.status)


# 11 ---------------------------------------------------------------------------------------
def count_and_facet(p: Projection) -> RunDetail:
    """§1 step 9: ``facets`` from the canonical spans, ``counts`` by display class (§3.4),
    and the finished RunDetail."""
    facets: dict[str, dict[str, int]] = {key: {} for key in FACET_KEYS}
    counts = DetailCounts(attachedDetails=p.attached)
    classes = p.classes
    for span in p.idx.spans:
        for key in FACET_KEYS:
            value = getattr(span, key)
            if value:
                bucket = facets[key]
                bucket[value] = bucket.get(value, 0) + 1
        cls = classes[span.spanId]
        if cls == "primary":
            counts.primary += 1
        elif cls == "metadata":
            counts.metadata += 1
        else:
            counts.detail += 1
    return RunDetail(
        run=p.idx.run,
        root=p.root,
        rows=rows_of(p.order),
        spanIndex=p.span_index,
        facets=facets,
        diagnostics=p.diagnostics,
        counts=counts,
    )


def presented_status(detail: RunDetail | MemberRun) -> str:
    """A run's presented status (§7): the run's, or its root node's when the run still says
    running but its tree has settled."""
    status = detail.run.status or RUNNING
    if status == RUNNING and detail.root.status not in ("", RUNNING):
        return detail.root.status
    return status


def presented_run_status(graph: Graph, now: datetime) -> tuple[str, str]:
    """(presented status, reason) for the lifecycle ticker (§7)."""
    detail = project_run_detail(graph, now)
    diags = detail.diagnostics or []
    reason = diags[0].code if diags else "presentation-reconciled"
    return presented_status(detail), reason
