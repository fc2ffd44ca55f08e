"""Sanitised working copy of a Graph plus the indexes every later pass needs (built once, O(n)).

* spans are shallow *copies* (``msgspec.structs.replace``): reconciliation mutates the copies and
  replaces -- never mutates -- their attribute dicts, so the caller's graph is never changed;
* non-string scalar fields and non-dict attributes/metrics are normalised;
* duplicate span ids: the first occurrence wins, later ones are reported (``duplicates``);
* spans without a span id cannot be indexed and are skipped;
* parent cycles (including self-parents) are cut: in every cycle the member that comes first in
  input order loses its parent (``effective parent`` = "") and becomes a root; ``raw_parent``
  keeps the canonical value. After this the parent relation is a forest, so every walk terminates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec

from crux_tui.contract.models import (
    ArtifactSummary,
    EdgeSummary,
    Graph,
    RunSummary,
    SpanEventSummary,
    SpanSummary,
)

_SPAN_STR_FIELDS = tuple(f.name for f in msgspec.structs.fields(SpanSummary) if f.type is str)
_RUN_STR_FIELDS = tuple(f.name for f in msgspec.structs.fields(RunSummary) if f.type is str)


def _clean_strs(obj: Any, fields: tuple[str, ...]) -> None:
    for name in fields:
        value = getattr(obj, name)
        if type(value) is not str:
            setattr(obj, name, "" if value is None else str(value))


def _clean_common(obj: Any) -> None:
    if obj.attributes is not None and not isinstance(obj.attributes, dict):
        obj.attributes = None
    if obj.metrics is not None and not isinstance(obj.metrics, dict):
        obj.metrics = None
    dur = obj.durationMs
    if isinstance(dur, bool) or not isinstance(dur, (int, float)) or dur != dur:
        obj.durationMs = 0


T = TypeVar("T")


def _list(value: Any, cls: type[T]) -> list[T]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, cls)]


class GraphIndex:
    """Working copy of the graph with parent/children/event/artifact indexes."""

    def __init__(self, graph: Graph) -> None:
        run = graph.run if isinstance(getattr(graph, "run", None), RunSummary) else RunSummary()
        run = msgspec.structs.replace(run)
        _clean_strs(run, _RUN_STR_FIELDS)
        _clean_common(run)
        self.run: RunSummary = run

        self.spans: list[SpanSummary] = []
        self.by_id: dict[str, SpanSummary] = {}
        self.duplicates: list[str] = []
        for raw in _list(getattr(graph, "spans", None), SpanSummary):
            span = msgspec.structs.replace(raw)
            _clean_strs(span, _SPAN_STR_FIELDS)
            _clean_common(span)
            sid = span.spanId
            if not sid:
                continue
            if sid in self.by_id:
                self.duplicates.append(sid)
                continue
            self.by_id[sid] = span
            self.spans.append(span)
        self.pos = {s.spanId: i for i, s in enumerate(self.spans)}
        self.raw_parent: dict[str, str] = {s.spanId: s.parentSpanId for s in self.spans}

        # Effective parents: dangling -> "", cycles cut at their first member in input order.
        parent = {sid: (p if p in self.by_id else "") for sid, p in self.raw_parent.items()}
        self.cycle_cut: list[str] = []
        state: dict[str, int] = {}  # 1 = on current walk, 2 = done
        for span in self.spans:
            sid = span.spanId
            if sid in state:
                continue
            path: list[str] = []
            cur = sid
            while cur and cur not in state:
                state[cur] = 1
                path.append(cur)
                cur = parent[cur]
            if cur and state.get(cur) == 1:
                cycle = path[path.index(cur) :]
                cut = min(cycle, key=self.pos.__getitem__)
                parent[cut] = ""
                self.cycle_cut.append(cut)
            for node in path:
                state[node] = 2
        self.parent = parent
        for span in self.spans:
            span.parentSpanId = parent[span.spanId]

        self.children: dict[str, list[str]] = {}
        self.roots: list[str] = []
        for span in self.spans:
            p = parent[span.spanId]
            if p:
                self.children.setdefault(p, []).append(span.spanId)
            else:
                self.roots.append(span.spanId)
        self.topo = self.preorder(self.roots, self.children)

        self.events: list[SpanEventSummary] = _list(
            getattr(graph, "events", None), SpanEventSummary
        )
        self.artifacts: list[ArtifactSummary] = _list(
            getattr(graph, "artifacts", None), ArtifactSummary
        )
        self.edges: list[EdgeSummary] = _list(getattr(graph, "edges", None), EdgeSummary)
        self.events_by_span: dict[str, list[SpanEventSummary]] = {}
        for ev in self.events:
            if type(ev.spanId) is str and ev.spanId:
                self.events_by_span.setdefault(ev.spanId, []).append(ev)
        self.artifacts_by_span: dict[str, list[ArtifactSummary]] = {}
        for art in self.artifacts:
            if type(art.spanId) is str and art.spanId:
                self.artifacts_by_span.setdefault(art.spanId, []).append(art)

    @staticmethod
    def preorder(roots: list[str], children: dict[str, list[str]]) -> list[str]:
        """Iterative pre-order (children in list order) of an acyclic forest."""
        out: list[str] = []
        stack = list(reversed(roots))
        while stack:
            sid = stack.pop()
            out.append(sid)
            kids = children.get(sid)
            if kids:
                stack.extend(reversed(kids))
        return out

    def ancestors(self, sid: str) -> Iterator[str]:
        """Yield effective ancestors, nearest first (terminates: the parent relation is a forest)."""
        cur = self.parent.get(sid, "")
        while cur:
            yield cur
            cur = self.parent.get(cur, "")
