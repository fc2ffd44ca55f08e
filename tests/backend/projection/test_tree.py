"""Placement, folding, re-parenting and sibling order (presentation.md §3-4)."""

from __future__ import annotations

from typing import Any

import msgspec

from .builders import (
    artifact,
    child_spans,
    detail_spans,
    edge,
    graph,
    node_by_span,
    project,
    span,
    ts,
)

DETAIL = {"presentation": {"display": "detail"}}


def test_context_style_spans_become_details_and_wrappers_are_compacted():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("router", "agent", "routing.router", start=1, end=8),  # wrapper
            span("prompt", "router", "prompt.resolve", start=1, end=1.1),  # leaf detail
            span("gen", "router", "generation.call", start=2, end=7),
            span("cost", "agent", "cost.record", start=8, end=8.1),  # trailing
        ],
        name="agent",
        root_primitive="agent.run",
        status="ok",
        end=9,
    )
    d = project(g, now=10)
    assert d.root.id == "run:run_1" and not d.root.virtual
    assert child_spans(d.root) == ["gen"]  # router compacted, gen hoisted
    gen = node_by_span(d, "gen")
    assert gen.parentId == "run:run_1" and gen.source.canonicalParentSpanId == "router"
    # the wrapper and the prompt inside it are pending when gen (its first visible descendant)
    # is reached; cost has no visible sibling after it, so it trails the agent (§3.4)
    assert detail_spans(gen) == ["router", "prompt"]
    assert detail_spans(d.root) == ["cost"]
    assert d.spanIndex["router"].placement == "detail"
    assert d.spanIndex["router"].ownerNodeId == "span:gen"
    assert d.spanIndex["router"].path == ["run:run_1", "span:gen", "detail:router"]
    assert d.spanIndex["prompt"].ownerNodeId == "span:gen"
    assert d.spanIndex["prompt"].reason == "chronology"
    assert d.spanIndex["agent"].nodeId == "run:run_1"
    assert (d.counts.primary, d.counts.detail, d.counts.attachedDetails) == (2, 3, 3)
    assert [r.nodeId for r in d.rows] == ["run:run_1", "span:gen"]


def test_explains_edge_beats_owner_hint_beats_chronology():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("p1", "agent", "prompt.resolve", start=0.1, end=0.2),
            span(
                "p2",
                "agent",
                "context.resolve",
                start=0.2,
                end=0.3,
                attributes={"presentation": {"ownerSpanId": "g2"}},
            ),
            span(
                "p3",
                "agent",
                "context.resolve",
                start=0.3,
                end=0.4,
                attributes={"presentation": {"ownerSpanId": "g2"}},
            ),
            span("g1", "agent", "generation.call", start=1, end=2),
            span("g2", "agent", "generation.call", start=3, end=4),
        ],
        edges=[edge("explains", "p1", "g1"), edge("explains", "p3", "g1")],
    )
    d = project(g, now=10)
    assert detail_spans(node_by_span(d, "g1")) == ["p1", "p3"]
    assert detail_spans(node_by_span(d, "g2")) == ["p2"]
    assert d.spanIndex["p1"].reason == "explains-edge"
    assert d.spanIndex["p2"].reason == "owner-hint"
    assert d.spanIndex["p3"].reason == "explains-edge"
    p2 = node_by_span(d, "g2").details[0]
    assert (p2.source.ownerSpanId, p2.source.placementReason, p2.role) == (
        "g2",
        "owner-hint",
        "input",
    )


def test_completion_only_span_is_a_detail_never_a_row():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=2),
            span("orphan_end", "agent", "", family="", start=0, end=1, status="ok"),
        ]
    )
    d = project(g, now=3)
    assert d.spanIndex["orphan_end"].placement == "detail"
    assert all(r.spanId != "orphan_end" for r in d.rows)


