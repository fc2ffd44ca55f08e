"""Events, artifacts and relations per span (§1 step 8), from records through the real store."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from records import RunBuilder

from crux_tui.backend.projection import project_run_detail
from crux_tui.backend.store import Store
from crux_tui.contract.models import RunDetail

from .builders import artifact, edge, event, graph, node_by_span, project, span

NOW = datetime(2026, 5, 16, 18, 0, 2, tzinfo=UTC)


def _detail(run: RunBuilder, records: list[dict]) -> RunDetail:
    store = Store(":memory:")
    store.ingest_batch(records)
    graph = store.graph(run.run_id, include_records=False)
    assert graph is not None
    return project_run_detail(graph, NOW)


def test_a_spans_events_are_in_time_order_then_by_event_id_whatever_the_arrival_order():
    run = RunBuilder("events")
    records = [
        run.run_start(),
        run.span("agent", "agent.run", at=1, end=900),
        run.event("agent", "step.late", at=300, event_id="ev_a"),
        run.event("agent", "step.tie_b", at=200, event_id="ev_b"),
        run.event("agent", "step.tie_a", at=200, event_id="ev_a2"),
        run.event("agent", "token.chunk", at=150),  # never a span's event
        run.event("agent", "step.early", at=100, event_id="ev_z"),
        run.run_end(),
    ]
    agent = node_by_span(_detail(run, records), "agent")
    assert [e.name for e in agent.events or ()] == [
        "step.early",
        "step.tie_a",
        "step.tie_b",
        "step.late",
    ]


def test_a_spans_relations_are_in_creation_order_then_by_edge_id_whatever_the_arrival_order():
    run = RunBuilder("edges")
    records = [
        run.run_start(),
        run.span("agent", "agent.run", at=1, end=900),
        run.span("a", "tool.call", parent="agent", at=10, end=20),
        run.span("b", "tool.call", parent="agent", at=30, end=40),
        {**run.edge("a", "agent", "caused", at=700), "edgeId": "edge_0"},
        {**run.edge("b", "agent", "caused", at=600), "edgeId": "edge_2"},  # a tie on time:
        {**run.edge("agent", "a", "explains", at=600), "edgeId": "edge_1"},  # by id
        run.run_end(),
    ]
    edges = {r["edgeId"]: r for r in records if r["type"] == "edge"}
    agent = node_by_span(_detail(run, records), "agent")
    got = [(e.createdAt, e.edgeId) for e in agent.relations or ()]
    assert got == sorted((e["createdAt"], e["edgeId"]) for e in edges.values())
    assert [edge_id for _, edge_id in got] == ["edge_1", "edge_2", "edge_0"]


def test_token_chunks_are_never_a_spans_events_even_in_a_graph_that_carries_them():
    """The store serves token chunks apart; a graph holding some still shows none as events."""
    g = graph(
        [span("gen", "", "generation.call", start=0, end=1)],
        events=[event("gen", "token.chunk", 0.2), event("gen", "usage.observed", 0.5)],
    )
    assert [e.name for e in node_by_span(project(g), "gen").events or ()] == ["usage.observed"]


def test_a_span_that_consumed_context_also_carries_that_context_artifact():
    """A ``consumed`` edge from a context artifact to a span attaches the artifact to the
    consumer too (once), after its own artifacts; other artifacts and edges attach nothing."""
    run = RunBuilder("consumed")
    ctx_art = run.artifact("ctx", kind="context", preview="facts")
    other_art = run.artifact("ctx", kind="output", preview="not context")
    cited_art = run.artifact("ctx", kind="context.contribution", preview="only cited")
    own_art = run.artifact("gen", kind="output", preview="answer")

    def consumed(art: dict, edge_type: str = "consumed") -> dict:
        return {
            **run.edge("ctx", "gen", edge_type),
            "from": {"kind": "artifact", "id": art["artifactId"]},
        }

    records = [
        run.run_start(),
        run.span("agent", "agent.run", at=1, end=900),
        run.span("ctx", "context.resolve", parent="agent", at=10, end=20),
        run.span("gen", "generation.call", parent="agent", at=30, end=40),
        ctx_art,
        other_art,
        cited_art,
        own_art,
        consumed(ctx_art),
        consumed(ctx_art),  # twice: still attached once
        consumed(other_art),
        consumed(cited_art, "caused"),  # not consumed
        run.run_end(),
    ]
    gen = node_by_span(_detail(run, records), "gen")
    assert [a.artifactId for a in gen.artifacts or ()] == [
        own_art["artifactId"],
        ctx_art["artifactId"],
    ]


def test_an_event_without_a_timestamp_comes_first():
    """Events sort by timestamp text; a missing (non-text) timestamp is the empty text."""
    late = event("gen", "usage.observed", 0.5)
    stamped = event("gen", "retry.scheduled", 0.2)
    bare = msgspec.structs.replace(event("gen", "cache.hit", 0.9), timestamp=None)
    g = graph([span("gen", "", "generation.call", start=0, end=1)], events=[late, stamped, bare])
    names = [e.name for e in node_by_span(project(g), "gen").events or ()]
    assert names == ["cache.hit", "retry.scheduled", "usage.observed"]


def test_a_consumed_context_attaches_to_a_span_without_artifacts_and_names_no_span_by_its_id():
    """The consumer need not have artifacts of its own; the artifact end of the edge is an
    artifact even when its id is also a span's id: only the consuming span lists the edge."""
    ctx = artifact("ctx", "context", 0.5, preview="facts")
    ctx.artifactId = "ctx"  # the same id as the span that made it
    consumed = edge("consumed", "ctx", "gen", src_kind="artifact")
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("ctx", "agent", "tool.call", start=0.1, end=0.9),
            span("gen", "agent", "generation.call", start=1, end=2),
        ],
        artifacts=[ctx],
        edges=[consumed],
    )
    d = project(g, now=10)
    gen, ctx_node = node_by_span(d, "gen"), node_by_span(d, "ctx")
    assert [a.artifactId for a in gen.artifacts or ()] == ["ctx"]
    assert [e.edgeId for e in gen.relations or ()] == [consumed.edgeId]
    assert ctx_node.relations is None or ctx_node.relations == []
