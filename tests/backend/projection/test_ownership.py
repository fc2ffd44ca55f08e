"""Semantic detail ownership (§4): only a visible node other than the detail itself can own
it; anything else leaves the detail where chronology put it."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import EdgeSummary, RunDetail

from .builders import detail_spans, edge, graph, node_by_span, project, span


def _project(p1_attrs: dict[str, Any] | None = None, edges: list[EdgeSummary] = ()) -> RunDetail:  # type: ignore[assignment]
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("p1", "agent", "prompt.resolve", start=0.1, end=0.2, attributes=p1_attrs),
            span("p2", "agent", "context.resolve", start=0.2, end=0.3),
            span("g1", "agent", "generation.call", start=1, end=2),
            span("g2", "agent", "generation.call", start=3, end=4),
        ],
        edges=list(edges),
    )
    return project(g, now=10)


def _by_chronology(d: RunDetail) -> None:
    assert detail_spans(node_by_span(d, "g1")) == ["p1", "p2"]
    assert detail_spans(node_by_span(d, "g2")) == []
    assert (d.spanIndex["p1"].reason, d.spanIndex["p2"].reason) == ("chronology", "chronology")


def test_an_owner_hint_that_names_no_visible_node_is_ignored():
    for owner in ("missing", "p1", "p2"):  # no such span, the detail itself, another detail
        _by_chronology(_project({"presentation": {"ownerSpanId": owner}}))
    moved = _project({"presentation": {"ownerSpanId": "g2"}})
    assert detail_spans(node_by_span(moved, "g2")) == ["p1"]


def test_an_explains_edge_between_two_details_moves_neither():
    _by_chronology(_project(edges=[edge("explains", "p1", "p2")]))
    _by_chronology(_project(edges=[edge("explains", "p2", "p1")]))


def test_an_explains_edge_names_spans_only_through_span_endpoints():
    """An artifact endpoint whose id is also a span's id is not that span; edges of other
    types and such edges are passed over, the explains edges after them still count."""
    _by_chronology(_project(edges=[edge("explains", "g2", "p1", src_kind="artifact")]))
    moved = _project(
        edges=[
            edge("caused", "p1", "g2"),
            edge("explains", "g2", "p1", src_kind="artifact"),
            edge("explains", "g2", "p2"),  # the reverse direction, span->span
        ]
    )
    assert detail_spans(node_by_span(moved, "g1")) == ["p1"]
    assert detail_spans(node_by_span(moved, "g2")) == ["p2"]
    assert moved.spanIndex["p2"].reason == "explains-edge"
