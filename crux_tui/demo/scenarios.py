"""The demo runs: what a Crux + Convex user sees in ``convex-observability.md``.

Each scenario is a function ``(rng, now) -> RunBuilder`` (or the builders of an
operation's member runs, root first) whose timestamps are placed
relative to ``now`` so that, loaded now, the backend's reconciliation presents the
status the scenario is about (a lease that has expired, a deadline that has passed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crux_tui.demo import operations
from crux_tui.demo import symptoms as sym
from crux_tui.demo.builder import Record, RunBuilder
from crux_tui.demo.turns import (
    MODEL,
    PROVIDER,
    ToolPlan,
    approval_point,
    boundary,
    streamed_turn,
)

STACK = """TypeError: Cannot read properties of undefined (reading 'orders')
    at lookupOrder (convex/tools/orders.ts:42:31)
    at execute (node_modules/@crux/convex/dist/agent/wrapTool.js:88:24)
    at async runToolCall (node_modules/@crux/core/dist/tools/call.js:131:18)
    at async Object.execute (node_modules/ai/dist/index.mjs:4471:20)
    at async Promise.all (index 0)
    at async executeTools (node_modules/ai/dist/index.mjs:4460:10)
    at async streamStep (node_modules/ai/dist/index.mjs:5212:28)
    at async handler (convex/chat.ts:61:5)"""


def _ago(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)


def _root_action(b: RunBuilder, function_ref: str, name: str = "chat") -> str:
    b.run_start({"deployment": "dev:happy-otter-123", "functionRef": function_ref})
    return b.start("runtime.convex.action", name, 2, None, attributes={"functionRef": function_ref})


def _thread_context(b: RunBuilder, parent: str, at_ms: float) -> str:
    ctx = b.span(
        "context.resolve",
        "thread context",
        at_ms,
        at_ms + 35,
        parent,
        contextId="support.thread",
        attributes={"source": "convex.agent"},
    )
    b.artifact(
        ctx,
        "messages",
        at_ms + 30,
        {
            "source": "convex.agent",
            "phase": "thread-context",
            "allMessages": 6,
            "recent": [
                {"role": "user", "content": "I was charged twice this month."},
                {"role": "assistant", "content": "Sorry about that — let me check your orders."},
            ],
            "inputPrompt": "Can I get a refund on my annual plan?",
            "existingResponses": [],
            "search": {"vector": True, "text": True, "limit": 10},
        },
    )
    return ctx


def chat_action(rng: random.Random, now: datetime) -> RunBuilder:
    """A Convex chat action running a Crux-aware Convex Agent: streamed turns with tool
    calls between them, messages artifacts, post-turn persist skills / capture memory."""
    b = RunBuilder(
        "run_chat_support",
        "support chat",
        "runtime.convex.action",
        _ago(now, 540),
        rng,
        session_id="thread_8d2f",
    )
    root = _root_action(b, "chat:send")
    prompt = b.span("prompt.resolve", "support.reply", 8, 14, root, promptId="support.reply")
    ctx = _thread_context(b, root, 15)
    agent = b.start(
        "agent.run", "support agent", 55, root, agentId="support", model=MODEL, provider=PROVIDER
    )
    t, _ = streamed_turn(
        b,
        agent,
        60,
        1,
        text="Let me look up your orders.",
        messages=True,
        tool=ToolPlan(
            "lookupOrders",
            {"customerId": "cus_42"},
            {"orders": [{"id": "ord_1", "plan": "annual", "amount": 240}]},
        ),
    )
    t, _ = streamed_turn(
        b,
        agent,
        t + 20,
        2,
        text="Checking the refund policy.",
        tool=ToolPlan(
            "searchDocs",
            {"query": "annual plan refund"},
            {"hits": [{"id": "kb_refunds", "score": 0.91}]},
            650,
        ),
    )
    t, _ = streamed_turn(
        b,
        agent,
        t + 20,
        3,
        duration_ms=1600,
        text="Annual plans are refundable within 30 days; I've opened a refund for ord_1.",
    )
    b.end(agent, 55, t + 5)
    skills = b.start("memory.write", "persist skills", t + 10, root)
    b.artifact(
        skills,
        "memory.diff",
        t + 30,
        {"before": {"activeSkills": ["orders"]}, "after": {"activeSkills": ["orders", "refunds"]}},
    )
    b.end(skills, t + 10, t + 45)
    capture = b.start("memory.write", "capture memory", t + 50, root)
    b.artifact(
        capture,
        "memory.diff",
        t + 90,
        {
            "before": {"messages": 6, "toolEvents": 2},
            "after": {"messages": 9, "toolEvents": 4},
            "captured": ["refund ord_1"],
        },
    )
    b.end(capture, t + 50, t + 120)
    # the prompt and the thread context explain the first generation turn
    first_step = next(
        r["spanId"]
        for r in b.records
        if r["type"] == "span:start" and r["primitive"] == "generation.stream"
    )
    b.edge("explains", ("span", prompt), ("span", first_step), 16)
    b.edge("explains", ("span", ctx), ("span", first_step), 51)
    b.end(root, 2, t + 130)
    b.run_end("ok", t + 135)
    return b


def _research_run(rng: random.Random, now: datetime, *, caller_end: bool) -> RunBuilder:
    run_id = "run_research" if caller_end else "run_research_lost_end"
    name = "research request" if caller_end else "research request (caller end lost)"
    b = RunBuilder(
        run_id, name, "runtime.convex.action", _ago(now, 420 if caller_end else 360), rng
    )
    root = _root_action(b, "chat:send")
    agent = b.start("agent.run", "research agent", 10, root, agentId="researcher")
    t, tool = streamed_turn(
        b,
        agent,
        15,
        1,
        text="I'll research that.",
        tool=ToolPlan(
            "research",
            {"question": "EU refund law"},
            {"summary": "14-day window"},
            duration_ms=2600,
        ),
    )
    assert tool is not None
    # inside the tool: ctx.crux.runAction('research', internal.research.run, { question })
    start = t - 2600 + 20
    span, end = boundary(
        b, tool, start, "research", "research:run", caller_end=caller_end, child_ms=2400
    )
    child = b.start("agent.run", "research", start + 60, span, agentId="research")
    query = b.span(
        "retrieval.query",
        "search law corpus",
        start + 80,
        start + 400,
        child,
        retrieverId="law-corpus",
    )
    b.artifact(
        query,
        "retrieval.hits",
        start + 390,
        {"hits": [{"id": "eu-2011-83", "score": 0.88}, {"id": "eu-2019-771", "score": 0.8}]},
    )
    gen = b.start(
        "generation.call", "summarize findings", start + 420, child, model=MODEL, provider=PROVIDER
    )
    metrics = b.usage(gen, start + 2200, 1800, 160, 0.0051)
    b.end(gen, start + 420, start + 2250, metrics=metrics)
    b.end(child, start + 60, end - 20)
    t2, _ = streamed_turn(b, agent, t + 30, 2, text="EU consumers get a 14-day refund window.")
    b.end(agent, 10, t2 + 5)
    b.end(root, 2, t2 + 10)
    b.run_end("ok", t2 + 12)
    return b


def research_action(rng: random.Random, now: datetime) -> RunBuilder:
    """A child action reached through ``ctx.crux.runAction('research', ...)``."""
    return _research_run(rng, now, caller_end=True)


def research_lost_end(rng: random.Random, now: datetime) -> RunBuilder:
    """The same, but Convex dropped the caller's final ``span:end``: the child's
    ``completed`` acknowledgement closes the boundary."""
    return _research_run(rng, now, caller_end=False)


def expired_lease(rng: random.Random, now: datetime) -> RunBuilder:
    """A boundary whose lease expired with no acknowledgement: the worker was frozen."""
    b = RunBuilder(
        "run_lease_expired",
        "rank citations (lease expired)",
        "runtime.convex.action",
        _ago(now, 300),
        rng,
    )
    root = _root_action(b, "drafts:publish", "publish draft")
    agent = b.start("agent.run", "editor agent", 10, root, agentId="editor")
    t, _ = streamed_turn(b, agent, 15, 1, text="Ranking the citations now.")
    b.end(agent, 10, t + 5)
    boundary(
        b,
        root,
        t + 10,
        "rank citations",
        "citations:rank",
        received=False,
        completed=False,
        caller_end=False,
    )
    return b


def stalled_generation(rng: random.Random, now: datetime) -> RunBuilder:
    """A generation whose provider stalled past its Crux operation deadline."""
    b = RunBuilder(
        "run_deadline", "summarize thread (provider stalled)", "agent.run", _ago(now, 240), rng
    )
    b.run_start()
    agent = b.start("agent.run", "summarizer", 1, None, agentId="summarizer")
    t, _ = streamed_turn(
        b,
        agent,
        5,
        1,
        text="Reading the thread.",
        tool=ToolPlan("loadThread", {"threadId": "thread_8d2f"}, {"messages": 42}),
    )
    gen = b.start(
        "generation.stream",
        "streamText",
        t + 20,
        agent,
        model="claude-sonnet-4",
        provider="anthropic",
        attributes={"timeoutMs": 30_000, "source": "convex.agent"},
    )
    b.event(
        gen,
        "operation.deadline",
        t + 21,
        {"timeoutMs": 30_000, "deadlineAt": b.at(t + 20 + 30_000)},
    )
    b.event(gen, "token.chunk", t + 900, {"sequence": 1, "text": "The customer"})
    return b


def tool_error(rng: random.Random, now: datetime) -> RunBuilder:
    """A wrapped tool that throws: stack and raw artifacts, failure reaches the run."""
    b = RunBuilder(
        "run_tool_error", "order lookup (tool threw)", "runtime.convex.action", _ago(now, 180), rng
    )
    root = _root_action(b, "chat:send")
    agent = b.start("agent.run", "support agent", 10, root, agentId="support")
    t, _ = streamed_turn(b, agent, 15, 1, text="Looking up the order.")
    err = {
        "message": "Cannot read properties of undefined (reading 'orders')",
        "name": "TypeError",
        "category": "tool",
    }
    tool = b.start(
        "tool.call",
        "lookupOrder",
        t + 20,
        agent,
        toolName="lookupOrder",
        attributes={
            "phase": "tool.execute",
            "errorKind": "execute_error",
            "toolCallId": "call_lookup_1",
            "executed": True,
        },
    )
    b.artifact(tool, "tool.args", t + 21, {"orderId": "ord_404"})
    b.event(
        tool,
        "exception",
        t + 160,
        {"exception.type": "TypeError", "exception.message": err["message"]},
    )
    b.artifact(tool, "error.stack", t + 161, STACK, content_type="text/plain", encoding="text")
    b.artifact(
        tool,
        "error.raw",
        t + 162,
        {
            "name": "TypeError",
            "message": err["message"],
            "cause": {"customer": None, "lookup": {"orderId": "ord_404", "source": "convex.db"}},
            "toolCallId": "call_lookup_1",
            "retryable": False,
        },
    )
    b.end(
        tool,
        t + 20,
        t + 165,
        "error",
        error=err,
        attributes={"phase": "tool.execute", "errorKind": "execute_error"},
    )
    b.end(agent, 10, t + 170, "error", error=err)
    b.end(root, 2, t + 175, "error", error=err)
    b.run_end("error", t + 180, error=err)
    return b


def plan_approval(rng: random.Random, now: datetime) -> RunBuilder:
    """A flow that suspends on plan-approval while the chat action keeps streaming."""
    b = RunBuilder(
        "run_plan_approval",
        "migration plan (awaiting approval)",
        "runtime.convex.action",
        _ago(now, 150),
        rng,
    )
    root = _root_action(b, "chat:send")
    flow = b.start("flow.run", "migration plan", 10, root, flowId="migration.plan")
    draft = b.span("flow.step", "draft plan", 12, 900, flow, stepId="draft")
    b.artifact(draft, "output", 890, {"steps": ["export data", "dual write", "cut over"]})
    b.span("flow.step", "estimate cost", 905, 1300, flow, stepId="estimate")
    approval_point(b, flow, 1310, "Approve the 3-step migration plan?", ["ops"])
    b.end(flow, 10, 1325, "suspended")
    agent = b.start("agent.run", "chat agent", 1330, root, agentId="chat")
    t, _ = streamed_turn(
        b, agent, 1335, 1, duration_ms=2200, text="I've drafted the plan and sent it for approval."
    )
    b.end(agent, 1330, t + 5)
    b.end(root, 2, t + 10)
    b.run_end("ok", t + 12)
    return b


def handoff_and_delegate(rng: random.Random, now: datetime) -> RunBuilder:
    """A handoff between agents and a delegated flow."""
    b = RunBuilder("run_handoff", "billing escalation (handoff)", "agent.run", _ago(now, 90), rng)
    b.run_start()
    triage = b.start("agent.run", "triage agent", 1, None, agentId="triage")
    t, _ = streamed_turn(b, triage, 5, 1, text="This needs billing.")
    handoff = b.start("handoff.prepare", "handoff to billing", t + 10, triage)
    b.artifact(
        handoff,
        "handoff.payload",
        t + 12,
        {"from": "triage", "to": "billing", "summary": "double charge on ord_1"},
    )
    billing = b.start("agent.run", "billing agent", t + 20, handoff, agentId="billing")
    t2, _ = streamed_turn(
        b,
        billing,
        t + 25,
        1,
        text="Refund issued.",
        tool=ToolPlan("issueRefund", {"orderId": "ord_1"}, {"refundId": "re_9"}),
        streamed=False,
    )
    delegate = b.start("delegate.invoke", "delegate audit", t2 + 10, billing)
    audit = b.start("flow.run", "audit refund", t2 + 15, delegate, flowId="audit.refund")
    b.span("flow.step", "check ledger", t2 + 20, t2 + 300, audit, stepId="ledger")
    b.end(audit, t2 + 15, t2 + 310)
    b.artifact(delegate, "delegate.report", t2 + 312, {"verdict": "consistent"})
    b.end(delegate, t2 + 10, t2 + 315)
    b.end(billing, t + 20, t2 + 320)
    b.end(handoff, t + 10, t2 + 322)
    b.end(triage, 1, t2 + 325)
    b.run_end("ok", t2 + 330)
    return b


@dataclass(frozen=True)
class Scenario:
    run_id: str  # the operation id (its root run's id), which the runs list shows
    name: str
    status: str  # the presented status once loaded
    build: Callable[[random.Random, datetime], RunBuilder | Sequence[RunBuilder]]

    def records(self, rng: random.Random, now: datetime) -> list[Record]:
        """Every record of the scenario's runs, root run first."""
        built = self.build(rng, now)
        runs = [built] if isinstance(built, RunBuilder) else built
        return [record for run in runs for record in run.records]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("run_chat_support", "support chat", "ok", chat_action),
    Scenario("run_research", "research request", "ok", research_action),
    Scenario(
        "run_research_lost_end", "research request (caller end lost)", "ok", research_lost_end
    ),
    Scenario("run_lease_expired", "rank citations (lease expired)", "stale", expired_lease),
    Scenario(
        "run_deadline", "summarize thread (provider stalled)", "incomplete", stalled_generation
    ),
    Scenario("run_tool_error", "order lookup (tool threw)", "error", tool_error),
    Scenario("run_plan_approval", "migration plan (awaiting approval)", "suspended", plan_approval),
    Scenario("run_handoff", "billing escalation (handoff)", "ok", handoff_and_delegate),
    Scenario(operations.OPERATION_ID, operations.NAME, "ok", operations.scheduled_jobs),
    # one run per "Common Symptoms" row of the Convex guide (crux_tui.symptoms)
    Scenario("run_weekly_report", "weekly report (child ran on its own)", "ok", sym.weekly_report),
    Scenario("run_weekly_summarize", sym.SUMMARIZE_FUNCTION, "ok", sym.weekly_summarize),
    Scenario("run_invoice_exit", "send invoice (worker exited)", "incomplete", sym.worker_exited),
    Scenario(
        "run_release_plan",
        "release plan (generation end late)",
        "incomplete",
        sym.plan_generation_late,
    ),
    Scenario(
        "run_classify_hung",
        "classify ticket (no timeout)",
        "incomplete",
        sym.generation_without_timeout,
    ),
    Scenario("run_raw_agent", "order status (raw Convex Agent)", "ok", sym.raw_convex_agent),
    Scenario("run_unnamed_tool", "shipping quote (unnamed tool)", "ok", sym.unnamed_tool),
    Scenario("run_flow_root", "support chat (flow as root)", "ok", sym.flow_as_root),
    Scenario(
        "run_bridge_error", "resume plan (bridge command error)", "error", sym.bridge_command_error
    ),
)