def test_infrastructure_boundary_folds_into_next_visible_descendant():
    g = graph(
        [
            span("chat", "", "agent.run", start=0, end=10),
            span("b", "chat", "runtime.convex.action", start=1, end=9, attributes=dict(DETAIL)),
            span("research", "b", "agent.run", start=2, end=8),
            span("gen", "research", "generation.call", start=3, end=7),
        ]
    )
    d = project(g, now=11)
    chat = node_by_span(d, "chat")
    assert child_spans(chat) == ["research"]
    research = node_by_span(d, "research")
    assert research.parentId == chat.id and research.parentSpanId == "chat"
    assert research.source.canonicalParentSpanId == "b"
    assert detail_spans(research) == ["b"]
    assert d.spanIndex["b"].ownerNodeId == "span:research"
    assert node_by_span(d, "research").details[0].source.canonicalParentSpanId == "chat"
    # the boundary without the hint stays primary (no family rule for runtime)
    g.spans[1].attributes = None
    assert child_spans(node_by_span(project(g, now=11), "chat")) == ["b"]


def test_redundant_convex_agent_stream_folds_to_detail():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("s", "agent", "generation.stream", start=1, end=8),
            span(
                "step",
                "s",
                "generation.call",
                start=1,
                end=8,
                attributes={"source": "convex.agent.step"},
            ),
            span("s2", "agent", "generation.stream", start=1, end=8, metrics={"inputTokens": 3}),
            span("step2", "s2", "generation.call", start=1, end=8, name="Step-1"),
        ]
    )
    d = project(g, now=10)
    agent = node_by_span(d, "agent")
    assert "step" in child_spans(agent) and "s" not in child_spans(agent)
    assert detail_spans(node_by_span(d, "step")) == ["s"]
    assert child_spans(node_by_span(d, "s2")) == ["step2"]  # metrics -> not redundant
    assert d.facets["primitive"]["generation.stream"] == 2


def test_tool_call_under_generation_reparenting():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("gen", "agent", "generation.call", start=1, end=3),
            span("tool", "gen", "tool.call", start=2, end=2.5, toolName="search"),
            span("stream", "agent", "generation.stream", start=4, end=8, metrics={"x": 1}),
            span("inner", "stream", "generation.call", start=4, end=5),
            span("tool2", "inner", "tool.call", start=5, end=6),
        ]
    )
    d = project(g, now=10)
    agent = node_by_span(d, "agent")
    assert child_spans(agent) == ["gen", "tool", "stream"]  # promoted tool execution
    assert node_by_span(d, "tool").display.label == "search"
    assert child_spans(node_by_span(d, "stream")) == ["inner", "tool2"]  # [new]: to the stream


def test_tool_execution_stays_after_requesting_generation_despite_noisy_clock():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("g1", "agent", "generation.call", start=2, end=3),
            span("tool", "agent", "tool.call", start=1.5, end=4, attributes={"toolCallId": "c1"}),
            span("g2", "agent", "generation.call", start=5, end=6),
        ],
        artifacts=[artifact("g1", "tool.request", 2.5, preview={"toolCallId": "c1"})],
    )
    d = project(g, now=10)
    assert child_spans(node_by_span(d, "agent")) == ["g1", "tool", "g2"]


def test_large_sibling_level_keeps_order_constraints():
    spans_ = [span("agent", "", "agent.run", start=0, end=99)]
    arts = []
    for i in range(20):
        spans_.append(span(f"g{i:02d}", "agent", "generation.call", start=i * 2, end=i * 2 + 1))
        spans_.append(
            span(
                f"t{i:02d}",
                "agent",
                "tool.call",
                start=i * 2 - 0.5,
                end=i * 2 + 1,
                attributes={"toolCallId": f"c{i}"},
            )
        )
        arts.append(artifact(f"g{i:02d}", "tool.request", i * 2, toolCallId=f"c{i}"))
    d = project(graph(spans_, artifacts=arts), now=100)
    order = child_spans(node_by_span(d, "agent"))
    assert len(order) == 40
    for i in range(20):
        assert order.index(f"t{i:02d}") == order.index(f"g{i:02d}") + 1


def test_handoff_and_delegate_are_transitions_not_parents():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("h", "agent", "handoff.prepare", start=1, end=2),
            span("research", "h", "agent.run", start=0.5, end=5),  # earlier clock, canonical child
            span("g", "agent", "generation.call", start=6, end=7),
        ]
    )
    d = project(g, now=10)
    agent = node_by_span(d, "agent")
    assert child_spans(agent) == ["h", "research", "g"]
    assert node_by_span(d, "h").children == [] and node_by_span(d, "h").kind == "transition"
    assert node_by_span(d, "research").source.canonicalParentSpanId == "h"


