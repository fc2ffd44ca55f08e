"""The RunDetail tree flattened: pre-order walk (paths, parents, depths), ``rows`` and
``spanIndex``. Shared by the per-run projection and the operation layer, which re-flattens
the tree once member runs are mounted into it."""

from __future__ import annotations

from crux_tui.contract.models import Placement, RunDetailNode, RunDetailRow

Order = list[tuple[RunDetailNode, int]]


def walk(root: RunDetailNode) -> Order:
    """Pre-order ``(node, depth)`` of the tree under ``root``; sets every node's ``path``
    and ``parentId`` on the way."""
    order: Order = []
    root.path = [root.id]
    root.parentId = ""
    stack: Order = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        order.append((node, depth))
        for child in node.children or ():
            child.parentId = node.id
            child.path = [*(node.path or ()), child.id]
        stack.extend((c, depth + 1) for c in reversed(node.children or ()))
    return order


def rows_of(order: Order) -> list[RunDetailRow]:
    """One row per node, in pre-order; nodes less than two levels deep start expanded."""
    return [
        RunDetailRow(
            nodeId=node.id,
            spanId=node.spanId,
            parentId=node.parentId,
            depth=depth,
            path=node.path,
            hasChildren=bool(node.children),
            expandedDefault=depth < 2,
            display=node.display,
            status=node.status,
            model=node.model,
            provider=node.provider,
            timing=node.timing,
        )
        for node, depth in order
    ]


def span_index_of(order: Order) -> dict[str, Placement]:
    """Where every span of the tree is shown: as a node, or as a detail of a node."""
    index: dict[str, Placement] = {}
    for node, _depth in order:
        for detail in node.details or ():
            index[detail.spanId] = Placement(
                placement="detail",
                ownerNodeId=node.id,
                path=[*(node.path or ()), detail.id],
                reason=detail.source.placementReason,
            )
        if not node.virtual:
            index[node.spanId] = Placement(
                placement="node", nodeId=node.id, path=node.path, reason="primary"
            )
    return index
