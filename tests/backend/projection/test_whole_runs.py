"""Whole-run scenarios from the Convex observability guide (issue #3 "Show")."""

from __future__ import annotations

import pytest

from crux_tui.backend.projection import presented_run_status

from .builders import (
    artifact,
    at,
    child_spans,
    detail_spans,
    diag_codes,
    event,
    graph,
    node_by_span,
    project,
    reconciled_from,
    span,
    ts,
)

BOUNDARY = {
    "functionRef": "research:run",
    "boundary": "convex.action",
    "presentation": {"display": "detail"},
}


def _labels(node):
    return [c.display.label for c in node.children]


@pytest.mark.parametrize("caller_end_missing", [False, True])
def test_convex_chat_action_with_child_action_across_boundary(caller_end_missing):
    bnd_end = None if caller_end_missing else 7.7
    g = graph(
        [
            span("chat", "", "agent.run", start=0, end=10, agentId="chat"),
            span("gen1", "chat", "generation.call", start=0.5, end=2, name="plan answer"),
            span(
                "bnd",
                "chat",
                "runtime.convex.action",
                start=2,
                end=bnd_end,
                name="research",
                attributes=dict(BOUNDARY),
            ),
            span("research", "bnd", "agent.run", start=2.2, end=7.5, agentId="research"),
            span("rgen", "research", "generation.call", start=3, end=7, name="search the web"),
            span("gen2", "chat", "generation.call", start=8, end=9.5, name="final answer"),
        ],
        events=[
            event("bnd", "runtime.convex.boundary.requested", 2, leaseExpiresAt=ts(92)),
            event("bnd", "runtime.convex.boundary.received", 2.2, leaseExpiresAt=ts(92)),
            event("bnd", "runtime.convex.boundary.completed", 7.6, status="ok"),
        ],
        name="chat",
        root_primitive="agent.run",
        status="ok",
        end=10,
    )
    d = project(g, now=20)
    assert d.root.id == "run:run_1" and d.root.display.label == "chat"
    assert _labels(d.root) == ["plan answer", "research", "final answer"]
    research = node_by_span(d, "research")
    assert research.parentId == "run:run_1"
    assert research.source.canonicalParentSpanId == "bnd"
    assert child_spans(research) == ["rgen"]
    assert detail_spans(research) == ["bnd"]
    bnd = research.details[0]
    assert bnd.display == "detail" and bnd.source.canonicalParentSpanId == "chat"
    assert d.spanIndex["bnd"].placement == "detail"
    assert d.spanIndex["bnd"].ownerNodeId == "span:research"
    assert set(d.spanIndex) == {"chat", "gen1", "bnd", "research", "rgen", "gen2"}
    assert bnd.status == "ok"
    if caller_end_missing:
        assert bnd.endedAt == "2026-05-16T18:00:07.6Z"
        assert reconciled_from(bnd) == "runtime.convex.boundary"
    else:
        assert reconciled_from(bnd) == ""
    assert d.root.status == "ok" and d.diagnostics == []
    assert [r.depth for r in d.rows] == [0, 1, 1, 2, 1]


def test_convex_agent_streamed_turn_with_tool_calls():
    step = {"source": "convex.agent.step"}
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=20, agentId="support"),
            # multi-step streamed turn: stays primary, tools are siblings of the steps
            span("turn", "agent", "generation.stream", start=1, end=9, name="turn 1"),
            span(
                "step0",
                "turn",
                "generation.call",
                start=1,
                end=3,
                name="step-0",
                attributes={**step, "stepNumber": 0},
            ),
            span(
                "tool",
                "step0",
                "tool.call",
                start=2.9,
                end=5,
                toolName="lookupOrder",
                attributes={"toolCallId": "call_1"},
            ),
            span(
                "step1",
                "turn",
                "generation.call",
                start=5,
                end=9,
                name="step-1",
                attributes={**step, "stepNumber": 1},
            ),
            # a redundant single-step stream: folded into its step
            span("turn2", "agent", "generation.stream", start=10, end=15, name="turn 2"),
            span(
                "step2",
                "turn2",
                "generation.call",
                start=10,
                end=15,
                name="step-0",
                attributes=step,
            ),
            span("h", "agent", "handoff.prepare", start=15, end=16, name="to billing"),
            span("billing", "h", "agent.run", start=16, end=19, agentId="billing"),
        ],
        events=[event("step0", "token.chunk", 1.5, text="Hel")],
        artifacts=[artifact("step0", "tool.request", 3, toolCallId="call_1")],
        name="support",
        root_primitive="agent.run",
        status="ok",
        end=20,
    )
    d = project(g, now=30)
    assert child_spans(d.root) == ["turn", "step2", "h", "billing"]
    turn = node_by_span(d, "turn")
    assert child_spans(turn) == ["step0", "tool", "step1"]  # tool after its requester
    assert node_by_span(d, "tool").display.label == "lookupOrder"
    assert node_by_span(d, "tool").source.canonicalParentSpanId == "step0"
    assert node_by_span(d, "step0").events is None  # token.chunk not in events
    step2 = node_by_span(d, "step2")
    assert detail_spans(step2) == ["turn2"]
    assert d.spanIndex["turn2"].ownerNodeId == "span:step2"
    assert node_by_span(d, "h").children == []
    assert (d.counts.primary, d.counts.detail) == (8, 1)


