"""Tiny builders for canonical graphs used by the projection tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crux_tui.backend.projection import project_run_detail
from crux_tui.contract.models import (
    ArtifactSummary,
    EdgeEndpoint,
    EdgeSummary,
    Graph,
    RunDetail,
    RunDetailNode,
    RunSummary,
    SpanEventSummary,
    SpanSummary,
)
from crux_tui.contract.vocabulary import PRIMITIVE_FAMILY

T0 = datetime(2026, 5, 16, 18, 0, 0, tzinfo=UTC)


def ts(sec: float) -> str:
    """RFC3339 timestamp ``sec`` seconds after T0 (millisecond precision)."""
    value = T0 + timedelta(seconds=sec)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def at(sec: float) -> datetime:
    return T0 + timedelta(seconds=sec)


def span(
    sid: str,
    parent: str = "",
    primitive: str = "custom.operation",
    *,
    start: float = 0,
    end: float | None = None,
    status: str | None = None,
    family: str | None = None,
    **kw: Any,
) -> SpanSummary:
    """A span; ``end=None`` leaves it open (status running) unless ``status`` is given."""
    if family is None:
        family = PRIMITIVE_FAMILY.get(primitive, primitive.split(".")[0] if primitive else "")
    if status is None:
        status = "running" if end is None else "ok"
    return SpanSummary(
        spanId=sid,
        parentSpanId=parent,
        family=family,
        primitive=primitive,
        name=kw.pop("name", sid),
        status=status,
        startedAt=ts(start),
        endedAt="" if end is None else ts(end),
        durationMs=0 if end is None else int((end - start) * 1000),
        **kw,
    )


def event(span_id: str, name: str, sec: float, **attrs: Any) -> SpanEventSummary:
    return SpanEventSummary(
        eventId=f"ev_{span_id}_{name}_{sec}",
        spanId=span_id,
        name=name,
        timestamp=ts(sec),
        attributes=attrs or None,
    )


def artifact(
    span_id: str, kind: str, sec: float, preview: Any = None, **attrs: Any
) -> ArtifactSummary:
    return ArtifactSummary(
        artifactId=f"art_{span_id}_{kind}_{sec}",
        spanId=span_id,
        kind=kind,
        createdAt=ts(sec),
        preview=preview,
        attributes=attrs or None,
    )


def edge(edge_type: str, src: str, dst: str, src_kind: str = "span") -> EdgeSummary:
    return EdgeSummary(
        edgeId=f"edge_{src}_{dst}",
        edgeType=edge_type,
        from_=EdgeEndpoint(kind=src_kind, id=src),
        to=EdgeEndpoint(kind="span", id=dst),
    )


def graph(
    spans: list[SpanSummary],
    events: list[SpanEventSummary] = (),  # type: ignore[assignment]
    artifacts: list[ArtifactSummary] = (),  # type: ignore[assignment]
    edges: list[EdgeSummary] = (),  # type: ignore[assignment]
    *,
    run_id: str = "run_1",
    name: str = "run",
    root_primitive: str = "",
    status: str = "running",
    start: float = 0,
    end: float | None = None,
    **run_kw: Any,
) -> Graph:
    run = RunSummary(
        runId=run_id,
        name=name,
        rootPrimitive=root_primitive,
        status=status,
        startedAt=ts(start),
        endedAt="" if end is None else ts(end),
        **run_kw,
    )
    return Graph(
        run=run,
        spans=list(spans),
        events=list(events),
        artifacts=list(artifacts),
        edges=list(edges),
    )


def project(g: Graph, now: float = 1) -> RunDetail:
    return project_run_detail(g, at(now))


def node_by_span(detail: RunDetail, sid: str) -> RunDetailNode:
    for node in walk(detail.root):
        if node.spanId == sid:
            return node
    raise KeyError(sid)


def walk(root: RunDetailNode):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children or []))


def child_spans(node: RunDetailNode) -> list[str]:
    return [c.spanId for c in node.children or []]


def detail_spans(node: RunDetailNode) -> list[str]:
    return [d.spanId for d in node.details or []]


def diag_codes(items: Any) -> list[str]:
    return [d.code for d in items or []]


def reconciled_from(obj: Any) -> str:
    return ((obj.attributes or {}).get("diagnostics") or {}).get("reconciledFrom", "")
