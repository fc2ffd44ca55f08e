"""The sanitised working copy of a hostile graph (index.py): wrong-typed fields normalised."""

from __future__ import annotations

from crux_tui.contract.models import ArtifactSummary, SpanEventSummary, SpanSummary

from .builders import graph, node_by_span, project, span


def test_a_number_where_text_belongs_is_read_as_its_text_and_nothing_as_empty():
    g = graph(
        [
            span("a", "", "agent.run", start=0, end=1),
            SpanSummary(spanId=7, parentSpanId="a", name=42, model=None),  # type: ignore[arg-type]
        ]
    )
    d = project(g, now=2)
    seven = d.spanIndex["7"]  # the span id 7 is the span "7"
    assert seven.placement == "detail" and seven.ownerNodeId == node_by_span(d, "a").id
    detail = node_by_span(d, "a").details or []
    assert [(x.spanId, x.name, x.label, x.model) for x in detail] == [("7", "42", "42", "")]


def test_attributes_and_metrics_that_are_not_objects_are_dropped_and_a_bad_duration_is_zero():
    g = graph(
        [
            span(
                "a",
                "",
                "agent.run",
                start=0,
                end=1,
                attributes=[1, 2],  # type: ignore[arg-type]
                metrics="x",  # type: ignore[arg-type]
            ),
            span(
                "b",
                "a",
                "tool.call",
                start=0,
                end=1,
                attributes={"kept": True},
                metrics={"costUsd": 0.5},
            ),
        ]
    )
    g.spans[1].durationMs = float("nan")
    d = project(g, now=2)
    a, b = node_by_span(d, "a"), node_by_span(d, "b")
    assert (a.attributes, a.metrics) == (None, None)
    assert (b.attributes, b.metrics) == ({"kept": True}, {"costUsd": 0.5})
    assert b.durationMs == 0


def test_a_graph_without_a_run_or_with_unusable_span_ids_on_events_still_projects():
    """Hostile input never raises: a missing run reads as an empty one; an event or artifact
    whose span id is not text belongs to no span."""
    g = graph([span("a", "", "agent.run", start=0, end=1)])
    g.run = None  # type: ignore[assignment]
    g.events = [SpanEventSummary(eventId="e", spanId=["a"], name="x")]  # type: ignore[arg-type]
    g.artifacts = [ArtifactSummary(artifactId="r", spanId=["a"], kind="output")]  # type: ignore[arg-type]
    d = project(g, now=2)
    a = node_by_span(d, "a")
    assert d.run.runId == "" and (a.events, a.artifacts) == (None, None)
