"""RunDetail deltas: our backend's extension of ``GET /runs/{id}`` for live refetches.

A full RunDetail of a big running run is tens of megabytes, and the viewer refetches it on
every change. The embedded backend therefore tags each RunDetail of a running operation it
serves (response header :data:`DETAIL_TAG_HEADER`, an opaque string), keeps the last one
per operation, and answers ``GET /runs/{id}?since=TAG`` with a :class:`RunDetailDelta`
(header :data:`DELTA_BASE_HEADER` = ``TAG``) when TAG is the one it kept: the head members
and the operation members whole, the nodes that changed (without their children), the
child lists that changed, the rows and span-index entries that changed. Any other TAG gets
the full body. A backend that sends no tag (``crux dev``) is simply refetched in full.

:func:`apply_delta` is the client's half: pure, no I/O. It rebuilds the new tree from the
old one, sharing every unchanged subtree (nodes are replaced by ``id``, never mutated).
"""

from __future__ import annotations

import msgspec

from crux_tui.contract.models import (
    DetailCounts,
    Diagnostic,
    JSONObject,
    MemberRun,
    Placement,
    RunDetail,
    RunDetailNode,
    RunDetailRow,
    RunSummary,
)

#: Response header: the tag of the RunDetail (full body or the result of a delta).
DETAIL_TAG_HEADER = "x-crux-rundetail-tag"
#: Response header of a delta answer: the tag the delta applies to.
DELTA_BASE_HEADER = "x-crux-rundetail-delta-base"
#: Query parameter asking for a delta against the RunDetail of this tag.
SINCE_PARAM = "since"


class RunDetailDelta(msgspec.Struct, kw_only=True, gc=False):
    """What changed between the RunDetail tagged ``base`` and the one tagged ``tag``."""

    base: str = ""
    tag: str = ""
    # the head and operation members of the new RunDetail, whole (they are small)
    schemaVersion: int = 2
    run: RunSummary = msgspec.field(default_factory=RunSummary)
    facets: dict[str, dict[str, int]] | None = None
    diagnostics: list[Diagnostic] | None = None
    counts: DetailCounts = msgspec.field(default_factory=DetailCounts)
    memberRuns: list[MemberRun] | None = None
    definitionRefs: list[JSONObject] | None = None
    manifest: JSONObject | None = None
    currentCatalog: JSONObject | None = None
    currentProjectHealth: JSONObject | None = None
    redaction: JSONObject | None = None
    #: how many nodes the tree tagged ``base`` has (a check that the delta fits it)
    baseNodes: int = 0
    #: id of the new tree's root node
    rootId: str = ""
    #: nodes new or changed (``children`` always ``None``: see ``children``)
    nodes: list[RunDetailNode] | None = None
    #: node id -> its children's ids, for every node of ``nodes`` that has a child list and
    #: every other node whose child list changed
    children: dict[str, list[str]] | None = None
    #: ids of the old tree's nodes that are gone
    removed: list[str] | None = None
    #: every row's ``nodeId``, in order (``None``: the new RunDetail has ``rows: null``)
    rowIds: list[str] | None = None
    #: rows new or changed
    rows: list[RunDetailRow] | None = None
    #: span-index entries new or changed, and the keys that are gone (``spanIndexNull``:
    #: the new RunDetail has ``spanIndex: null``)
    spanIndex: dict[str, Placement] | None = None
    spanIndexRemoved: list[str] | None = None
    spanIndexNull: bool = False


class DetailAnswer(msgspec.Struct, kw_only=True, gc=False):
    """An answer of ``GET /runs/{id}``: the RunDetail, or (asked with ``since``, from a
    backend that keeps tags: see ``contract.delta``) a delta against the tagged one."""

    detail: RunDetail | None = None
    delta: RunDetailDelta | None = None
    #: paths of fields that could not be parsed
    problems: list[str] = msgspec.field(default_factory=list)
    #: the tag of the answered RunDetail ("" when the backend keeps none)
    tag: str = ""


class DeltaMismatch(ValueError):
    """The delta does not fit the RunDetail it is applied to: refetch the whole body."""


