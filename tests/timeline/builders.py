"""Builders for RunDetail objects in tests (timeline logic and the TimelineView widget).

Times are given as millisecond offsets from :data:`BASE`. :func:`run_detail` fills in the
derived fields the backend would send (node ``id``, ``parentId``, ``path``,
presentation ``parentSpanId``, ``source.ownerSpanId`` of details).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crux_tui.contract.models import (
    NodeDisplay,
    NodeSource,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    RunSummary,
    Timing,
)

BASE = datetime(2026, 5, 16, 18, 0, 0, tzinfo=UTC)

_SEVERITY = {"ok": "ok", "error": "error", "cancelled": "error", "blocked": "error"}


def ts(offset_ms: float | None) -> str:
    if offset_ms is None:
        return ""
    return (BASE + timedelta(milliseconds=offset_ms)).isoformat().replace("+00:00", "Z")


def node(
    span_id: str,
    label: str | None = None,
    *,
    kind: str = "operation",
    family: str = "",
    primitive: str = "",
    status: str = "ok",
    start: float | None = 0.0,
    duration: float = 10.0,
    ended: bool = True,
    canonical_parent: str = "",
    children: list[RunDetailNode] | tuple[RunDetailNode, ...] = (),
    details: list[RunDetailDetail] | tuple[RunDetailDetail, ...] = (),
    error: Any = None,
    model: str = "",
    tool_name: str = "",
    name: str = "",
    metrics: dict[str, Any] | None = None,
) -> RunDetailNode:
    end = None if (not ended or start is None) else start + duration
    timing = Timing(startedAt=ts(start), endedAt=ts(end), durationMs=duration)
    return RunDetailNode(
        spanId=span_id,
        family=family or kind,
        primitive=primitive or f"{family or kind}.call",
        name=name or span_id,
        status=status,
        startedAt=ts(start),
        endedAt=ts(end),
        durationMs=duration,
        model=model,
        toolName=tool_name,
        error=error,
        metrics=metrics,
        kind=kind,
        display=NodeDisplay(
            kind=kind,
            label=label if label is not None else span_id,
            severity=_SEVERITY.get(
                status, "warn" if status in ("stale", "incomplete", "suspended") else "info"
            ),
        ),
        timing=timing,
        source=NodeSource(placementReason="primary", canonicalParentSpanId=canonical_parent),
        details=list(details),
        children=list(children),
    )


def detail(
    span_id: str,
    label: str | None = None,
    *,
    family: str = "prompt",
    primitive: str = "",
    kind: str = "detail",
    role: str = "input",
    status: str = "ok",
    start: float | None = 0.0,
    duration: float = 5.0,
    parent_span: str = "",
    canonical_parent: str = "",
    reason: str = "chronology",
    display: str = "detail",
) -> RunDetailDetail:
    end = None if start is None else start + duration
    return RunDetailDetail(
        spanId=span_id,
        parentSpanId=parent_span,
        family=family,
        primitive=primitive or f"{family}.resolve",
        name=span_id,
        status=status,
        startedAt=ts(start),
        endedAt=ts(end),
        durationMs=duration,
        id=f"detail:{span_id}",
        kind=kind,
        role=role,
        label=label if label is not None else span_id,
        display=display,
        timing=Timing(startedAt=ts(start), endedAt=ts(end), durationMs=duration),
        source=NodeSource(placementReason=reason, canonicalParentSpanId=canonical_parent),
    )


def boundary(
    span_id: str,
    label: str | None = None,
    *,
    canonical_parent: str,
    primitive: str = "runtime.convex.action",
    status: str = "ok",
    start: float = 0.0,
    duration: float = 5.0,
) -> RunDetailDetail:
    """A folded Convex boundary (infrastructure-only ``runtime.convex.*`` span)."""
    return detail(
        span_id,
        label,
        family="runtime",
        primitive=primitive,
        kind="operation",
        role="",
        status=status,
        start=start,
        duration=duration,
        parent_span=canonical_parent,
        canonical_parent=canonical_parent,
    )


def run_detail(
    root: RunDetailNode,
    *,
    run_id: str = "run_1",
    name: str = "",
    status: str | None = None,
    duration: float | None = None,
    ended: bool = True,
) -> RunDetail:
    """Wrap ``root`` into a RunDetail and fill presentation ids/paths (iteratively)."""
    root.id = f"run:{run_id}"
    root.parentId = ""
    root.path = [root.id]
    stack = [root]
    while stack:
        n = stack.pop()
        for d in n.details or []:
            d.source.ownerSpanId = n.spanId
        for c in n.children or []:
            c.id = c.id or f"span:{c.spanId}"
            c.parentId = n.id
            c.parentSpanId = n.spanId
            c.path = [*(n.path or []), c.id]
            stack.append(c)
    run_duration = duration if duration is not None else root.durationMs
    return RunDetail(
        run=RunSummary(
            runId=run_id,
            name=name or root.display.label,
            status=status or root.status,
            startedAt=root.startedAt,
            endedAt=ts(run_duration) if ended else "",
            durationMs=run_duration,
        ),
        root=root,
    )


def convex_run() -> RunDetail:
    """An agent run whose Convex boundaries were folded by the backend.

    Presentation::

        a (agent)                       details: -
          g1 (generation)               details: B (boundary, canon a), P (prompt)
          t  (tool, error, canon g1)
          g2 (generation, canon b2)     details: b2 (schedule boundary, canon B)
            s (step)
              s2 (step)

    Canonically: a -> B -> {g1 -> t, b2 -> g2 -> s -> s2}.
    """
    s2 = node(
        "s2",
        "inner step",
        kind="step",
        family="flow",
        primitive="flow.step",
        start=450,
        duration=20,
    )
    s = node(
        "s",
        "outer step",
        kind="step",
        family="flow",
        primitive="flow.step",
        start=420,
        duration=100,
        children=[s2],
    )
    g2 = node(
        "g2",
        "second turn",
        kind="generation",
        family="generation",
        primitive="generation.stream",
        start=410,
        duration=170,
        canonical_parent="b2",
        model="gpt-4o",
        children=[s],
        details=[
            boundary(
                "b2",
                "schedule follow-up",
                canonical_parent="B",
                primitive="runtime.convex.schedule",
                start=400,
                duration=190,
            )
        ],
        metrics={"totalTokens": 30, "costUsd": 0.01},
    )
    t = node(
        "t",
        "searchDocs",
        kind="tool",
        family="tool",
        primitive="tool.call",
        tool_name="searchDocs",
        status="error",
        start=210,
        duration=90,
        canonical_parent="g1",
        error={"message": "boom"},
    )
    g1 = node(
        "g1",
        "first turn",
        kind="generation",
        family="generation",
        primitive="generation.stream",
        start=10,
        duration=190,
        canonical_parent="B",
        model="gpt-4o",
        details=[
            boundary("B", "rank citations", canonical_parent="a", start=5, duration=595),
            detail(
                "P",
                "Chat prompt",
                family="prompt",
                primitive="prompt.resolve",
                start=8,
                duration=1,
                canonical_parent="a",
                reason="explains-edge",
            ),
        ],
    )
    a = node(
        "a",
        "chat",
        kind="agent",
        family="agent",
        primitive="agent.run",
        start=0,
        duration=1000,
        children=[g1, t, g2],
    )
    return run_detail(a, name="chat")
