"""Inspection sections (§4): events, relations and diagnostics are listed by id and label."""

from __future__ import annotations

from .builders import artifact, edge, event, graph, node_by_span, project, span


def test_events_relations_and_diagnostics_are_listed_in_their_sections():
    g = graph(
        [
            span("a", "", "agent.run", start=0),
            span("t", "a", "tool.call", start=0),  # left open: stale, missing its end
        ],
        events=[event("t", "retry.scheduled", 0.5), event("t", "usage.observed", 0.2)],
        edges=[edge("caused", "a", "t")],
    )
    t = node_by_span(project(g, now=61), "t")
    assert t.status == "stale"
    inspection = t.inspection or {}
    assert inspection["events"] == [
        {"type": "event", "id": e.eventId, "label": e.name} for e in t.events or ()
    ]
    assert [i["label"] for i in inspection["events"]] == ["usage.observed", "retry.scheduled"]
    assert inspection["relations"] == [{"type": "relation", "id": "edge_a_t", "label": "caused"}]
    assert inspection["diagnostics"] == [
        {"type": "diagnostic", "id": "diagnostic:missing-span-end:t", "label": "missing-span-end"}
    ]
    assert list(inspection) == ["events", "relations", "diagnostics", "raw"]  # §4 order


def test_only_a_tool_call_pulls_in_the_tool_requests_carrying_its_call_id():
    """§4 `tools`: a tool.call lists the run's tool.request artifacts with its call id; a span
    of another primitive carrying the same call id does not."""
    call = {"toolCallId": "call_1"}
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("gen", "agent", "generation.call", start=1, end=2),
            span("tool", "agent", "tool.call", start=3, end=4, attributes=call),
            span("other", "agent", "custom.operation", start=5, end=6, attributes=call),
        ],
        artifacts=[artifact("gen", "tool.request", 1.5, preview=call)],
    )
    d = project(g, now=10)
    tools = (node_by_span(d, "tool").inspection or {})["tools"]
    assert [(i["kind"], i.get("sourceSpanId")) for i in tools] == [("tool.request", "gen")]
    assert "tools" not in (node_by_span(d, "other").inspection or {})
