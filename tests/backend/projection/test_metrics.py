"""Metric roll-ups (presentation.md §4): what a span's own figures are (aliases, usage
events, artifact previews, total tokens, a bound on keys) and how figures add up the tree."""

from __future__ import annotations

from typing import Any

from .builders import artifact, event, graph, node_by_span, project, span


def own(metrics: Any = None, events: list = (), artifacts: list = ()) -> dict[str, float]:  # type: ignore[assignment]
    """The own bucket of one generation span under an agent."""
    g = graph(
        [
            span("agent", "", "agent.run", start=0, end=9),
            span("g", "agent", "generation.call", start=1, end=2, metrics=metrics),
        ],
        events=list(events),
        artifacts=list(artifacts),
    )
    buckets = node_by_span(project(g, now=10), "g").metricBuckets
    return dict((buckets.own if buckets else None) or {})


def test_aliases_map_to_the_canonical_key_which_wins_unless_zero():
    assert own({"cost": 0.5}) == {"costUsd": 0.5}
    assert own({"totalCost": 0.3, "costUsd": 0.2}) == {"costUsd": 0.2}
    assert own({"costUsd": 0, "cost": 0.4}) == {"costUsd": 0.4}
    assert own({"cost": 1, "totalCost": 2}) == {"costUsd": 1}  # the first alias
    assert own({"cachedInputTokens": 7}) == {"cacheReadTokens": 7}


def test_only_numbers_count():
    assert own({"a": 1, "b": "2", "c": True, "d": None, "e": 2.5, "f": float("nan")}) == {
        "a": 1,
        "e": 2.5,
    }


def test_at_most_64_keys_are_taken_from_one_metrics_object():
    metrics = {f"k{i:02d}": i for i in range(70)}
    taken = own(metrics)
    assert list(taken) == [f"k{i:02d}" for i in range(64)]
    aliased = {**{f"k{i:02d}": i for i in range(63)}, "cost": 1.0, "z": 9}
    assert sorted(own(aliased)) == sorted([f"k{i:02d}" for i in range(63)] + ["costUsd"])


def test_usage_events_fill_what_the_span_lacks_and_total_tokens_follow():
    usage = event("g", "usage.observed", 1.5, inputTokens=5, outputTokens=2, costUsd=0.1)
    other = event("g", "generation.finished", 1.6, reasoningTokens=9)
    assert own({"inputTokens": 0, "costUsd": 0.3}, events=[usage, other]) == {
        "inputTokens": 5,
        "outputTokens": 2,
        "costUsd": 0.3,
        "totalTokens": 7,
    }


def test_artifact_previews_fill_from_usage_metrics_streaming_and_meta_only():
    preview = {
        "usage": {"outputTokens": 3},
        "metrics": {"y": 2},
        "streaming": {"ttftMs": 40},
        "meta": {"x": 1},
        "other": {"z": 3},
    }
    assert own({}, artifacts=[artifact("g", "output", 1.5, preview=preview)]) == {
        "outputTokens": 3,
        "totalTokens": 3,
        "y": 2,
        "ttftMs": 40,
        "x": 1,
    }
    assert own({}, artifacts=[artifact("g", "output", 1.5, preview="text")]) == {}


def test_total_tokens_is_at_least_input_plus_output():
    assert own({"inputTokens": 2, "outputTokens": 3, "totalTokens": 4})["totalTokens"] == 5
    assert own({"inputTokens": 2, "outputTokens": 3, "totalTokens": 9})["totalTokens"] == 9
    assert own({"outputTokens": 3})["totalTokens"] == 3
    assert own({"inputTokens": 1})["totalTokens"] == 1
    assert own({"inputTokens": 0}) == {"inputTokens": 0}  # no tokens: no total
    assert "totalTokens" not in own({"costUsd": 1})


def children_of(*metrics: dict[str, float]) -> dict[str, float]:
    spans_ = [span("agent", "", "agent.run", start=0, end=9)]
    spans_ += [
        span(f"g{i}", "agent", "generation.call", start=i + 1, end=i + 2, metrics=m)
        for i, m in enumerate(metrics)
    ]
    return dict(node_by_span(project(graph(spans_), now=10), "agent").metricBuckets.children)


def test_roll_up_sums_keeps_the_first_rate_and_the_smallest_positive_time_to_first_token():
    got = children_of(
        {"ttftMs": 0, "tokensPerSecond": 30, "costUsd": 1},
        {"ttftMs": 30, "tokensPerSecond": 50, "costUsd": 2},
        {"ttftMs": 20, "costUsd": 3},
        {"ttftMs": 0},
        {"ttftMs": 25},
        {"ttftMs": -5},
    )
    assert got == {"ttftMs": 20, "tokensPerSecond": 30, "costUsd": 6}
    # sub-millisecond times too: the smallest positive one
    assert children_of({"ttftMs": 0.5}, {"ttftMs": 0.8})["ttftMs"] == 0.5


def test_a_run_with_several_roots_totals_them_and_fills_gaps_from_the_run_metrics():
    g = graph(
        [
            span("a", "", "agent.run", start=0, end=1, metrics={"costUsd": 1}),
            span("b", "", "agent.run", start=1, end=2, metrics={"costUsd": 2}),
        ],
        metrics={"costUsd": 99, "inputTokens": 4},
    )
    d = project(g, now=3)
    assert d.root.virtual
    b = d.root.metricBuckets
    assert b.own is None
    assert b.children == {"costUsd": 3}
    assert b.total == {"costUsd": 3, "inputTokens": 4}


def test_a_span_without_figures_has_no_buckets():
    g = graph([span("a", "", "agent.run", start=0, end=1)])
    assert node_by_span(project(g, now=2), "a").metricBuckets is None
