"""An operation with member runs: a Convex chat action whose tool schedules internal actions
with ``ctx.scheduler.runAfter``. Each scheduled action is a durable child run of the same
operation (``operationId``), linked to its parent run (``parentRunId``) and to the schedule
span that started it (``triggeredBySpanId``); one of them schedules a run of its own, and
one fails with the stack and the raw error."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crux_tui.demo.builder import RunBuilder
from crux_tui.demo.turns import MODEL, PROVIDER, ToolPlan, schedule, streamed_turn

OPERATION_ID = "run_refund_jobs"
NAME = "refund with scheduled jobs"

NOTIFY_STACK = """Error: SMTP 550 mailbox unavailable: ana@example.com
    at sendEmail (convex/notify.ts:27:11)
    at async execute (node_modules/@crux/convex/dist/agent/wrapTool.js:88:24)
    at async handler (convex/notify.ts:12:5)"""


def _child(
    root: RunBuilder,
    run_id: str,
    function_ref: str,
    at_ms: float,
    parent: RunBuilder,
    trigger: str,
) -> tuple[RunBuilder, str]:
    """A scheduled Convex action: a child run whose ``run:start`` names its parent run
    and the schedule span that started it; returns the builder and its action span."""
    child = RunBuilder(
        run_id,
        function_ref,
        "runtime.convex.action",
        root.started_at + timedelta(milliseconds=at_ms),
        root.rng,
        operation_id=root.operation_id,
        trace_id=root.trace_id,
    )
    child.run_start(
        {"functionRef": function_ref}, parent_run_id=parent.run_id, triggered_by_span_id=trigger
    )
    action = child.start(
        "runtime.convex.action", function_ref, 1, None, attributes={"functionRef": function_ref}
    )
    return child, action


def scheduled_jobs(rng: random.Random, now: datetime) -> list[RunBuilder]:
    """The chat action (the operation's root) and its three scheduled child runs."""
    root = RunBuilder(
        OPERATION_ID,
        NAME,
        "runtime.convex.action",
        now - timedelta(seconds=75),
        rng,
        session_id="thread_refund",
    )
    root.run_start({"functionRef": "chat:send"})
    action = root.start(
        "runtime.convex.action", "chat", 2, None, attributes={"functionRef": "chat:send"}
    )
    agent = root.start(
        "agent.run", "support agent", 10, action, agentId="support", model=MODEL, provider=PROVIDER
    )
    t, tool = streamed_turn(
        root,
        agent,
        15,
        1,
        text="I'll refund ord_1 and let you know by email.",
        tool=ToolPlan(
            "issueRefund",
            {"orderId": "ord_1"},
            {"refundId": "re_42", "scheduled": ["refunds:process", "notify:customer"]},
            duration_ms=120,
        ),
    )
    assert tool is not None
    # inside the tool: ctx.scheduler.runAfter(0, internal.refunds.process, ...) and
    # ctx.scheduler.runAfter(2000, internal.notify.customer, ...)
    process_at, notify_at = t - 100, t - 60
    process_span = schedule(root, tool, process_at, "refunds:process", child_ms=900)
    notify_span = schedule(
        root, tool, notify_at, "notify:customer", delay_ms=2000, child_ms=400, failed=True
    )
    t2, _ = streamed_turn(root, agent, t + 20, 2, text="Done: refund re_42 is on its way.")
    root.end(agent, 10, t2 + 5)
    root.end(action, 2, t2 + 10)
    root.run_end("ok", t2 + 12)

    process, process_action = _child(
        root, "run_refund_process", "refunds:process", process_at + 30, root, process_span
    )
    refund = process.span(
        "tool.call",
        "stripe.refunds.create",
        5,
        520,
        process_action,
        toolName="stripe.refunds.create",
    )
    process.artifact(refund, "tool.result", 515, {"id": "re_42", "status": "succeeded"})
    ledger_span = schedule(process, process_action, 540, "ledger:record", child_ms=200)
    process.end(process_action, 1, 880)
    process.run_end("ok", 885)

    ledger, ledger_action = _child(
        root, "run_refund_ledger", "ledger:record", process_at + 30 + 570, process, ledger_span
    )
    ledger.span("memory.write", "append ledger entry", 5, 180, ledger_action)
    ledger.end(ledger_action, 1, 190)
    ledger.run_end("ok", 195)

    notify, notify_action = _child(
        root, "run_refund_notify", "notify:customer", notify_at + 2030, root, notify_span
    )
    error = {"message": "SMTP 550 mailbox unavailable: ana@example.com", "name": "Error"}
    email = notify.start(
        "tool.call",
        "sendEmail",
        5,
        notify_action,
        toolName="sendEmail",
        attributes={"phase": "tool.execute", "errorKind": "execute_error"},
    )
    notify.artifact(email, "tool.args", 6, {"to": "ana@example.com", "template": "refund"})
    notify.artifact(
        email, "error.stack", 350, NOTIFY_STACK, content_type="text/plain", encoding="text"
    )
    notify.artifact(
        email,
        "error.raw",
        351,
        {"name": "Error", "message": error["message"], "smtp": {"code": 550, "retryable": False}},
    )
    notify.end(email, 5, 355, "error", error=error)
    notify.end(notify_action, 1, 380, "error", error=error)
    notify.run_end("error", 390, error=error)
    return [root, process, ledger, notify]