def test_plan_approval_flow_suspends_while_parent_streams():
    g = graph(
        [
            span("chat", "", "agent.run", start=0, agentId="chat"),
            span("plan", "chat", "tool.call", start=1, end=3, toolName="createPlan"),
            span(
                "flow",
                "plan",
                "flow.run",
                start=1.2,
                end=2.5,
                status="suspended",
                flowId="plan-approval",
            ),
            span("draft", "flow", "flow.step", start=1.3, end=2, stepId="draft"),
            span("dgen", "draft", "generation.call", start=1.4, name="draft plan"),
            span(
                "wait",
                "draft",
                "flow.suspension",
                start=2.4,
                end=2.4,
                status="suspended",
                name="await approval",
            ),
            span(
                "stream",
                "chat",
                "generation.stream",
                start=3,
                name="final text",
                metrics={"outputTokens": 4},
            ),
        ],
        artifacts=[artifact("dgen", "output", 1.9, preview="plan")],
        name="chat",
        root_primitive="agent.run",
        lastActivityAt=ts(5),
    )
    d = project(g, now=10)
    assert child_spans(d.root) == ["plan", "stream"]
    assert child_spans(node_by_span(d, "plan")) == ["flow"]
    flow = node_by_span(d, "flow")
    assert child_spans(flow) == ["draft", "wait"]
    assert flow.status == "suspended" and flow.display.severity == "warn"
    dgen = node_by_span(d, "dgen")
    assert dgen.status == "ok" and reconciled_from(dgen) == "terminal.ancestor"
    assert node_by_span(d, "stream").status == "running"
    # the parent action keeps streaming: the run and its root row say running (one status
    # per run); the suspension shows on the flow's row
    assert d.run.status == d.root.status == "running"
    assert d.diagnostics == []


def test_expired_lease_marks_boundary_stale():
    g = graph(
        [
            span("chat", "", "agent.run", start=0, agentId="chat"),
            span(
                "bnd",
                "chat",
                "runtime.convex.action",
                start=1,
                name="research",
                attributes=dict(BOUNDARY),
            ),
        ],
        events=[event("bnd", "runtime.convex.boundary.requested", 1, leaseExpiresAt=ts(91))],
        name="chat",
        root_primitive="agent.run",
        lastActivityAt=ts(1),
    )
    assert project(g, now=60).run.status == "running"  # live lease protects the run
    d = project(g, now=100)
    bnd = d.root.details[0]
    assert bnd.spanId == "bnd" and bnd.status == "stale" and bnd.endedAt == ts(91)[:-5] + "Z"
    assert diag_codes(bnd.diagnostics) == ["convex-boundary-lease-expired"]
    assert d.spanIndex["bnd"].placement == "detail"
    assert d.root.status == "stale" and d.run.status == "stale"  # R6 closes the parents
    assert presented_run_status(g, at(100)) == ("stale", "presentation-reconciled")


def test_expired_deadline_marks_branch_incomplete():
    g = graph(
        [
            span("chat", "", "agent.run", start=0, agentId="chat"),
            span("tool", "chat", "tool.call", start=0.5, end=0.9, toolName="search"),
            span(
                "gen",
                "chat",
                "generation.call",
                start=1,
                name="answer",
                attributes={"timeoutMs": 30000},
            ),
        ],
        name="chat",
        root_primitive="agent.run",
        lastActivityAt=ts(1),
    )
    live = project(g, now=20)
    assert node_by_span(live, "gen").status == "running"  # active deadline keeps it running
    d = project(g, now=40)
    gen = node_by_span(d, "gen")
    assert (gen.status, gen.endedAt) == ("incomplete", "2026-05-16T18:00:31Z")
    assert diag_codes(gen.diagnostics) == ["operation-deadline-exceeded"]
    assert d.root.status == "incomplete" and d.root.endedAt == "2026-05-16T18:00:31Z"
    assert diag_codes(d.root.diagnostics) == ["descendant-operation-deadline-exceeded"]
    assert d.run.status == "incomplete"
    assert diag_codes(d.diagnostics) == ["descendant-operation-deadline-exceeded"]
    assert presented_run_status(g, at(40)) == (
        "incomplete",
        "descendant-operation-deadline-exceeded",
    )
    assert _labels(d.root) == ["search", "answer"]


def test_a_run_that_ended_ok_around_a_suspended_flow_is_suspended_everywhere():
    g = graph(
        [
            span("chat", "", "agent.run", start=0, end=4, name="chat"),
            span("flow", "chat", "flow.run", start=1, end=2, status="suspended", flowId="plan"),
            span("wait", "flow", "flow.suspension", start=1.5, end=1.5, status="suspended"),
            span("gen", "chat", "generation.call", start=2, end=3.5),
        ],
        name="chat",
        root_primitive="agent.run",
        end=4,
        status="ok",
    )
    d = project(g, now=10)
    assert d.run.status == d.root.status == d.rows[0].status == "suspended"
    assert node_by_span(d, "gen").status == "ok"