def node_index(root: RunDetailNode) -> dict[str, RunDetailNode]:
    """node id -> node of the tree under ``root`` (iterative; the first of a repeated id)."""
    index: dict[str, RunDetailNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        index.setdefault(node.id, node)
        if node.children:
            stack.extend(node.children)
    return index


def apply_delta(
    old: RunDetail, delta: RunDetailDelta, old_index: dict[str, RunDetailNode] | None = None
) -> RunDetail:
    """The RunDetail ``delta`` describes, built on ``old`` (the one its ``base`` tags).

    Nodes are replaced by ``id``: a changed node comes from the delta, an unchanged one is
    the old object, shared with ``old`` when nothing under it changed, else a copy with new
    children. ``old`` is not modified. Raises :class:`DeltaMismatch` when the delta names
    a node or row that neither it nor ``old`` has.
    """
    olds = old_index if old_index is not None else node_index(old.root)
    if len(olds) != delta.baseNodes:
        raise DeltaMismatch(f"the delta is for a tree of {delta.baseNodes} nodes, not {len(olds)}")
    changed = {node.id: node for node in delta.nodes or ()}
    child_ids = delta.children or {}
    root = _rebuild(delta.rootId, olds, changed, child_ids)
    return RunDetail(
        schemaVersion=delta.schemaVersion,
        run=delta.run,
        root=root,
        rows=_merge_rows(old.rows, delta),
        spanIndex=_merge_span_index(old.spanIndex, delta),
        facets=delta.facets,
        diagnostics=delta.diagnostics,
        counts=delta.counts,
        memberRuns=delta.memberRuns,
        definitionRefs=delta.definitionRefs,
        manifest=delta.manifest,
        currentCatalog=delta.currentCatalog,
        currentProjectHealth=delta.currentProjectHealth,
        redaction=delta.redaction,
    )


def _rebuild(
    root_id: str,
    olds: dict[str, RunDetailNode],
    changed: dict[str, RunDetailNode],
    child_ids: dict[str, list[str]],
) -> RunDetailNode:
    """The new tree, built bottom-up (iteratively: a deep tree must not overflow)."""
    built: dict[str, RunDetailNode] = {}
    # (id, children listed yet): post-order without recursion
    stack: list[tuple[str, bool]] = [(root_id, False)]
    seen: set[str] = set()
    while stack:
        node_id, expanded = stack.pop()
        kids = _kid_ids(node_id, olds, changed, child_ids)
        if not expanded:
            if node_id in seen:
                raise DeltaMismatch(f"node {node_id!r} appears twice in the new tree")
            seen.add(node_id)
            stack.append((node_id, True))
            stack.extend((kid, False) for kid in reversed(kids or ()))
            continue
        new_kids = None if kids is None else [built[kid] for kid in kids]
        fresh = changed.get(node_id)
        if fresh is not None:
            built[node_id] = msgspec.structs.replace(fresh, children=new_kids)
            continue
        old = olds[node_id]
        same = new_kids is None or (
            old.children is not None
            and len(new_kids) == len(old.children)
            and all(a is b for a, b in zip(new_kids, old.children, strict=True))
        )
        built[node_id] = old if same else msgspec.structs.replace(old, children=new_kids)
    return built[root_id]


def _kid_ids(
    node_id: str,
    olds: dict[str, RunDetailNode],
    changed: dict[str, RunDetailNode],
    child_ids: dict[str, list[str]],
) -> list[str] | None:
    """The child ids of ``node_id`` in the new tree (``None``: no child list)."""
    listed = child_ids.get(node_id)
    if listed is not None:
        return listed
    if node_id in changed:
        return None  # a changed node's child list is always listed when it has one
    old = olds.get(node_id)
    if old is None:
        raise DeltaMismatch(f"node {node_id!r} is neither in the delta nor in the old tree")
    return None if old.children is None else [kid.id for kid in old.children]


def _merge_rows(old: list[RunDetailRow] | None, delta: RunDetailDelta) -> list[RunDetailRow] | None:
    if delta.rowIds is None:
        return None
    fresh = {row.nodeId: row for row in delta.rows or ()}
    olds = {row.nodeId: row for row in old or ()}
    rows = []
    for node_id in delta.rowIds:
        row = fresh.get(node_id) or olds.get(node_id)
        if row is None:
            raise DeltaMismatch(f"row {node_id!r} is neither in the delta nor in the old rows")
        rows.append(row)
    return rows


def _merge_span_index(
    old: dict[str, Placement] | None, delta: RunDetailDelta
) -> dict[str, Placement] | None:
    if delta.spanIndexNull:
        return None
    merged = dict(old or {})
    for key in delta.spanIndexRemoved or ():
        merged.pop(key, None)
    merged.update(delta.spanIndex or {})
    return merged
