"""Each symptom rule fires on records shaped like the Crux SDK's (the demo builders), projected
by the real projection, and stays quiet on a near miss."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from crux_tui.contract.models import RunDetail
from crux_tui.demo import scenarios as demo
from crux_tui.demo import symptoms as sym
from crux_tui.demo.builder import RunBuilder
from crux_tui.demo.turns import MODEL, ToolPlan, boundary, streamed_turn
from crux_tui.symptoms import KINDS, Symptom, diagnose, facts_of_row, local_symptoms
from crux_tui.symptoms.tool_label import looks_like_call_id
from tests.symptoms.projected import project, records_of, scenario

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def codes(symptoms: list[Symptom]) -> list[str]:
    return [s.code for s in symptoms]


def span_of(detail: RunDetail, predicate) -> str:
    stack = [detail.root]
    while stack:
        node = stack.pop()
        if predicate(node):
            return node.spanId
        for d in node.details or ():
            if predicate(d):
                return d.spanId
        stack.extend(node.children or ())
    raise AssertionError("no such span")


def test_codes_are_stable_kebab_case_one_per_guide_row() -> None:
    assert [k.code for k in KINDS] == [
        "child-action-separate-run",
        "run-stays-incomplete",
        "plan-flow-incomplete-generation",
        "generation-past-timeout",
        "agent-tools-without-generation",
        "tool-label-call-id",
        "flow-as-chat-root",
        "bridge-command-message-only",
    ]
    for kind in KINDS:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", kind.code)
        assert kind.title and kind.fix and kind.cause


# --------------------------------------------------------------- child action as separate run


def test_child_action_separate_run_seen_from_both_sides() -> None:
    details = project(records_of(sym._weekly_report(random.Random(1), NOW)), NOW)
    parent, child = details["run_weekly_report"], details["run_weekly_summarize"]
    # each alone: nothing to compare with
    assert "child-action-separate-run" not in codes(diagnose(parent))
    assert "child-action-separate-run" not in codes(diagnose(child))

    found = diagnose(parent, [child])
    assert codes(found) == ["child-action-separate-run"]
    boundary_span = span_of(
        parent, lambda s: s.primitive == "runtime.convex.action" and s.parentSpanId
    )
    assert found[0].spanIds == [boundary_span]
    assert "reports:summarize" in found[0].evidence and "run_weekly_summarize" in found[0].evidence
    assert "ctx.crux.runAction" in found[0].fix and "@crux/convex/server" in found[0].fix

    seen_from_child = diagnose(child, [parent])
    assert codes(seen_from_child) == ["child-action-separate-run"]
    assert seen_from_child[0].spanIds == [child.root.spanId]
    assert seen_from_child[0].runId == "run_weekly_summarize"


def test_child_action_caller_side_from_a_list_row_alone() -> None:
    """A runs-list row of the separate run is enough for the caller's side."""
    details = project(records_of(sym._weekly_report(random.Random(1), NOW)), NOW)
    row = details["run_weekly_summarize"].run
    assert codes(diagnose(details["run_weekly_report"], [row])) == ["child-action-separate-run"]
    assert facts_of_row(row).roots[0].function == sym.SUMMARIZE_FUNCTION


def _report_with_child(*, linked: bool, child_delay_s: float = 0) -> dict[str, RunDetail]:
    """The weekly report with its child as a proper child run (linked) or as a separate run
    started ``child_delay_s`` after the boundary."""
    rng = random.Random(3)
    b = RunBuilder(
        "run_report", "weekly report", "runtime.convex.action", NOW - timedelta(minutes=20), rng
    )
    b.run_start({"functionRef": "reports:weekly"})
    root = b.start(
        "runtime.convex.action",
        "weekly report",
        2,
        None,
        attributes={"functionRef": "reports:weekly"},
    )
    agent = b.start("agent.run", "report agent", 10, root, agentId="reports", model=MODEL)
    t, tool = streamed_turn(
        b, agent, 15, 1, text="Summarizing.", tool=ToolPlan("summarizeWeek", {}, {}, 2600)
    )
    span, _ = boundary(b, tool, t - 2580, "summarize", sym.SUMMARIZE_FUNCTION, child_ms=2400)
    b.end(agent, 10, t + 5)
    b.end(root, 2, t + 10)
    b.run_end("ok", t + 12)
    child_id = "run_report_summarize"
    child = RunBuilder(
        child_id,
        sym.SUMMARIZE_FUNCTION,
        "runtime.convex.action",
        b.started_at + timedelta(milliseconds=t - 2520) + timedelta(seconds=child_delay_s),
        rng,
        operation_id=b.run_id if linked else "",
        trace_id=b.trace_id,
    )
    child.run_start(
        {"functionRef": sym.SUMMARIZE_FUNCTION},
        parent_run_id=b.run_id if linked else "",
        triggered_by_span_id=span if linked else "",
    )
    action = child.start(
        "runtime.convex.action",
        sym.SUMMARIZE_FUNCTION,
        1,
        None,
        attributes={"functionRef": sym.SUMMARIZE_FUNCTION},
    )
    child.end(action, 1, 900)
    child.run_end("ok", 905)
    return project(records_of(b, child), NOW)