def test_flow_suspension_reparented_to_flow_run():
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="suspended"),
            span("step", "flow", "flow.step", start=1, end=2),
            span("susp", "step", "flow.suspension", start=2, end=2, status="suspended"),
        ]
    )
    d = project(g, now=6)
    flow = node_by_span(d, "flow")
    assert child_spans(flow) == ["step", "susp"]
    assert node_by_span(d, "susp").kind == "suspension"
    assert node_by_span(d, "step").kind == "step"


def test_status_and_metric_rollups():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9, metrics={"cost": 0.5}),
            span(
                "g1",
                "agent",
                "generation.call",
                start=1,
                end=2,
                metrics={"inputTokens": 10, "outputTokens": 5, "ttftMs": 30},
            ),
            span(
                "g2",
                "agent",
                "generation.call",
                start=3,
                end=4,
                status="error",
                metrics={"inputTokens": 1, "ttftMs": 20, "score": 0.9},
            ),
            span("p", "g2", "prompt.resolve", start=3, end=3.1, metrics={"costUsd": 0.1}),
        ]
    )
    d = project(g, now=10)
    agent = node_by_span(d, "agent")
    assert agent.status == "error" and agent.display.severity == "error"
    b = agent.metricBuckets
    assert b.own == {"costUsd": 0.5}
    assert b.children["inputTokens"] == 11 and b.children["ttftMs"] == 20
    assert b.children["totalTokens"] == 16
    assert b.total["costUsd"] == 0.6
    assert node_by_span(d, "g2").metricBuckets.details == {"costUsd": 0.1}
    assert agent.timing.childrenMs == 2000 and agent.timing.selfMs == 7000


def _level(n: int, start: float = 1) -> list:
    """``n`` siblings under one agent, all starting at the same instant, ids out of order."""
    ids = [f"s{i:02d}" for i in range(n)]
    ids = ids[1::2] + ids[::2]
    return [span("agent", "", "agent.run", start=0, end=9)] + [
        span(sid, "agent", "generation.call", start=start, end=start + 1) for sid in ids
    ]


def test_siblings_that_start_together_are_ordered_by_span_id():
    """§3.5 tie-break: equal start times order by spanId, ascending, in small levels
    (the Go comparator) and in levels of more than 12 (sorted by start, then id)."""
    for n in (3, 12, 13, 30):
        order = child_spans(node_by_span(project(graph(_level(n)), now=10), "agent"))
        assert order == sorted(order) and len(order) == n, n


def test_in_a_large_level_the_requesting_generation_anchors_before_the_canonical_parent():
    """A tool execution promoted out of one generation (its canonical parent) whose call was
    requested by another generation follows the requester: orderAfter is the first anchor,
    as in the Go comparator. Levels of more than 12 siblings too."""
    for n in (6, 14):
        spans_ = [span("agent", "", "agent.run", start=0, end=99)]
        spans_ += [
            span(f"g{i:02d}", "agent", "generation.call", start=i * 2, end=i * 2 + 1)
            for i in range(n)
        ]
        spans_.append(
            span("t", "g01", "tool.call", start=7.5, end=8, attributes={"toolCallId": "c1"})
        )
        arts = [artifact("g04", "tool.request", 8.5, toolCallId="c1")]
        order = child_spans(node_by_span(project(graph(spans_, artifacts=arts), now=100), "agent"))
        assert order.index("t") == order.index("g04") + 1, (n, order)


def test_a_governance_span_that_passed_or_was_skipped_folds_into_a_detail():
    """§3.3: a guardrail / constraint / scoring span is a row only when it did something
    (a status other than ok/skipped, or a flag such as ``blocked``)."""
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("skip", "agent", "guardrail.check", start=1, end=2, status="skipped"),
            span("pass", "agent", "guardrail.check", start=2, end=3, status="ok"),
            span("err", "agent", "guardrail.check", start=3, end=4, status="error"),
            span("flag", "agent", "guardrail.check", start=4, end=5, attributes={"blocked": True}),
        ]
    )
    d = project(g, now=10)
    assert child_spans(node_by_span(d, "agent")) == ["err", "flag"]
    assert detail_spans(node_by_span(d, "err")) == ["skip", "pass"]  # details of the next row


