"""RunDetail deltas for live refetches of running operations (``crux_tui.contract.delta``).

The backend keeps, per running operation, the last RunDetail it served (as objects) with
an opaque tag; a request that names that tag (``?since=TAG``) gets what changed since
instead of the whole body. The delta is found by comparing the two projections node by
node, so it is exact whatever changed (a new record, or only the clock: a deadline that
expired). Settled operations are not kept: their bodies are cached whole
(``detail_cache``), and a refetch of a settled run is rare.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import msgspec
from msgspec.structs import astuple, replace

from crux_tui.backend.detail_cache import DetailCache
from crux_tui.backend.details import encode_run_detail
from crux_tui.backend.projection.operation import operation_settled, project_operation_detail
from crux_tui.backend.store import Store
from crux_tui.contract.delta import RunDetailDelta
from crux_tui.contract.models import RunDetail, RunDetailNode, RunDetailRow, RunSummary

#: ``children`` is the last field of a node: ``astuple(node)[:-1]`` is everything else.
assert RunDetailNode.__struct_fields__[-1] == "children"

#: Running operations whose last RunDetail is kept (least recently served first out)...
KEEP_OPERATIONS = 8
#: ... and the rows they may hold together (a kept 10k-span RunDetail is about 26 MB of
#: objects); the one served last is kept whatever its size.
KEEP_ROWS = 150_000

_encoder = msgspec.json.Encoder()


def _walk(root: RunDetailNode) -> dict[str, RunDetailNode] | None:
    """node id -> node; ``None`` when an id repeats (no delta can name such a node)."""
    index: dict[str, RunDetailNode] = {}
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        index[node.id] = node
        count += 1
        if node.children:
            stack.extend(node.children)
    return index if len(index) == count else None


def diff_details(old: RunDetail, new: RunDetail, base: str, tag: str) -> RunDetailDelta | None:
    """The delta from ``old`` (tagged ``base``) to ``new`` (tagged ``tag``); ``None`` when
    one cannot say it (node ids or row node ids that repeat): send the whole body."""
    olds, news = _walk(old.root), _walk(new.root)
    if olds is None or news is None:
        return None
    nodes: list[RunDetailNode] = []
    children: dict[str, list[str]] = {}
    for node_id, node in news.items():
        before = olds.get(node_id)
        kids = None if node.children is None else [kid.id for kid in node.children]
        if (
            before is None
            or (before.children is None) != (node.children is None)
            or astuple(before)[:-1] != astuple(node)[:-1]
        ):
            nodes.append(replace(node, children=None))
            if kids is not None:
                children[node_id] = kids
        elif kids is not None and kids != [kid.id for kid in before.children or ()]:
            children[node_id] = kids
    rows = _diff_rows(old.rows, new.rows)
    if rows is None:
        return None
    row_ids, changed_rows = rows
    old_index, new_index = old.spanIndex or {}, new.spanIndex or {}
    return RunDetailDelta(
        base=base,
        tag=tag,
        schemaVersion=new.schemaVersion,
        run=new.run,
        facets=new.facets,
        diagnostics=new.diagnostics,
        counts=new.counts,
        memberRuns=new.memberRuns,
        definitionRefs=new.definitionRefs,
        manifest=new.manifest,
        currentCatalog=new.currentCatalog,
        currentProjectHealth=new.currentProjectHealth,
        redaction=new.redaction,
        baseNodes=len(olds),
        rootId=new.root.id,
        nodes=nodes,
        children=children,
        removed=[node_id for node_id in olds if node_id not in news],
        rowIds=row_ids,
        rows=changed_rows,
        spanIndex={k: v for k, v in new_index.items() if old_index.get(k) != v},
        spanIndexRemoved=[k for k in old_index if k not in new_index],
        spanIndexNull=new.spanIndex is None,
    )


def _diff_rows(
    old: list[RunDetailRow] | None, new: list[RunDetailRow] | None
) -> tuple[list[str] | None, list[RunDetailRow]] | None:
    if new is None:
        return None, []
    olds = {row.nodeId: row for row in old or ()}
    ids = [row.nodeId for row in new]
    if len(set(ids)) != len(ids):
        return None
    return ids, [row for row in new if olds.get(row.nodeId) != row]


@dataclass(frozen=True, slots=True)
class Kept:
    tag: str
    detail: RunDetail


class LiveDetails:
    """The last RunDetail served of each running operation (a few), with its tag."""

    def __init__(self, keep: int = KEEP_OPERATIONS, max_rows: int = KEEP_ROWS) -> None:
        self.keep = keep
        self.max_rows = max_rows
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()
        self._serial = itertools.count(1)

    def new_tag(self, revision: int) -> str:
        """A tag no other projection has (the clock moves a running run's projection
        between two reads of one revision)."""
        return f"{revision}.{next(self._serial)}"

    def get(self, operation: str) -> Kept | None:
        with self._lock:
            return self._kept.get(operation)

    def keep_detail(self, operation: str, tag: str, detail: RunDetail) -> None:
        with self._lock:
            self._kept.pop(operation, None)
            self._kept[operation] = Kept(tag, detail)
            rows = sum(len(kept.detail.rows or ()) for kept in self._kept.values())
            while len(self._kept) > 1 and (len(self._kept) > self.keep or rows > self.max_rows):
                _, evicted = self._kept.popitem(last=False)
                rows -= len(evicted.detail.rows or ())

    def forget(self, operations: list[str]) -> None:
        with self._lock:
            for operation in operations:
                self._kept.pop(operation, None)


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """A RunDetail answer of the live path: a full body or a delta (``base`` set)."""

    body: bytes | bytearray
    tag: str
    head_length: int | None = None
    base: str = ""


def _running(summary: RunSummary) -> bool:
    """The operation's list row says it goes on (its projection is not cached whole)."""
    return not summary.endedAt or summary.activeChildCount > 0


def live_detail_answer(
    store: Store,
    cache: DetailCache,
    live: LiveDetails,
    ref: str,
    moment: datetime,
    since: str | None,
) -> LiveAnswer | None:
    """The RunDetail of a running operation, tagged and kept, as a delta against ``since``
    when that is the tag kept; ``None`` when this is not the live path's to answer (an
    unknown ref, a settled operation): ``run_detail_body`` answers as for any backend."""
    summary = store.operation_summary(ref)
    if summary is None:
        return None
    operation = summary.operationId or summary.runId
    revision, conflict = summary.revision, bool(summary.traceAliasConflict)
    kept = live.get(operation) if since else None
    if cache.holds(operation, revision, conflict) or not (_running(summary) or kept):
        return None
    graph = store.operation_graph(ref)
    if graph is None:
        return None
    detail = project_operation_detail(graph, moment)
    tag = ""
    if operation_settled(graph):  # nothing more will change: cached whole once warmed
        live.forget([operation])
    else:
        tag = live.new_tag(revision)
        live.keep_detail(operation, tag, detail)
    if kept is not None and kept.tag == since:
        delta = diff_details(kept.detail, detail, since, tag)
        if delta is not None:
            return LiveAnswer(_encoder.encode(delta), tag, base=since)
    data, head_length = encode_run_detail(detail)
    return LiveAnswer(data, tag, head_length)