def test_child_action_near_misses() -> None:
    # ctx.crux.runAction into a @crux/convex/server target: one operation, a child run
    linked = _report_with_child(linked=True)
    assert list(linked) == ["run_report"]
    assert "child-action-separate-run" not in codes(diagnose(linked["run_report"]))
    # an acknowledged boundary and the same function run long after it: another invocation
    later = _report_with_child(linked=False, child_delay_s=600)
    parent, other = later["run_report"], later["run_report_summarize"]
    assert "child-action-separate-run" not in codes(diagnose(parent, [other]))
    assert "child-action-separate-run" not in codes(diagnose(other, [parent]))


# --------------------------------------------------------------- run stays incomplete


def test_run_stays_incomplete_when_the_worker_exited() -> None:
    detail = scenario(sym.worker_exited, NOW)
    found = diagnose(detail)
    assert codes(found) == ["run-stays-incomplete"]
    tool = span_of(detail, lambda s: s.primitive == "tool.call")
    assert found[0].spanIds == [tool]
    assert "no run:end" in found[0].evidence and "createInvoice" in found[0].evidence
    assert "flushObservability()" in found[0].fix


def test_run_stays_incomplete_near_misses() -> None:
    # the same run seen while it still works (inside the freshness window): not a symptom
    started = NOW - timedelta(seconds=960)
    fresh = scenario(sym.worker_exited, NOW, at=started + timedelta(seconds=5))
    assert fresh.run.status == "running"
    assert diagnose(fresh) == []
    # incomplete because a deadline passed: the generation rule's business, not this one
    stalled = scenario(demo.stalled_generation, NOW)
    assert stalled.run.status == "incomplete"
    assert "run-stays-incomplete" not in codes(diagnose(stalled))


# --------------------------------------------------------------- plan flow incomplete generation


def test_plan_flow_shows_incomplete_generation() -> None:
    detail = scenario(sym.plan_generation_late, NOW)
    found = diagnose(detail)
    assert codes(found) == ["plan-flow-incomplete-generation"]
    gen = span_of(detail, lambda s: s.primitive == "generation.call")
    flow = span_of(detail, lambda s: s.primitive == "flow.run")
    assert found[0].spanIds == [gen, flow]
    assert "suspended" in found[0].evidence


def test_plan_flow_near_miss_generation_ended_in_time() -> None:
    def in_time(rng: random.Random, now: datetime) -> RunBuilder:
        b = sym.plan_generation_late(rng, now)
        gen = next(r["spanId"] for r in b.records if r.get("primitive") == "generation.call")
        b.end(gen, 20, 9_000)
        return b

    detail = scenario(in_time, NOW)
    assert detail.run.status == "suspended"  # the flow waits for approval
    assert "plan-flow-incomplete-generation" not in codes(diagnose(detail))
    assert "generation-past-timeout" not in codes(diagnose(detail))
    # the suspended demo flow has no generation at all
    assert diagnose(scenario(demo.plan_approval, NOW)) == []


# --------------------------------------------------------------- generation past timeout


def test_generation_without_timeout_stays_running() -> None:
    detail = scenario(sym.generation_without_timeout, NOW)
    found = diagnose(detail)
    assert codes(found) == ["generation-past-timeout"]  # not also run-stays-incomplete
    assert found[0].spanIds == [span_of(detail, lambda s: s.primitive == "generation.stream")]
    assert "timeoutMs" in found[0].fix and "no timeoutMs" in found[0].evidence


def test_generation_past_its_deadline() -> None:
    detail = scenario(demo.stalled_generation, NOW)
    found = diagnose(detail)
    assert codes(found) == ["generation-past-timeout"]
    assert "incomplete at the deadline" in found[0].evidence
    assert "flushes" in found[0].fix


