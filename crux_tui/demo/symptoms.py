"""Demo runs that show the "Common Symptoms" of the Convex observability guide, one run per
symptom (``crux_tui.symptoms`` recognises them): the records a Convex app instrumented the
wrong way sends. Each function is a scenario ``(rng, now) -> RunBuilder``."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crux_tui.demo.builder import RunBuilder
from crux_tui.demo.turns import (
    MODEL,
    PROVIDER,
    ToolPlan,
    approval_point,
    boundary,
    streamed_turn,
)

#: The weekly report's child action, which arrives as an operation of its own.
SUMMARIZE_FUNCTION = "reports:summarize"


def _run(
    run_id: str,
    name: str,
    seconds_ago: float,
    rng: random.Random,
    now: datetime,
    *,
    root_primitive: str = "runtime.convex.action",
) -> RunBuilder:
    return RunBuilder(run_id, name, root_primitive, now - timedelta(seconds=seconds_ago), rng)


def _action(b: RunBuilder, function_ref: str, name: str = "chat") -> str:
    b.run_start({"deployment": "dev:happy-otter-123", "functionRef": function_ref})
    return b.start("runtime.convex.action", name, 2, None, attributes={"functionRef": function_ref})


def _weekly_report(rng: random.Random, now: datetime) -> tuple[RunBuilder, RunBuilder]:
    """A tool calls ``ctx.crux.runAction('summarize', internal.reports.summarize, ...)``, but
    ``reports.summarize`` is a plain Convex action that opens a Crux run of its own: the
    boundary is never acknowledged, and the child arrives as a separate run."""
    b = _run("run_weekly_report", "weekly report (child ran on its own)", 1000, rng, now)
    root = _action(b, "reports:weekly", "weekly report")
    agent = b.start("agent.run", "report agent", 10, root, agentId="reports", model=MODEL)
    t, tool = streamed_turn(
        b,
        agent,
        15,
        1,
        text="Summarizing this week's tickets.",
        tool=ToolPlan("summarizeWeek", {"week": "2026-W47"}, {"summary": "42 tickets"}, 2600),
    )
    assert tool is not None
    at = t - 2600 + 20
    # the caller awaits the child and closes its boundary span itself; no child acknowledges
    boundary(
        b,
        tool,
        at,
        "summarize",
        SUMMARIZE_FUNCTION,
        received=False,
        completed=False,
        child_ms=2400,
    )
    t2, _ = streamed_turn(b, agent, t + 30, 2, text="42 tickets this week, 3 escalated.")
    b.end(agent, 10, t2 + 5)
    b.end(root, 2, t2 + 10)
    b.run_end("ok", t2 + 12)

    child = RunBuilder(
        "run_weekly_summarize",
        SUMMARIZE_FUNCTION,
        "runtime.convex.action",
        b.started_at + timedelta(milliseconds=at + 60),
        rng,
    )
    child.run_start({"deployment": "dev:happy-otter-123", "functionRef": SUMMARIZE_FUNCTION})
    action = child.start(
        "runtime.convex.action",
        SUMMARIZE_FUNCTION,
        1,
        None,
        attributes={"functionRef": SUMMARIZE_FUNCTION},
    )
    gen = child.start(
        "generation.call", "summarize tickets", 10, action, model=MODEL, provider=PROVIDER
    )
    metrics = child.usage(gen, 2200, 2400, 180, 0.0066)
    child.artifact(
        gen, "output", 2210, "42 tickets, 3 escalated.", content_type="text/plain", encoding="text"
    )
    child.end(gen, 10, 2250, metrics=metrics)
    child.end(action, 1, 2300)
    child.run_end("ok", 2310)
    return b, child


def weekly_report(rng: random.Random, now: datetime) -> RunBuilder:
    """The caller of the child action that ran as a separate run."""
    return _weekly_report(rng, now)[0]


def weekly_summarize(rng: random.Random, now: datetime) -> RunBuilder:
    """The child action itself, an operation of its own."""
    return _weekly_report(rng, now)[1]


def worker_exited(rng: random.Random, now: datetime) -> RunBuilder:
    """The worker was frozen while a tool ran: the records buffered after that (the tool's
    end, the agent's, the action's, ``run:end``) were never flushed."""
    b = _run("run_invoice_exit", "send invoice (worker exited)", 960, rng, now)
    root = _action(b, "invoices:send", "send invoice")
    agent = b.start("agent.run", "billing agent", 10, root, agentId="billing", model=MODEL)
    t, _ = streamed_turn(b, agent, 15, 1, text="Creating the invoice for ord_7.")
    tool = b.start(
        "tool.call",
        "createInvoice",
        t + 15,
        agent,
        toolName="createInvoice",
        attributes={"toolCallId": b.new_id("call"), "phase": "tool.execute"},
    )
    b.artifact(tool, "tool.args", t + 16, {"orderId": "ord_7", "amount": 240})
    return b


def plan_generation_late(rng: random.Random, now: datetime) -> RunBuilder:
    """A release-plan flow suspends at plan-approval (the flow helper flushed the suspension)
    while the generation drafting its notes is still waiting on the provider; its
    ``span:end`` is late, past the generation's 20 s deadline."""
    b = _run("run_release_plan", "release plan (generation end late)", 920, rng, now)
    root = _action(b, "chat:send")
    flow = b.start("flow.run", "release plan", 10, root, flowId="release.plan")
    step = b.start("flow.step", "draft notes", 15, flow, stepId="draft-notes")
    gen = b.start(
        "generation.call",
        "draft release notes",
        20,
        step,
        model=MODEL,
        provider=PROVIDER,
        attributes={"timeoutMs": 20_000},
    )
    b.event(gen, "operation.deadline", 21, {"timeoutMs": 20_000, "deadlineAt": b.at(20_020)})
    approval_point(b, flow, 40, "Approve the release plan for v2.4?", ["release-managers"])
    return b


