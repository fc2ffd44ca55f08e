"""Display classes (presentation.md §3.3: which spans are rows and which fold into details),
node kinds, detail roles and labels (§4)."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import SpanSummary

from .builders import graph, node_by_span, project, span


def placement(*spans_: SpanSummary, of: str = "x") -> str:
    """``node`` or ``detail``: where span ``of`` lands, under an ``agent`` root."""
    g = graph([span("agent", "", "agent.run", start=0, end=9), *spans_])
    return project(g, now=10).spanIndex[of].placement


def under_agent(primitive: str, **kw: Any) -> str:
    return placement(span("x", "agent", primitive, start=1, end=2, **kw))


def test_a_display_hint_decides_and_an_unknown_one_is_ignored():
    hint = lambda value: {"presentation": {"display": value}}  # noqa: E731
    assert under_agent("tool.call", attributes=hint("detail")) == "detail"
    assert under_agent("context.resolve", attributes=hint("primary")) == "node"
    assert under_agent("tool.call", attributes=hint("metadata")) == "detail"
    assert under_agent("tool.call", attributes=hint("sideways")) == "node"


def test_a_span_without_family_or_primitive_is_a_detail():
    assert under_agent("tool.call", family="") == "detail"
    assert under_agent("", family="tool") == "detail"


def test_a_flow_suspension_is_always_a_row():
    g = [
        span("f", "agent", "flow.run", start=0, end=5),
        span("x", "f", "flow.suspension", start=1, end=2, family="context", status="suspended"),
    ]
    assert placement(*g) == "node"


def test_a_retrieval_stage_folds_only_when_it_went_ok():
    assert under_agent("retrieval.stage") == "detail"
    assert under_agent("retrieval.stage", status="error") == "node"


def test_embeddings_and_memory_fold_under_retrieval_memory_or_a_generation():
    def below(parent: str, primitive: str) -> str:
        return placement(
            span("p", "agent", parent, start=1, end=5), span("x", "p", primitive, start=2, end=3)
        )

    for primitive in ("embedding.create", "memory.read"):
        assert under_agent(primitive) == "node", primitive
        for parent in ("retrieval.search", "memory.read", "generation.call", "context.resolve"):
            assert below(parent, primitive) == "detail", (parent, primitive)
        assert below("tool.call", primitive) == "node", primitive
    assert below("retrieval.search", "retrieval.search") == "detail"
    assert below("generation.call", "retrieval.search") == "detail"
    assert below("prompt.resolve", "retrieval.search") == "detail"
    assert below("memory.read", "retrieval.search") == "node"  # memory is no retrieval
    assert under_agent("retrieval.search") == "node"


def test_an_operation_boundary_ends_a_generations_fold():
    """A retrieval inside a flow inside a generation is a row: the flow is an operation."""
    g = [
        span("g", "agent", "generation.call", start=1, end=8),
        span("f", "g", "flow.run", start=2, end=7),
        span("x", "f", "retrieval.search", start=3, end=4),
        span("y", "f", "flow.step", start=3, end=4),
        span("z", "y", "retrieval.search", start=3, end=4),
    ]
    assert placement(*g) == "node"
    assert placement(*g, of="z") == "node"  # a step is no generation: the flow's rule holds


def test_quiet_governance_folds_unless_it_acted():
    for family in ("constraint", "guardrail", "citation", "scoring", "security"):
        assert under_agent(f"{family}.check") == "detail", family
        assert under_agent(f"{family}.check", status="skipped") == "detail", family
        assert under_agent(f"{family}.check", status="error") == "node", family
    assert under_agent("constraint.retry") == "node"
    for flag in (
        "blocked",
        "retried",
        "transformed",
        "redacted",
        "rerouted",
        "changedModel",
        "changedTool",
        "remediation",
    ):
        for value in (True, 1, 0.5, "yes", ["a"], {"a": 1}):
            assert under_agent("guardrail.check", attributes={flag: value}) == "node", flag
        for value in (False, 0, 0.0, "", [], {}, None):
            assert under_agent("guardrail.check", attributes={flag: value}) == "detail", flag


def test_context_prompt_routing_cache_and_cost_are_details_by_primitive_or_family():
    for primitive in (
        "context.resolve",
        "context.predicate",
        "context.cache",
        "prompt.resolve",
        "prompt.budget",
        "routing.router",
        "routing.cascade",
        "cache.lookup",
        "cost.record",
    ):
        assert under_agent(primitive, family="custom") == "detail", primitive
    for family in ("context", "prompt", "routing", "cache", "cost"):
        assert under_agent("custom.thing", family=family) == "detail", family
    assert under_agent("custom.thing", family="custom") == "node"


def stream_with(*children: SpanSummary, **stream_kw: Any) -> str:
    return placement(
        span("x", "agent", "generation.stream", start=1, end=8, **stream_kw), *children
    )


def test_a_convex_agent_stream_around_one_step_folds_into_a_detail():
    def step(sid: str = "s", **kw: Any) -> SpanSummary:
        kw.setdefault("name", "call")
        return span(sid, "x", "generation.call", start=2, end=3, **kw)

    assert stream_with(step(attributes={"source": "convex.agent.step"})) == "detail"
    assert stream_with(step(attributes={"stepNumber": 0})) == "detail"
    assert stream_with(step(name="Step 2")) == "detail"
    assert stream_with(step(name="agent_step_3")) == "detail"
    assert stream_with(step(name="step-4")) == "detail"
    assert stream_with(step()) == "node"  # not a step
    assert stream_with(step(attributes={"stepNumber": "1"})) == "node"
    assert stream_with(step(attributes={"source": "other"})) == "node"
    assert stream_with(step(name="step-1"), metrics={"inputTokens": 1}) == "node"
    assert stream_with(step("a", name="step-1"), step("b", name="step-2")) == "node"
    assert stream_with(span("s", "x", "tool.call", start=2, end=3, name="step-1")) == "node"


def test_only_a_generation_stream_folds_around_one_convex_agent_step():
    """§3.3 tail: the redundant-wrapper fold is for a primary `generation.stream`; any other
    primary span around a single Convex-Agent step stays a row."""
    step = span("s", "x", "generation.call", start=2, end=3, name="step-1")
    for primitive in ("generation.call", "tool.call", "flow.step"):
        wrapper = span("x", "agent", primitive, start=1, end=8)
        assert placement(wrapper, step) == "node", primitive


def test_node_kinds():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("f", "agent", "flow.run", start=1, end=8),
            span("st", "f", "flow.step", start=1, end=2),
            span("su", "f", "flow.suspension", start=2, end=3, status="suspended"),
            span("h", "agent", "handoff.prepare", start=3, end=4),
            span("dl", "agent", "delegate.invoke", start=4, end=5),
            span("op", "agent", "custom.op", start=5, end=6),
            span("mem", "agent", "memory.write", start=6, end=7),
            span(
                "cx",
                "agent",
                "context.resolve",
                start=6,
                end=7,
                attributes={"presentation": {"display": "primary"}},
            ),
        ]
    )
    d = project(g, now=10)
    kinds = {
        sid: node_by_span(d, sid).kind
        for sid in ("agent", "f", "st", "su", "h", "dl", "op", "mem", "cx")
    }
    assert kinds == {
        "agent": "agent",
        "f": "flow",
        "st": "step",
        "su": "suspension",
        "h": "transition",
        "dl": "transition",
        "op": "operation",
        "mem": "memory",
        "cx": "detail",
    }


def test_a_transition_by_primitive_alone_flattens_its_children():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("h", "agent", "handoff.prepare", start=1, end=2, family="custom"),
            span("a", "h", "agent.run", start=2, end=3),
            span("dl", "agent", "delegate.invoke", start=4, end=5, family="custom"),
            span("b", "dl", "agent.run", start=5, end=6),
        ]
    )
    d = project(g, now=10)
    assert [c.spanId for c in node_by_span(d, "agent").children] == ["h", "a", "dl", "b"]


def detail_of(d: Any, sid: str) -> Any:
    owner = d.spanIndex[sid].ownerNodeId
    stack = [d.root]
    while stack:
        node = stack.pop()
        if node.id == owner:
            return next(x for x in node.details if x.spanId == sid)
        stack.extend(node.children or [])
    raise KeyError(sid)


def test_detail_roles():
    roles = {
        "prompt.resolve": "input",
        "context.resolve": "input",
        "memory.read": "input",
        "retrieval.search": "input",
        "routing.router": "decision",
        "cost.record": "accounting",
        "constraint.check": "guard",
        "guardrail.check": "guard",
        "security.check": "guard",
        "scoring.check": "",
    }
    spans_ = [span("agent", "", "agent.run", start=0, end=9)]
    spans_ += [
        span(
            f"x{i}",
            "agent",
            primitive,
            start=1,
            end=2,
            attributes={"presentation": {"display": "detail"}},
        )
        for i, primitive in enumerate(roles)
    ]
    spans_.append(span("row", "agent", "tool.call", start=3, end=4))
    d = project(graph(spans_), now=10)
    got = {primitive: detail_of(d, f"x{i}").role for i, primitive in enumerate(roles)}
    assert got == roles


def test_labels_a_hint_then_the_first_named_field():
    def label(**kw: Any) -> str:
        g = graph(
            [
                span("agent", "", "agent.run", start=0, end=9),
                span("x", "agent", start=1, end=2, **kw),
            ]
        )
        return node_by_span(project(g, now=10), "x").display.label

    hint = {"presentation": {"label": "Nice"}}
    assert label(attributes=hint, toolName="t") == "Nice"
    assert label(toolName="t", agentId="a", name="n") == "t"
    assert label(agentId="a", flowId="f", name="n") == "a"
    assert label(flowId="f", stepId="s") == "f"
    assert label(stepId="s", promptId="p") == "s"
    assert label(promptId="p", contextId="c") == "p"
    assert label(contextId="c", memoryId="m") == "c"
    assert label(memoryId="m", retrieverId="r") == "m"
    assert label(retrieverId="r", name="n") == "r"
    assert label(name="n") == "n"
    assert label(name="") == "custom.operation"
    # a hint that only repeats the model is no label, except on a generation
    model_hint = {"presentation": {"label": "gpt-x"}}
    assert label(attributes=model_hint, model="gpt-x", name="n") == "n"
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span(
                "g",
                "agent",
                "generation.call",
                start=1,
                end=2,
                model="gpt-x",
                name="n",
                attributes=model_hint,
            ),
        ]
    )
    assert node_by_span(project(g, now=10), "g").display.label == "gpt-x"
