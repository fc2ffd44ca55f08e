"""The operations the Go-shaped server serves (wall-clock times, newest first seen first).

* ``run_op_chat`` -- a Convex chat action (agent root) with two member runs:
  ``run_child_sum`` (ok) started by ``scheduler.runAfter``: its trigger span
  ``sp_sched`` (``runtime.convex.schedule``) is a primary node, so the Go mounts the child
  under it; and ``run_child_notify`` (error) started by a child action boundary
  ``sp_boundary`` (``runtime.convex.action``) that the SDK folds (a detail of the agent),
  so the Go finds no node for it and mounts the child on the operation root.
* ``run_op_late`` -- an "Incomplete operation": its root has not arrived; one child.
  First seen between the two others (so a client that sorts by ``startedAt`` gets it
  wrong: its ``startedAt`` is empty).
* ``run_op_plain`` -- a lone run, no children.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gocrux.shapes import (
    JSON,
    ago,
    folded,
    member,
    node,
    run_detail,
    summary,
    topology_diagnostic,
)

CHAT = "run_op_chat"
CHILD_SUM = "run_child_sum"
CHILD_NOTIFY = "run_child_notify"
LATE = "run_op_late"
LATE_CHILD = "run_late_child"
PLAIN = "run_op_plain"


@dataclass
class Operation:
    """One operation: its runs-page row, its RunDetail and its member run ids."""

    id: str
    row: JSON
    detail: JSON
    members: list[str] = field(default_factory=list)

    @property
    def first_seen(self) -> str:
        return str(self.row["firstSeenAt"])


def chat_operation(now: datetime) -> Operation:
    t = lambda s: ago(s, now)  # noqa: E731
    root_tree = node(
        "sp_agent",
        "agent.run",
        "support agent",
        run_id=CHAT,
        node_id=f"run:{CHAT}",
        started=t(10),
        ended=t(2),
        duration_ms=8000,
        children=[
            node(
                "sp_gen",
                "generation.call",
                "generate reply",
                run_id=CHAT,
                started=t(9.5),
                ended=t(8),
                duration_ms=1500,
                model="gpt-4o",
                provider="openai",
            ),
            node(
                "sp_sched",
                "runtime.convex.schedule",
                "scheduler.runAfter summarize",
                run_id=CHAT,
                started=t(7.9),
                ended=t(7.8),
                duration_ms=100,
            ),
            node(
                "sp_notify_call",
                "tool.call",
                "notifyUser",
                run_id=CHAT,
                started=t(7.1),
                ended=t(2.9),
                duration_ms=4200,
                toolName="notifyUser",
                details=[
                    folded(
                        "sp_boundary",
                        "runtime.convex.action",
                        "ctx.runAction notify:send",
                        run_id=CHAT,
                        owner="sp_notify_call",
                        started=t(7),
                        ended=t(3),
                        duration_ms=4000,
                    )
                ],
            ),
        ],
    )
    sum_tree = node(
        "sp_sum_action",
        "runtime.convex.action",
        "summarize:thread",
        run_id=CHILD_SUM,
        started=t(7.5),
        ended=t(5),
        duration_ms=2500,
        children=[
            node(
                "sp_sum_gen",
                "generation.call",
                "summarize",
                run_id=CHILD_SUM,
                parent_span="sp_sum_action",
                started=t(7.4),
                ended=t(5.2),
                duration_ms=2200,
            )
        ],
    )
    notify_tree = node(
        "",
        "",
        "notify:send",
        run_id=CHILD_NOTIFY,
        kind="run",
        virtual=True,
        status="error",
        started=t(6.9),
        ended=t(3.1),
        duration_ms=3800,
        children=[
            node(
                "sp_notify_tool",
                "tool.call",
                "sendEmail",
                run_id=CHILD_NOTIFY,
                status="error",
                started=t(6.8),
                ended=t(3.2),
                duration_ms=3600,
                toolName="sendEmail",
                error={"name": "SmtpError", "message": "mail relay refused the message"},
            )
        ],
    )
    root_run = summary(
        CHAT, "support agent", started=t(10), ended=t(2), duration_ms=8000, span_count=5
    )
    sum_run = summary(
        CHILD_SUM,
        "summarize:thread",
        operation_id=CHAT,
        root_primitive="runtime.convex.action",
        started=t(7.5),
        ended=t(5),
        duration_ms=2500,
        span_count=2,
    )
    notify_run = summary(
        CHILD_NOTIFY,
        "notify:send",
        operation_id=CHAT,
        root_primitive="runtime.convex.action",
        status="error",
        started=t(6.9),
        ended=t(3.1),
        duration_ms=3800,
        span_count=1,
        error={"name": "SmtpError", "message": "mail relay refused the message"},
    )
    notify_diag = {
        "code": "span-error",
        "severity": "error",
        "message": "sendEmail failed: mail relay refused the message",
        "recordIds": None,
        "spanIds": ["sp_notify_tool"],
        "suggestedFix": "",
    }
    members = [
        member(root_run, root_tree),
        member(sum_run, sum_tree, parent=CHAT, trigger="sp_sched"),
        member(notify_run, notify_tree, parent=CHAT, trigger="sp_boundary", diags=[notify_diag]),
    ]
    counts = {"childRunCount": 2, "failedChildCount": 1, "spanCount": 8}
    row = {**root_run, **counts}
    detail_run = {**root_run, **counts}
    return Operation(
        CHAT, row, run_detail(detail_run, root_tree, members, None), [CHAT, CHILD_SUM, CHILD_NOTIFY]
    )


def late_operation(now: datetime) -> Operation:
    t = lambda s: ago(s, now)  # noqa: E731
    child_tree = node(
        "sp_late_action",
        "runtime.convex.action",
        "ingest:embed",
        run_id=LATE_CHILD,
        status="running",
        started=t(19),
    )
    child_run = summary(
        LATE_CHILD,
        "ingest:embed",
        operation_id=LATE,
        root_primitive="runtime.convex.action",
        status="running",
        started=t(19),
    )
    virtual_root = node(
        "",
        "",
        "Incomplete operation",
        run_id=LATE,
        node_id=f"run:{LATE}",
        kind="run",
        virtual=True,
        status="incomplete",
    )
    shell = summary(
        LATE,
        "Incomplete operation",
        status="incomplete",
        root_primitive="",
        first_seen=t(20),
        root_present=False,
        span_count=1,
        topologyHealth="incomplete",
        childRunCount=1,
        activeChildCount=1,
    )
    diagnostics = [
        topology_diagnostic("incomplete-operation-root", "The operation root run has not arrived."),
        topology_diagnostic(
            "missing-parent-run",
            "Member run run_late_child names a parent run that has not arrived.",
        ),
    ]
    members = [member(child_run, child_tree, parent=LATE, trigger="sp_never_seen")]
    return Operation(
        LATE, shell, run_detail(shell, virtual_root, members, diagnostics), [LATE_CHILD]
    )


def plain_operation(now: datetime) -> Operation:
    t = lambda s: ago(s, now)  # noqa: E731
    tree = node(
        "sp_plain",
        "agent.run",
        "faq bot",
        run_id=PLAIN,
        node_id=f"run:{PLAIN}",
        started=t(30),
        ended=t(29),
        duration_ms=1000,
    )
    run = summary(PLAIN, "faq bot", started=t(30), ended=t(29), duration_ms=1000)
    return Operation(PLAIN, run, run_detail(run, tree, [member(run, tree)], None), [PLAIN])


def default_operations(now: datetime | None = None) -> list[Operation]:
    """The three operations above, built against ``now`` (default: the wall clock)."""
    moment = now or datetime.now(UTC)
    return [chat_operation(moment), late_operation(moment), plain_operation(moment)]


def with_status(operation: Operation, status: str) -> Operation:
    """The same operation with another root status (row, detail run and root node)."""
    row = {**operation.row, "status": status}
    detail: dict[str, Any] = {
        **operation.detail,
        "run": {**operation.detail["run"], "status": status},
    }
    detail["root"] = {**detail["root"], "status": status}
    return Operation(operation.id, row, detail, list(operation.members))
