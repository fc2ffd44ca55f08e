"""Records of a small v5 operation for backend tests: a root run (agent -> tool, and a
folded Convex schedule span under the tool) and child runs linked to it."""

from __future__ import annotations

from typing import Any

from records import RunBuilder

OP = "run_op"


def root_records(op: str = OP, *, base: str = "2026-05-16T18:00:00") -> list[dict[str, Any]]:
    """An operation root: agent -> tool (a child's trigger) and a folded schedule span."""
    run = RunBuilder(op, schema_version=5, base=base)
    return [
        run.run_start(name="chat action", root_primitive="agent.run"),
        run.span_start("agent", "agent.run", name="chat action"),
        run.span("tool", "tool.call", parent="agent", at=10, end=50, toolName="issueRefund"),
        run.span(
            "sched",
            "runtime.convex.schedule",
            parent="tool",
            at=20,
            end=22,
            attributes={"presentation": {"display": "detail"}},
        ),
        run.span_end("agent", at=900),
        run.run_end(at=950),
    ]


def child_records(
    run_id: str,
    *,
    op: str = OP,
    parent: str | None = OP,
    trigger: str | None = "tool",
    status: str = "ok",
    name: str | None = None,
    base: str = "2026-05-16T18:00:00",
    **start: Any,
) -> list[dict[str, Any]]:
    """A child run of ``op``: one action span named like the run (so it is the run's root)."""
    run = RunBuilder(run_id, schema_version=5, operation_id=op, base=base, trace_id=f"trace_{op}")
    links = {k: v for k, v in (("parentRunId", parent), ("triggeredBySpanId", trigger)) if v}
    return [
        run.run_start(
            name=name or run_id, root_primitive="runtime.convex.action", **links, **start
        ),
        run.span(
            f"{run_id}_action",
            "runtime.convex.action",
            name=name or run_id,
            at=100,
            end=400,
            status=status,
        ),
        run.run_end(status=status, at=410),
    ]