def generation_without_timeout(rng: random.Random, now: datetime) -> RunBuilder:
    """``streamText`` without ``timeoutMs``: the provider stalled after two chunks and
    nothing ever closed the generation."""
    b = _run("run_classify_hung", "classify ticket (no timeout)", 880, rng, now)
    root = _action(b, "tickets:classify", "classify ticket")
    agent = b.start("agent.run", "triage agent", 10, root, agentId="triage", model=MODEL)
    gen = b.start(
        "generation.stream",
        "streamText",
        15,
        agent,
        model=MODEL,
        provider=PROVIDER,
        attributes={"source": "convex.agent", "mode": "text"},
    )
    b.event(gen, "token.chunk", 600, {"sequence": 1, "text": "Category:"})
    b.event(gen, "token.chunk", 640, {"sequence": 2, "text": " billing"})
    return b


def raw_convex_agent(rng: random.Random, now: datetime) -> RunBuilder:
    """The agent comes from ``@convex-dev/agent`` directly: its tools (made with Crux's
    ``createTool``) record their calls, but no generation span is emitted."""
    b = _run("run_raw_agent", "order status (raw Convex Agent)", 840, rng, now)
    root = _action(b, "chat:send")
    agent = b.start("agent.run", "support agent", 10, root, agentId="support")
    for index, (name, args, result, start, end) in enumerate(
        (
            ("lookupOrder", {"orderId": "ord_3"}, {"status": "shipped"}, 900, 1200),
            ("getShipment", {"orderId": "ord_3"}, {"carrier": "DHL", "eta": "2d"}, 2100, 2500),
        ),
        1,
    ):
        call_id = b.new_id("call")
        tool = b.start(
            "tool.call",
            name,
            start,
            agent,
            toolName=name,
            attributes={"toolCallId": call_id, "phase": "tool.execute"},
        )
        b.artifact(tool, "tool.args", start + 1, args)
        b.artifact(tool, "tool.result", end - 1, result)
        b.event(tool, "tool.result", end - 1, {"toolCallId": call_id, "step": index})
        b.end(tool, start, end)
    b.end(agent, 10, 3400)
    b.end(root, 2, 3410)
    b.run_end("ok", 3415)
    return b


def unnamed_tool(rng: random.Random, now: datetime) -> RunBuilder:
    """A tool passed to the Crux Agent as a plain AI SDK tool, neither made with
    ``createTool`` nor wrapped: its span can only be labelled with the call id."""
    b = _run("run_unnamed_tool", "shipping quote (unnamed tool)", 800, rng, now)
    root = _action(b, "chat:send")
    agent = b.start("agent.run", "sales agent", 10, root, agentId="sales", model=MODEL)
    t, _ = streamed_turn(
        b,
        agent,
        15,
        1,
        text="Let me get a quote.",
        tool=ToolPlan(
            "quoteShipping", {"to": "Lyon", "kg": 12}, {"priceEur": 38.5}, 700, named=False
        ),
    )
    t2, _ = streamed_turn(b, agent, t + 20, 2, text="Shipping 12 kg to Lyon costs €38.50.")
    b.end(agent, 10, t2 + 5)
    b.end(root, 2, t2 + 10)
    b.run_end("ok", t2 + 12)
    return b


def flow_as_root(rng: random.Random, now: datetime) -> RunBuilder:
    """``flow()`` used as a tracing wrapper around the whole chat: the run is rooted at the
    flow, and the chat's agent and generations sit inside it."""
    b = _run(
        "run_flow_root", "support chat (flow as root)", 760, rng, now, root_primitive="flow.run"
    )
    b.run_start({"deployment": "dev:happy-otter-123"})
    flow = b.start("flow.run", "support chat (flow as root)", 1, None, flowId="supportChat")
    agent = b.start("agent.run", "support agent", 5, flow, agentId="support", model=MODEL)
    t, _ = streamed_turn(
        b,
        agent,
        10,
        1,
        text="Let me check that order.",
        tool=ToolPlan("lookupOrders", {"customerId": "cus_9"}, {"orders": 2}),
    )
    t2, _ = streamed_turn(b, agent, t + 20, 2, text="You have two open orders.")
    b.end(agent, 5, t2 + 5)
    b.end(flow, 1, t2 + 10)
    b.run_end("ok", t2 + 12)
    return b


def bridge_command_error(rng: random.Random, now: datetime) -> RunBuilder:
    """Devtools asked the runtime bridge to resume a plan flow; an older peer answered with
    an error message only, no normalised ``command.error.details``."""
    b = _run("run_bridge_error", "resume plan (bridge command error)", 720, rng, now)
    root = _action(b, "crux:bridgeCommand", "bridge command")
    message = "Flow run is not suspended"
    error = {"message": message, "name": "Error"}
    resume = b.start(
        "runtime.convex.resume",
        "resume migration plan",
        5,
        root,
        attributes={
            "command": {"name": "flow.resume", "commandId": b.new_id("cmd"), "peer": "convex"},
            "flowId": "migration.plan",
        },
    )
    b.end(
        resume,
        5,
        180,
        "error",
        error=error,
        attributes={"command.error": {"message": message}},
    )
    b.end(root, 2, 190, "error", error=error)
    b.run_end("error", 195, error=error)
    return b
