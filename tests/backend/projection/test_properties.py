"""Property test: random (hostile) graphs always project to a consistent RunDetail."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crux_tui.contract.models import EdgeEndpoint, EdgeSummary, SpanEventSummary, SpanSummary

from .builders import graph, project, ts, walk

PRIMS = [
    "agent.run",
    "generation.call",
    "generation.stream",
    "tool.call",
    "prompt.resolve",
    "context.resolve",
    "routing.router",
    "memory.read",
    "flow.run",
    "flow.step",
    "flow.suspension",
    "handoff.prepare",
    "delegate.invoke",
    "runtime.convex.action",
    "retrieval.stage",
    "guardrail.run",
    "",
    "custom.operation",
]
STATUSES = ["running", "ok", "error", "suspended", "cancelled", "skipped", "blocked", ""]


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 25))
    ids = [f"s{i}" for i in range(n)]
    spans = []
    for sid in ids:
        prim = draw(st.sampled_from(PRIMS))
        parent = draw(st.sampled_from(["", "ghost", *ids]))
        start = draw(st.one_of(st.none(), st.floats(0, 200)))
        end = draw(st.one_of(st.none(), st.floats(0, 300)))
        attrs = draw(
            st.sampled_from(
                [
                    None,
                    {"presentation": {"display": "detail"}},
                    {"timeoutMs": 1000},
                    {"deadlineAt": ts(50)},
                    {"toolCallId": "c1"},
                    {"presentation": {"ownerSpanId": "s0"}},
                ]
            )
        )
        spans.append(
            SpanSummary(
                spanId=draw(st.sampled_from([sid, sid, sid, "s0"])),  # some duplicates
                parentSpanId=parent,
                family=prim.split(".")[0] if prim else "",
                primitive=prim,
                status=draw(st.sampled_from(STATUSES)),
                startedAt="" if start is None else ts(start),
                endedAt="" if end is None else ts(end),
                attributes=attrs,
            )
        )
    events = [
        SpanEventSummary(
            spanId=draw(st.sampled_from(ids)),
            name=name,
            timestamp=ts(draw(st.floats(0, 200))),
            attributes={"leaseExpiresAt": ts(90), "deadlineAt": ts(30)},
        )
        for name in draw(
            st.lists(
                st.sampled_from(
                    [
                        "runtime.convex.boundary.requested",
                        "runtime.convex.boundary.completed",
                        "operation.deadline",
                        "usage.observed",
                    ]
                ),
                max_size=5,
            )
        )
    ]
    edges = [
        EdgeSummary(
            edgeType="explains",
            from_=EdgeEndpoint(kind="span", id=a),
            to=EdgeEndpoint(kind="span", id=b),
        )
        for a, b in draw(
            st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=3)
        )
    ]
    return graph(
        spans,
        events=events,
        edges=edges,
        name=draw(st.sampled_from(["run", "s0"])),
        root_primitive=draw(st.sampled_from(["", "agent.run"])),
    ), {s.spanId for s in spans}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.floats(0, 400))
def test_random_graphs_project_consistently(data, now):
    g, span_ids = data
    d = project(g, now=now)
    assert set(d.spanIndex) == span_ids  # every span indexed
    seen: set[int] = set()
    preorder = []
    for node in walk(d.root):  # acyclic: each node object visited once
        assert id(node) not in seen
        seen.add(id(node))
        preorder.append(node.id)
    assert [r.nodeId for r in d.rows] == preorder
    assert len(set(preorder)) == len(preorder)
    node_ids = set(preorder)
    for sid, placement in d.spanIndex.items():
        if placement.placement == "node":
            assert placement.nodeId in node_ids
        else:
            assert placement.ownerNodeId in node_ids
            assert placement.path[-1] == f"detail:{sid}"
    for row in d.rows[1:]:
        assert row.path[-2] == row.parentId
