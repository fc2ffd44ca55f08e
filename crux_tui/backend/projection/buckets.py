"""Events, artifacts and relations per span (§1 step 8), sorted as the Go builder does."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import ArtifactSummary, EdgeSummary, SpanEventSummary

from .index import GraphIndex

#: Artifacts a ``consumed`` edge also attaches to the span that consumed them.
CONTEXT_ARTIFACTS = frozenset({"context", "context.contribution"})


def _str(value: Any) -> str:
    return value if type(value) is str else ""


class Buckets:
    """Per span id: its events (no ``token.chunk``; by timestamp, then eventId), artifacts
    (its own, then context artifacts it consumed) and relations (every edge with the span
    at either end; by createdAt, then edgeId)."""

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
