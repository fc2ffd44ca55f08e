"""Semantic detail ownership (§4 ``applySemanticDetailOwnership``).

Owner candidates per detail span: ``explains`` span->span edges (reason ``explains-edge``;
the edge goes from the explaining span to the operation it explains, the reverse direction is
accepted as a fallback) override ``attributes.presentation.ownerSpanId`` (reason ``owner-hint``).
A detail whose owner is a visible node is moved to that node; otherwise it stays where folding
put it with reason ``chronology``.
"""

from __future__ import annotations

from .common import presentation, text
from .index import GraphIndex


def semantic_owners(
    idx: GraphIndex, detail_ids: set[str], visible: set[str]
) -> dict[str, tuple[str, str]]:
    """detail spanId -> (owner spanId, reason) for every detail with a resolvable visible owner."""
    owners: dict[str, tuple[str, str]] = {}
    for sid in detail_ids:
        hint = text(presentation(idx.by_id[sid]), "ownerSpanId")
        if hint and hint in visible and hint != sid:
            owners[sid] = (hint, "owner-hint")
    forward: dict[str, str] = {}
    reverse: dict[str, str] = {}
    for edge in idx.edges:
        if edge.edgeType != "explains":
            continue
        src, dst = getattr(edge, "from_", None), getattr(edge, "to", None)
        if src is None or dst is None or src.kind != "span" or dst.kind != "span":
            continue
        a, b = src.id, dst.id
        if a in detail_ids and b in visible:
            forward.setdefault(a, b)
        elif b in detail_ids and a in visible:
            reverse.setdefault(b, a)
    for sid, owner in {**reverse, **forward}.items():
        owners[sid] = (owner, "explains-edge")
    return owners
