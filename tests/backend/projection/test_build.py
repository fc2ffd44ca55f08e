"""The run's root node (§4 *Root*, build.py): a virtual run root stands for the run itself."""

from __future__ import annotations

from .builders import artifact, diag_codes, graph, node_by_span, project, span, ts


def test_a_virtual_run_root_carries_the_runs_own_fields_and_diagnostics():
    """Two top-level spans: no span is the root, the run is (its model, provider, prompt and
    its own diagnostics, as the run has them)."""
    g = graph(
        [span("t1", "", "tool.call", start=0), span("t2", "", "tool.call", start=1)],
        name="two tools",
        model="m-1",
        provider="acme",
        promptId="prompt.support",
        attributes={"crux.app": "support-bot"},
    )
    d = project(g, now=100)  # nothing protected: the run went stale
    root = d.root
    assert (root.attributes or {}).get("crux.app") == "support-bot"  # the run's own attributes
    assert root.virtual and root.id == "run:run_1" and root.kind == "run"
    assert (root.display.kind, root.display.label) == ("run", "two tools")
    assert (root.name, root.model, root.provider) == ("two tools", "m-1", "acme")
    assert root.promptId == "prompt.support"
    assert (root.status, d.run.status) == ("incomplete", "incomplete")
    assert diag_codes(root.diagnostics) == ["stale-boundary"]
    # the tree's top: no parent, its own path; its children under it, one level down
    assert (root.parentId, root.path) == ("", ["run:run_1"])
    assert [(r.nodeId, r.parentId, r.depth) for r in d.rows or ()] == [
        ("run:run_1", "", 0),
        ("span:t1", "run:run_1", 1),
        ("span:t2", "run:run_1", 1),
    ]
    nodes = {n.id: n for n in (root, *(root.children or ()))}
    for row in d.rows or ():  # a row shows its node as the node is
        node = nodes[row.nodeId]
        assert (row.spanId, row.display, row.timing) == (node.spanId, node.display, node.timing)
        assert (row.status, row.path, row.hasChildren) == (
            node.status,
            node.path,
            bool(node.children),
        )


def test_a_nodes_timing_is_its_own_start_end_and_duration_split_into_self_children_details():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("gen", "agent", "generation.call", start=1, end=3),
            span("p", "gen", "prompt.resolve", start=1, end=1.5),  # a detail of gen
            span("tool", "agent", "tool.call", start=4, end=8),
        ],
        status="ok",
        end=9,
    )
    d = project(g, now=10)
    agent, gen, tool = (node_by_span(d, s) for s in ("agent", "gen", "tool"))
    assert (agent.timing.startedAt, agent.timing.endedAt) == (ts(0), ts(9))
    assert (agent.timing.durationMs, agent.timing.childrenMs, agent.timing.selfMs) == (
        9000,
        6000,
        3000,
    )
    assert agent.timing.detailsMs is None  # no details
    assert (gen.timing.endedAt, gen.timing.detailsMs, gen.timing.selfMs) == (ts(3), 500, 2000)
    assert (tool.timing.startedAt, tool.timing.endedAt, tool.timing.childrenMs) == (ts(4), ts(8), 0)


def test_a_tool_call_shown_as_a_detail_still_lists_the_request_that_asked_for_it():
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("gen", "agent", "generation.call", start=1, end=2),
            span(
                "tool",
                "agent",
                "tool.call",
                start=3,
                end=4,
                attributes={"toolCallId": "call_1", "presentation": {"display": "detail"}},
            ),
            span("after", "agent", "generation.call", start=5, end=6),
        ],
        artifacts=[artifact("gen", "tool.request", 1.5, preview={"toolCallId": "call_1"})],
    )
    d = project(g, now=10)
    tool = next(x for x in node_by_span(d, "after").details or () if x.spanId == "tool")
    tools = (tool.inspection or {})["tools"]
    assert [(i["kind"], i.get("sourceSpanId")) for i in tools] == [("tool.request", "gen")]


def test_every_node_is_placed_as_primary_the_virtual_run_root_included():
    """presentation.md §4 *Node*: a node's ``source.placementReason`` is ``"primary"``; a
    virtual run root is a node like any other (no canonical parent)."""
    g = graph([span("t1", "", "tool.call", start=0), span("t2", "", "tool.call", start=1)])
    d = project(g, now=100)
    assert d.root.virtual
    for node in (d.root, *(d.root.children or ())):
        assert node.source is not None and node.source.placementReason == "primary", node.id
    assert d.root.source is not None and d.root.source.canonicalParentSpanId == ""


def test_a_nodes_self_time_is_never_negative_and_zero_when_its_children_cover_it():
    """presentation.md §4 timing: ``selfMs = durationMs - childrenMs``, floored at 0: a node
    whose children fill (or, overlapping, exceed) its duration has no self time."""
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=4),
            span("t1", "agent", "tool.call", start=0, end=3),
            span("t2", "agent", "tool.call", start=1, end=4),
            span("flow", "", "flow.run", start=5, end=7),
            span("t3", "flow", "tool.call", start=5, end=7),
        ],
        status="ok",
        end=7,
    )
    d = project(g, now=10)
    agent, flow = node_by_span(d, "agent"), node_by_span(d, "flow")
    assert (agent.timing.durationMs, agent.timing.childrenMs, agent.timing.selfMs) == (
        4000,
        6000,
        0,
    )
    assert (flow.timing.durationMs, flow.timing.childrenMs, flow.timing.selfMs) == (2000, 2000, 0)