def test_scores_and_confidences_are_not_summed_in_roll_ups():
    """§4: a score or a confidence (any key naming one, whatever its case) is the first
    child's, not a sum; other figures add up."""
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            *(
                span(
                    f"g{i}",
                    "agent",
                    "generation.call",
                    start=i + 1,
                    end=i + 2,
                    metrics={"score": s, "evalScore": s, "modelConfidence": s, "inputTokens": 2},
                )
                for i, s in enumerate((0.75, 0.5))
            ),
        ]
    )
    b = node_by_span(project(g, now=10), "agent").metricBuckets
    assert b.children["score"] == 0.75
    assert b.children["evalScore"] == 0.75
    assert b.children["modelConfidence"] == 0.75
    assert b.children["inputTokens"] == 4


def test_a_tool_call_leaves_a_generation_for_the_nearest_stream_or_agent_only():
    """§3.1: a tool.call under a generation moves up through generations to the nearest
    ``generation.stream``, or to the agent above them; under anything else it stays."""
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("s", "agent", "generation.stream", start=1, end=8, metrics={"x": 1}),
            span("g1", "s", "generation.call", start=1, end=4),
            span("g2", "g1", "generation.call", start=1, end=3),
            span("t1", "g2", "tool.call", start=2, end=2.5),
            span("t2", "g1", "tool.call", start=3, end=3.5),
            span("f", "agent", "flow.run", start=5, end=8),
            span("g3", "f", "generation.call", start=5, end=6),
            span("t3", "g3", "tool.call", start=5.5, end=5.8),
        ]
    )
    d = project(g, now=10)
    assert child_spans(node_by_span(d, "s")) == ["g1", "t1", "t2"]
    assert child_spans(node_by_span(d, "g3")) == ["t3"]  # a flow is no agent: it stays
    assert child_spans(node_by_span(d, "agent")) == ["s", "f"]


def test_a_flow_suspension_moves_to_the_nearest_flow_run():
    g = graph(
        [
            span("outer", "", "flow.run", start=0, end=9),
            span("inner", "outer", "flow.run", start=1, end=8),
            span("step", "inner", "flow.step", start=1, end=2),
            span("sub", "step", "custom.op", start=1, end=2),
            span("susp", "sub", "flow.suspension", start=2, end=2, status="suspended"),
            span("a", "", "agent.run", start=0, end=9),
            span("lone", "a", "flow.suspension", start=2, end=3, status="suspended"),
        ]
    )
    d = project(g, now=10)
    assert child_spans(node_by_span(d, "inner")) == ["step", "susp"]
    assert child_spans(node_by_span(d, "a")) == ["lone"]  # no flow.run above: it stays


def test_the_first_tool_request_carrying_a_call_id_owns_it():
    """§3.5 orderAfter: the generation whose ``tool.request`` artifact (attributes, else
    preview) first names the tool call's id; other artifact kinds and artifacts of no
    span name nothing."""
    spans_ = [
        span("agent", "", "agent.run", start=0, end=99),
        span("g1", "agent", "generation.call", start=1, end=2),
        span("g2", "agent", "generation.call", start=3, end=4),
        span("g3", "agent", "generation.call", start=5, end=6),
        span("t", "agent", "tool.call", start=0.5, end=1, attributes={"toolCallId": "c"}),
        span("u", "agent", "tool.call", start=0.6, end=1, attributes={"toolCallId": "d"}),
    ]
    arts = [
        artifact("g3", "output", 3.1, toolCallId="c"),
        artifact("", "tool.request", 3.2, toolCallId="c"),
        artifact("g2", "tool.request", 3.5, preview={"toolCallId": "c"}),
        artifact("g3", "tool.request", 5.5, toolCallId="c"),
        artifact("g1", "tool.request", 1.5, toolCallId="d"),
    ]
    d = project(graph(spans_, artifacts=arts), now=100)
    order = child_spans(node_by_span(d, "agent"))
    assert order.index("t") == order.index("g2") + 1
    assert order.index("u") > order.index("g1")


