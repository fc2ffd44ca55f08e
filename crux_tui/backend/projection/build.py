"""Assemble the RunDetail (§1 pipeline, §4 tree): nodes, details, root, rows, spanIndex, facets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from crux_tui.contract.models import (
    ArtifactSummary,
    DetailCounts,
    Diagnostic,
    EdgeSummary,
    Graph,
    MemberRun,
    NodeDisplay,
    NodeSource,
    Placement,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    SpanEventSummary,
    SpanSummary,
    Timing,
)
from crux_tui.contract.statuses import RUNNING, severity_of
from crux_tui.perf import no_gc

from . import display as disp
from . import metrics as met
from . import times
from .common import attrs, tool_call_id
from .diagnostics import run_detail_diagnostics_at, run_diagnostics_at, span_diagnostics_at
from .flatten import rows_of, walk
from .index import GraphIndex
from .inspection import inspection_of, run_tool_requests
from .ownership import semantic_owners
from .reconcile import reconcile
from .status import roll_up, unified_run_status
from .tree import (
    TOP,
    SortInfo,
    build_presentation,
    children_index,
    presentation_parents,
    sort_siblings,
    tool_request_owners,
)

CONTEXT_ARTIFACTS = frozenset({"context", "context.contribution"})
FACET_KEYS = ("family", "primitive", "status", "model", "provider")


def _span_kwargs(span: SpanSummary) -> dict[str, Any]:
    return msgspec.structs.asdict(span)


def _str(value: Any) -> str:
    return value if type(value) is str else ""


class Buckets:
    """Events / artifacts / relations per span, sorted as the Go builder does (step 8)."""

    def __init__(self, idx: GraphIndex) -> None:
        self.events: dict[str, list[SpanEventSummary]] = {}
        for sid, evs in idx.events_by_span.items():
            kept = [e for e in evs if e.name != "token.chunk"]
            kept.sort(key=lambda e: (_str(e.timestamp), _str(e.eventId)))
            self.events[sid] = kept
        self.artifacts: dict[str, list[ArtifactSummary]] = {
            sid: list(arts) for sid, arts in idx.artifacts_by_span.items()
        }
        self.relations: dict[str, list[EdgeSummary]] = {}
        art_by_id = {a.artifactId: a for a in idx.artifacts if type(a.artifactId) is str}
        for edge in idx.edges:
            src, dst = getattr(edge, "from_", None), getattr(edge, "to", None)
            ends = [
                e for e in (src, dst) if e is not None and e.kind == "span" and type(e.id) is str
            ]
            for end in {e.id: e for e in ends}.values():
                self.relations.setdefault(end.id, []).append(edge)
            if (
                edge.edgeType == "consumed"
                and src is not None
                and dst is not None
                and src.kind == "artifact"
                and dst.kind == "span"
            ):
                art = art_by_id.get(src.id)
                if art is not None and art.kind in CONTEXT_ARTIFACTS:
                    bucket = self.artifacts.setdefault(dst.id, [])
                    if art not in bucket:
                        bucket.append(art)
        for rels in self.relations.values():
            rels.sort(key=lambda e: (_str(e.createdAt), _str(e.edgeId)))


def project_run_detail(graph: Graph, now: datetime) -> RunDetail:
    """Project a canonical graph at ``now`` (aware UTC datetime). Pure; never mutates ``graph``."""
    with no_gc():  # many acyclic objects: GC passes would dominate otherwise
        return _project(graph, now)


def _project(graph: Graph, now: datetime) -> RunDetail:
    now_ns = times.from_datetime(now)
    idx = GraphIndex(graph)
    reconcile(idx, now_ns)
    run = idx.run
    run_diags = run_detail_diagnostics_at(idx, now_ns)
    by_id = idx.by_id
    order_owners = tool_request_owners(idx)

    pparent = presentation_parents(idx)
    proots, pchildren = children_index(idx, pparent)
    ptopo = GraphIndex.preorder(proots, pchildren)
    classes = disp.display_classes(idx.spans, ptopo, pparent, pchildren, by_id)
    pres = build_presentation(proots, pchildren, classes, by_id)
    buckets = Buckets(idx)
    requests = run_tool_requests(idx)

    # --- root decision ----------------------------------------------------------------------
    top = pres.vis_children[TOP]
    root_sid = ""
    if len(top) == 1:
        cand = by_id[top[0]]
        if (run.rootPrimitive and run.rootPrimitive == cand.primitive) or (
            run.name and disp.normalize_name(run.name) == disp.normalize_name(cand.name)
        ):
            root_sid = cand.spanId
    root_id = f"run:{run.runId}"

    def node_id(sid: str) -> str:
        return root_id if sid == root_sid else f"span:{sid}"

    # --- detail ownership -------------------------------------------------------------------
    holder_lists: dict[str, list[str]] = pres.details
    run_level = pres.run_details
    holder: dict[str, str] = {}  # detail sid -> node sid ("" = run root)
    for sid, lst in holder_lists.items():
        for d in lst:
            holder[d] = sid
    for d in run_level:
        holder[d] = TOP
    visible = set(pres.nodes)
    owners = semantic_owners(idx, set(holder), visible)
    reasons: dict[str, str] = {}
    moved: dict[str, list[str]] = {}
    for span in idx.spans:
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
    if root_sid:  # run-level details trail the real root
        holder_lists[root_sid].extend(run_level)
        for d in run_level:
            if holder[d] == TOP:
                holder[d] = root_sid
        run_level = []

    def final_details(key: str, listed: list[str]) -> list[str]:
        kept = [d for d in listed if holder[d] == key]
        kept.extend(moved.get(key, ()))
        return kept

    # --- nodes --------------------------------------------------------------------------------
    nodes: dict[str, RunDetailNode] = {}
    own_metrics: dict[str, dict[str, float]] = {}
    for sid in pres.nodes:
        span = by_id[sid]
        evs = buckets.events.get(sid) or []
        arts = buckets.artifacts.get(sid) or []
        kind = disp.node_kind(span)
        kw = _span_kwargs(span)
        vp = pres.vis_parent[sid]
        kw["parentSpanId"] = vp
        nodes[sid] = RunDetailNode(
            **kw,
            id=node_id(sid),
            kind=kind,
            display=NodeDisplay(kind=kind, label=disp.label(span)),
            source=NodeSource(placementReason="primary", canonicalParentSpanId=idx.raw_parent[sid]),
            details=[],
            artifacts=arts or None,
            events=evs or None,
            relations=buckets.relations.get(sid) or None,
            diagnostics=span_diagnostics_at(span, now_ns) or None,
            children=[],
        )
        own_metrics[sid] = met.own_metrics(span, evs, arts)

    # sibling order, per level
    def sorted_children(parent_key: str) -> list[RunDetailNode]:
        kids = pres.vis_children.get(parent_key) or []
        infos = []
        for k in kids:
            span = by_id[k]
            call_id = tool_call_id(attrs(span)) if span.primitive == "tool.call" else ""
            after = order_owners.get(call_id, "") if call_id else ""
            infos.append(
                SortInfo(k, span.startedAt, after if after != k else "", idx.raw_parent[k])
            )
        return [nodes[i.sid] for i in sort_siblings(infos)]

    for sid in pres.nodes:
        nodes[sid].children = sorted_children(sid)

    if root_sid:
        root = nodes[root_sid]
        root.status = run.status
        root.display.label = run.name or root.display.label
        root.parentSpanId = ""
    else:
        root = RunDetailNode(
            id=root_id,
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
            diagnostics=run_diagnostics_at(run, now_ns) or None,
            children=sorted_children(TOP),
        )

    # --- pre-order walk: paths, parents, depth ----------------------------------------------
    order = walk(root)

    # --- details ------------------------------------------------------------------------------
    span_index: dict[str, Placement] = {}
    detail_metrics: dict[str, dict[str, float]] = {}
    attached = 0

    def make_detail(d: str, owner: RunDetailNode) -> RunDetailDetail:
        span = by_id[d]
        evs = buckets.events.get(d) or []
        arts = buckets.artifacts.get(d) or []
        own_m = detail_metrics[d] = met.own_metrics(span, evs, arts)
        reason = reasons.get(d, "chronology")
        did = f"detail:{d}"
        span_index[d] = Placement(
            placement="detail", ownerNodeId=owner.id, path=[*owner.path, did], reason=reason
        )
        made = RunDetailDetail(
            **_span_kwargs(span),
            id=did,
            kind=disp.node_kind(span),
            role=disp.role(span),
            label=disp.label(span),
            display="metadata" if classes[d] == "metadata" else "detail",
            timing=Timing(
                startedAt=span.startedAt, endedAt=span.endedAt, durationMs=span.durationMs
            ),
            events=evs or None,
            artifacts=arts or None,
            relations=buckets.relations.get(d) or None,
            diagnostics=span_diagnostics_at(span, now_ns) or None,
            source=NodeSource(
                placementReason=reason,
                ownerSpanId=owner.spanId if not owner.virtual else "",
                canonicalParentSpanId=idx.raw_parent[d],
            ),
        )
        made.inspection = inspection_of(d, made, own_m, requests=requests)
        return made

    node_dmetrics: dict[str, dict[str, float]] = {}
    for node, _depth in order:
        key = TOP if node.virtual else node.spanId
        listed = run_level if node.virtual else holder_lists.get(key, [])
        ids = final_details(key, listed)
        node.details = [make_detail(d, node) for d in ids]
        attached += len(ids)
        node.inspection = inspection_of(
            node.id if node.virtual else node.spanId,
            node,
            {} if node.virtual else own_metrics[node.spanId],
            details=node.details,
            requests=requests,
        )
        node_dmetrics[node.id] = met.combined(*(detail_metrics[d] for d in ids))
        if not node.virtual:
            span_index[node.spanId] = Placement(
                placement="node", nodeId=node.id, path=node.path, reason="primary"
            )

    # --- post-order roll-ups: status, metrics, timing, severity -----------------------------
    totals: dict[str, dict[str, float]] = {}
    for node, _depth in reversed(order):
        kids = node.children or []
        node.status = roll_up(node.status, [k.status for k in kids], node.primitive)
        node.display.severity = severity_of(node.status)
        children_m = met.combined(*(totals[k.id] for k in kids))
        own_m = {} if node.virtual else own_metrics[node.spanId]
        totals[node.id] = met.roll_up_node(
            node, own_m, node_dmetrics[node.id], children_m, run.metrics
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

    # One status per run: the run and its root row agree (see unified_run_status)
    run.status = root.status = unified_run_status(run.status, root.status)
    root.display.severity = severity_of(root.status)

    rows = rows_of(order)

    # --- facets & counts ----------------------------------------------------------------------
    facets: dict[str, dict[str, int]] = {key: {} for key in FACET_KEYS}
    counts = DetailCounts(attachedDetails=attached)
    for span in idx.spans:
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

    diagnostics: list[Diagnostic] = run_diags
    return RunDetail(
        run=run,
        root=root,
        rows=rows,
        spanIndex=span_index,
        facets=facets,
        diagnostics=diagnostics,
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