def test_generation_still_running_after_its_deadline_with_the_clock() -> None:
    """A backend that does not reconcile deadlines still says running: with the clock, the
    rule sees it is past its deadline."""
    started = NOW - timedelta(seconds=240)
    early = scenario(demo.stalled_generation, NOW, at=started + timedelta(seconds=3))
    gen = next(m for m in early.rows or () if m.display.label == "streamText")
    assert gen.status == "running"
    assert diagnose(early) == []
    assert diagnose(early, now=started + timedelta(seconds=2)) == []
    late = diagnose(early, now=started + timedelta(seconds=60))
    assert codes(late) == ["generation-past-timeout"]
    assert "still running after its deadline" in late[0].evidence


def test_generation_timeout_near_miss_still_streaming() -> None:
    started = NOW - timedelta(seconds=880)
    detail = scenario(sym.generation_without_timeout, NOW, at=started + timedelta(seconds=3))
    assert diagnose(detail) == []


# --------------------------------------------------------------- agent with tools, no generation


def test_agent_with_tools_but_no_generation() -> None:
    detail = scenario(sym.raw_convex_agent, NOW)
    found = diagnose(detail)
    assert codes(found) == ["agent-tools-without-generation"]
    agent = span_of(detail, lambda s: s.primitive == "agent.run")
    assert found[0].spanIds[0] == agent
    assert "@crux/convex/agent" in found[0].fix and "lookupOrder" in found[0].evidence


def test_agent_near_misses() -> None:
    assert diagnose(scenario(demo.chat_action, NOW)) == []  # tools and generations
    assert diagnose(scenario(demo.handoff_and_delegate, NOW)) == []  # nested agents

    def no_tools(rng: random.Random, now: datetime) -> RunBuilder:
        b = RunBuilder("run_quiet", "quiet", "agent.run", now - timedelta(minutes=5), rng)
        b.run_start()
        agent = b.start("agent.run", "quiet agent", 1, None, agentId="quiet")
        b.end(agent, 1, 50)
        b.run_end("ok", 55)
        return b

    assert diagnose(scenario(no_tools, NOW)) == []


# --------------------------------------------------------------- tool row shows only call id


def test_tool_labelled_with_its_call_id() -> None:
    detail = scenario(sym.unnamed_tool, NOW)
    found = diagnose(detail)
    assert codes(found) == ["tool-label-call-id"]
    assert found[0].spanIds == [span_of(detail, lambda s: s.primitive == "tool.call")]
    assert "createTool()" in found[0].fix and "wrapConvexTool(tool, { name })" in found[0].fix


def test_tool_label_near_misses() -> None:
    assert diagnose(scenario(demo.tool_error, NOW)) == []  # toolCallId call_lookup_1, named
    for name in ("call_center", "lookupOrder", "toolu"):
        assert not looks_like_call_id(name)
    for generated in ("call_9fK2xQ71aa", "toolu_01A2b3C4d5E6f7", "fc_12ab34cd56"):
        assert looks_like_call_id(generated)

    def call_center(rng: random.Random, now: datetime) -> RunBuilder:
        b = RunBuilder("run_cc", "call center", "agent.run", now - timedelta(minutes=5), rng)
        b.run_start()
        agent = b.start("agent.run", "router", 1, None, agentId="router")
        streamed_turn(b, agent, 5, 1, text="Routing.", tool=ToolPlan("call_center", {}, {}))
        b.end(agent, 1, 3000)
        b.run_end("ok", 3005)
        return b

    assert diagnose(scenario(call_center, NOW)) == []


# --------------------------------------------------------------- flow appears as chat root


def test_flow_as_chat_root() -> None:
    detail = scenario(sym.flow_as_root, NOW)
    found = diagnose(detail)
    assert codes(found) == ["flow-as-chat-root"]
    flow = span_of(detail, lambda s: s.primitive == "flow.run")
    agent = span_of(detail, lambda s: s.primitive == "agent.run")
    assert found[0].spanIds == [flow, agent]