def test_siblings_order_by_start_time_as_time_and_unparseable_or_missing_starts_as_text():
    def sibling(sid: str, started: str) -> Any:
        return msgspec.structs.replace(
            span(sid, "agent", "generation.call", start=1, end=2), startedAt=started
        )

    for n in (0, 12):  # a small level (the Go comparator) and a large one
        filler = [sibling(f"z{i:02d}", ts(50 + i)) for i in range(n)]
        g = graph(
            [
                span("agent", "", "agent.run", start=0, end=99),
                sibling("a", "2026-05-16T18:00:02Z"),
                sibling("b", "2026-05-16T18:00:01.500Z"),
                sibling("c", "2026-05-16T20:00:01+02:00"),  # 18:00:01Z
                *filler,
            ]
        )
        order = child_spans(node_by_span(project(g, now=100), "agent"))
        assert order[:3] == ["c", "b", "a"], n
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=99),
            sibling("y", "later"),
            sibling("x", "earlier"),
            sibling("w", ""),
            sibling("v", ts(1)),
        ]
    )
    # unparseable starts compare as text; an empty start falls back to the span id
    order = child_spans(node_by_span(project(g, now=100), "agent"))
    assert order.index("x") < order.index("y")
    assert order.index("v") < order.index("w")


def test_in_a_large_level_a_span_follows_its_canonical_parent():
    spans_ = [span("agent", "", "agent.run", start=0, end=99)]
    spans_ += [
        span(f"g{i:02d}", "agent", "generation.call", start=i * 2, end=i * 2 + 1) for i in range(13)
    ]
    spans_ += [
        span("h", "agent", "handoff.prepare", start=30, end=31),
        span("r", "h", "agent.run", start=0.5, end=40),  # earlier clock, canonical child of h
    ]
    d = project(graph(spans_), now=100)
    order = child_spans(node_by_span(d, "agent"))
    assert order.index("r") == order.index("h") + 1
    assert len(order) == 15


def test_status_roll_up_precedence_ties_and_unknown_statuses():
    """§4: a node shows the highest-precedence status of itself and its children; on a tie
    it keeps its own; a status the precedence does not know ranks below all; a suspended
    flow.suspension keeps ``suspended`` whatever happened below it."""

    def rolled(own: str, *children: str, primitive: str = "flow.step") -> str:
        spans_ = [span("f", "", "flow.run", start=0, end=9)]
        spans_.append(span("p", "f", primitive, start=1, end=8, status=own))
        spans_ += [
            span(f"c{i}", "p", "tool.call", start=2 + i, end=3 + i, status=s)
            for i, s in enumerate(children)
        ]
        return node_by_span(project(graph(spans_), now=10), "p").status

    assert rolled("ok", "success") == "ok"
    assert rolled("success", "ok", "skipped") == "success"
    assert rolled("ok", "error", "blocked") == "error"
    assert rolled("whatever", "ok") == "ok"
    assert rolled("ok", "whatever") == "ok"
    assert rolled("whatever", "other") == "whatever"
    assert rolled("suspended", "error", primitive="flow.suspension") == "suspended"
    assert rolled("suspended", "error") == "error"
    assert rolled("ok", "error", primitive="flow.suspension") == "error"


def test_in_a_large_level_siblings_that_anchor_on_each_other_are_all_kept_in_time_order():
    """Two tool calls each requested by the other (an anchor cycle) cannot follow their
    anchor: in a level of more than 12 they still appear, after the others, by start time."""
    spans_ = [span("agent", "", "agent.run", start=0, end=99)]
    spans_ += [
        span(f"g{i:02d}", "agent", "generation.call", start=i * 2, end=i * 2 + 1) for i in range(12)
    ]
    spans_ += [
        span("ta", "agent", "tool.call", start=3.5, end=4, attributes={"toolCallId": "ca"}),
        span("tb", "agent", "tool.call", start=5.5, end=6, attributes={"toolCallId": "cb"}),
    ]
    arts = [
        artifact("tb", "tool.request", 6, toolCallId="ca"),  # tb asked for ta
        artifact("ta", "tool.request", 4, toolCallId="cb"),  # and ta for tb
    ]
    order = child_spans(node_by_span(project(graph(spans_, artifacts=arts), now=100), "agent"))
    assert order == [f"g{i:02d}" for i in range(12)] + ["ta", "tb"]
