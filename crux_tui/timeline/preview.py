"""A provisional RunDetail from a body's head (the run and its rows), shown while the rest
of a big run downloads.

``rows`` is the presentation tree flattened depth-first (contract 5.3): enough to paint
the folded timeline. What rows do not carry -- folded details, attributes, events,
artifacts, canonical parents, the span index -- arrives with the whole RunDetail, which
replaces the preview. No Textual imports here.
"""

from __future__ import annotations

from crux_tui.contract.models import (
    NodeDisplay,
    RunDetail,
    RunDetailHead,
    RunDetailNode,
    RunDetailRow,
    items,
)
from crux_tui.perf import no_gc
from crux_tui.timeline.model import BULK_ENTRIES


def _node(row: RunDetailRow, parent: RunDetailNode | None) -> RunDetailNode:
    timing = row.timing
    return RunDetailNode(
        id=row.nodeId,
        spanId=row.spanId,
        # the presentation parent stands in for the canonical one until the whole detail
        # arrives: no node is marked as moved on a guess
        parentSpanId=parent.spanId if parent is not None else "",
        parentId=row.parentId,
        path=row.path,
        kind=row.display.kind,
        display=row.display,
        status=row.status,
        model=row.model,
        provider=row.provider,
        name=row.display.label,
        startedAt=timing.startedAt,
        endedAt=timing.endedAt,
        durationMs=timing.durationMs,
        timing=timing,
        children=[],
    )


def _root_of(head: RunDetailHead) -> RunDetailNode:
    run = head.run
    return RunDetailNode(
        id=f"run:{run.runId}",
        runId=run.runId,
        traceId=run.traceId,
        kind="run",
        virtual=True,
        name=run.name,
        status=run.status,
        startedAt=run.startedAt,
        endedAt=run.endedAt,
        durationMs=run.durationMs,
        display=NodeDisplay(kind="run", label=run.name or run.runId),
        children=[],
    )


def detail_from_head(head: RunDetailHead) -> RunDetail:
    """The presentation tree the rows describe, as a RunDetail without node bodies.

    Rows whose parent is unknown hang under the root, so a damaged row list still shows
    every row it has.
    """
    with no_gc(bulk=len(items(head.rows)) >= BULK_ENTRIES):
        return _detail_from_head(head)


def _detail_from_head(head: RunDetailHead) -> RunDetail:
    rows = items(head.rows)
    root: RunDetailNode | None = None
    by_id: dict[str, RunDetailNode] = {}
    orphans: list[RunDetailNode] = []
    for row in rows:
        parent = by_id.get(row.parentId) if row.parentId else None
        node = _node(row, parent)
        if root is None and not row.parentId:
            root = node
        elif parent is not None:
            assert parent.children is not None
            parent.children.append(node)
        else:
            orphans.append(node)
        if row.nodeId:
            by_id.setdefault(row.nodeId, node)
    if root is None:
        root = _root_of(head)
    assert root.children is not None
    root.children.extend(orphans)
    return RunDetail(
        schemaVersion=head.schemaVersion,
        run=head.run,
        root=root,
        rows=head.rows,
        spanIndex={},
        facets=head.facets,
        diagnostics=head.diagnostics,
        counts=head.counts,
    )