def test_flow_root_near_misses() -> None:
    def real_flow(rng: random.Random, now: datetime) -> RunBuilder:
        b = RunBuilder("run_real_flow", "triage flow", "flow.run", now - timedelta(minutes=5), rng)
        b.run_start()
        flow = b.start("flow.run", "triage flow", 1, None, flowId="triage")
        step = b.start("flow.step", "classify", 5, flow, stepId="classify")
        agent = b.start("agent.run", "classifier", 6, step, agentId="classifier", model=MODEL)
        t, _ = streamed_turn(b, agent, 10, 1, text="billing")
        b.end(agent, 6, t + 5)
        b.end(step, 5, t + 10)
        b.end(flow, 1, t + 20)
        b.run_end("ok", t + 25)
        return b

    assert diagnose(scenario(real_flow, NOW)) == []  # the agent is a step of the flow
    assert diagnose(scenario(demo.plan_approval, NOW)) == []  # a flow inside the action


# --------------------------------------------------------------- bridge command with only a message


def test_bridge_command_with_only_a_message() -> None:
    detail = scenario(sym.bridge_command_error, NOW)
    found = diagnose(detail)
    assert codes(found) == ["bridge-command-message-only"]
    assert found[0].spanIds == [span_of(detail, lambda s: s.primitive == "runtime.convex.resume")]
    assert "flow.resume" in found[0].evidence and "command.error.details" in found[0].fix


def test_bridge_command_near_miss_normalised_details() -> None:
    def normalised(rng: random.Random, now: datetime) -> RunBuilder:
        b = sym.bridge_command_error(rng, now)
        for record in b.records:
            if record["type"] == "span:end" and "command.error" in (record.get("attributes") or {}):
                record["attributes"]["command.error"]["details"] = {
                    "name": "ConvexError",
                    "code": "FLOW_NOT_SUSPENDED",
                    "data": {"flowId": "migration.plan", "status": "completed"},
                }
        return b

    assert diagnose(scenario(normalised, NOW)) == []


def test_bridge_command_event_shape() -> None:
    """A ``command.failed`` event whose error is a bare string is read too."""

    def evented(rng: random.Random, now: datetime) -> RunBuilder:
        b = RunBuilder("run_cmd_event", "bridge", "agent.run", now - timedelta(minutes=5), rng)
        b.run_start()
        agent = b.start("agent.run", "agent", 1, None, agentId="a")
        b.event(agent, "command.failed", 20, {"command": "thread.reset", "error": "no such thread"})
        b.event(agent, "command.completed", 30, {"command": "thread.list"})
        b.end(agent, 1, 50)
        b.run_end("ok", 55)
        return b

    found = diagnose(scenario(evented, NOW))
    assert codes(found) == ["bridge-command-message-only"]
    assert "thread.reset" in found[0].evidence and "no such thread" in found[0].evidence


# --------------------------------------------------------------- the whole demo


def test_every_demo_scenario_shows_the_symptom_it_is_about() -> None:
    from crux_tui.demo import build_demo_records

    details = project(build_demo_records(now=NOW), NOW)
    found = {
        op: codes(diagnose(d, [x for k, x in details.items() if k != op]))
        for op, d in details.items()
    }
    assert found == {
        "run_chat_support": [],
        "run_research": [],
        "run_research_lost_end": [],
        "run_lease_expired": ["run-stays-incomplete"],
        "run_deadline": ["generation-past-timeout"],
        "run_tool_error": [],
        "run_plan_approval": [],
        "run_handoff": [],
        "run_refund_jobs": [],
        "run_weekly_report": ["child-action-separate-run"],
        "run_weekly_summarize": ["child-action-separate-run"],
        "run_invoice_exit": ["run-stays-incomplete"],
        "run_release_plan": ["plan-flow-incomplete-generation"],
        "run_classify_hung": ["generation-past-timeout"],
        "run_raw_agent": ["agent-tools-without-generation"],
        "run_unnamed_tool": ["tool-label-call-id"],
        "run_flow_root": ["flow-as-chat-root"],
        "run_bridge_error": ["bridge-command-message-only"],
    }
    assert {code for codes_ in found.values() for code in codes_} == {k.code for k in KINDS}


def test_symptoms_encode_as_json_and_local_rules_need_no_neighbours() -> None:
    detail = scenario(sym.unnamed_tool, NOW)
    (symptom,) = local_symptoms(detail)
    decoded = msgspec.json.decode(msgspec.json.encode(symptom))
    assert set(decoded) == {"code", "title", "spanIds", "evidence", "fix", "runId"}
    assert msgspec.json.decode(msgspec.json.encode(symptom), type=Symptom) == symptom


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.code)
def test_fix_is_one_or_two_lines(kind) -> None:
    assert len(kind.fix) <= 200
