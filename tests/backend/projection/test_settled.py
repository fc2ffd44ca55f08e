"""``clock_independent``: a settled run projects the same at any later moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from records import RunBuilder

from crux_tui.backend.projection import clock_independent, project_run_detail
from crux_tui.backend.store import Store
from crux_tui.demo import build_demo_records

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _graphs() -> dict[str, object]:
    store = Store(":memory:")
    records = build_demo_records(now=NOW)
    store.ingest_batch(records)
    run_ids = list(dict.fromkeys(r["runId"] for r in records))
    return {run_id: store.graph(run_id, include_records=False) for run_id in run_ids}


def test_settled_runs_do_not_move_with_the_clock() -> None:
    graphs = _graphs()
    settled = {run_id for run_id, graph in graphs.items() if clock_independent(graph)}
    # The demo holds both kinds: finished runs, and runs left open (lease, deadline, lost end).
    assert settled and settled != set(graphs)
    for run_id in settled:
        graph = graphs[run_id]
        early = project_run_detail(graph, NOW + timedelta(seconds=1))
        late = project_run_detail(graph, NOW + timedelta(days=30))
        assert early == late, run_id


def test_open_runs_are_not_settled_and_do_move() -> None:
    run = RunBuilder("open")
    store = Store(":memory:")
    store.ingest_batch([run.run_start(), run.span_start("agent", "agent.run", name="agent")])
    graph = store.graph("open", include_records=False)
    assert not clock_independent(graph)
    start = datetime(2026, 5, 16, 18, 0, 5, tzinfo=UTC)
    early = project_run_detail(graph, start)
    late = project_run_detail(graph, start + timedelta(minutes=5))
    assert early.run.status == "running" and late.run.status != "running"


def test_an_ended_run_with_a_span_left_open_is_not_settled() -> None:
    """The run's end is not enough: one span without an end keeps the clock in the projection."""
    run = RunBuilder("ended-open-span")
    store = Store(":memory:")
    store.ingest_batch(
        [
            run.run_start(),
            run.span_start("agent", "agent.run", name="agent"),
            run.run_end(at=2000),
        ]
    )
    assert not clock_independent(store.graph("ended-open-span", include_records=False))
    store.ingest_batch([run.span_end("agent", at=1500)])
    assert clock_independent(store.graph("ended-open-span", include_records=False))
