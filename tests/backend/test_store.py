"""The SQLite store: idempotency, revisions, pages, graphs, roll-ups, lifecycle."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from records import RunBuilder, simple_run

from crux_tui.backend import store as store_module
from crux_tui.backend.lifecycle import reconcile_once
from crux_tui.backend.store import InvalidQuery, Store
from crux_tui.contract.models import items


@pytest.fixture
def store() -> Store:
    s = Store(":memory:")
    yield s
    s.close()


def test_ingest_is_idempotent_and_revisioned(store: Store) -> None:
    result = store.ingest_batch(simple_run("a"))
    assert all(d.outcome == "accepted" for d in result.dispositions)
    assert [(c.operationId, c.traceId, c.revision, c.runIds) for c in result.changes] == [
        ("a", "trace_a", 1, ["a"])
    ]
    again = store.ingest_batch(simple_run("a"))
    assert all(d.outcome == "accepted" for d in again.dispositions)
    assert again.changes == [] and store.revision() == 1
    graph = store.graph("a")
    assert graph is not None and len(items(graph.records)) == len(simple_run("a"))
    assert graph.run.recordCount == len(simple_run("a"))


def test_duplicate_within_batch_and_partial_batch(store: Store) -> None:
    run = RunBuilder("p")
    start = run.run_start()
    bad = {**run.span_start("s", "tool.call"), "primitive": "tool.nope"}
    result = store.ingest_batch([start, start, bad, run.span("t", "tool.call")])
    assert [d.outcome for d in result.dispositions] == [
        "accepted",
        "accepted",
        "rejected",
        "accepted",
    ]
    summary = store.run_summary("p")
    assert summary is not None and summary.recordCount == 2 and summary.spanCount == 1


def test_summary_rollup(store: Store) -> None:
    store.ingest_batch(simple_run("a", session_id="sess"))
    s = store.run_summary("a")
    assert s is not None
    assert (s.status, s.name, s.rootPrimitive, s.sessionId) == ("ok", "a name", "agent.run", "sess")
    assert (s.spanCount, s.eventCount, s.artifactCount, s.edgeCount, s.segmentCount) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert (s.model, s.provider) == ("gpt-4o", "openai")
    assert s.durationMs == 1000
    # span:end metrics win over usage.observed for the same span (no double counting)
    assert s.metrics == {"inputTokens": 42, "outputTokens": 18, "totalTokens": 60, "costUsd": 0.5}
    assert (s.orderingConfidence, s.gapCount) == ("causal", 0)
    assert s.lastActivityAt == "2026-05-16T18:00:01.000Z"
    assert s.revision == 1


def test_usage_events_count_when_span_has_no_metrics(store: Store) -> None:
    run = RunBuilder("u")
    store.ingest_batch(
        [
            run.run_start(),
            run.span_start("g", "generation.call"),
            run.event("g", "usage.observed", attributes={"inputTokens": 5, "cost": 0.25}),
        ]
    )
    s = store.run_summary("u")
    assert s is not None and s.metrics == {"inputTokens": 5, "costUsd": 0.25}
    assert s.status == "running" and s.activeSegmentId == "seg_u"


def test_partial_ordering_and_errors(store: Store) -> None:
    run = RunBuilder("g")
    records = [
        run.run_start(),
        run.span_start("child", "tool.call", parent="ghost"),
        run.span_start("root2", "agent.run"),
        run.span_start("root3", "agent.run"),
    ]
    run.seq += 3  # leave a hole in the segment sequence
    records.append(run.run_end(status="error", error={"message": "boom"}))
    store.ingest_batch(records)
    s = store.run_summary("g")
    assert s is not None
    assert s.orderingConfidence == "partial"
    assert s.gapCount == 3 + 1  # three missing sequence numbers + one unresolved parent
    assert s.status == "error" and s.error == {"message": "boom"}


def test_graph_merges_spans(store: Store) -> None:
    run = RunBuilder("m")
    store.ingest_batch(
        [
            run.run_start(),
            run.span_end("late", at=50, metrics={"totalTokens": 3}),
            run.span_start("late", "generation.call", at=10, attributes={"a": 1}),
            run.span_end("orphan", status="error", at=60),
            run.event("late", "token.chunk"),
            run.event("late", "generation.finished"),
        ]
    )
    graph = store.graph("m")
    assert graph is not None
    spans = {s.spanId: s for s in items(graph.spans)}
    late = spans["late"]
    assert (late.family, late.primitive, late.status) == ("generation", "generation.call", "ok")
    assert late.endedAt == "2026-05-16T18:00:00.050Z" and late.durationMs == 40
    assert late.metrics == {"totalTokens": 3} and late.attributes == {"a": 1}
    orphan = spans["orphan"]
    assert (orphan.family, orphan.primitive, orphan.status) == ("", "", "error")
    # token.chunk events are served lazily, not in the graph
    assert [e.name for e in items(graph.events)] == ["generation.finished"]
    assert graph.run.status == "running"


def test_trace_alias_resolution(store: Store) -> None:
    store.ingest_batch(simple_run("old", trace_id="shared"))
    store.ingest_batch(simple_run("new", trace_id="shared", base="2026-05-16T19:00:00"))
    graph = store.graph("shared")
    assert graph is not None and graph.run.runId == "new" and graph.run.traceAliasConflict
    assert store.graph("old") is not None and not store.graph("old").run.traceAliasConflict
    assert store.graph("missing") is None


def test_a_trace_of_one_operation_resolves_without_an_alias_conflict(store: Store) -> None:
    """A trace id names an operation; the conflict flag is for a trace carried by several."""
    store.ingest_batch(simple_run("only", trace_id="single"))
    graph = store.graph("single")
    assert graph is not None and graph.run.runId == "only"
    assert graph.run.traceAliasConflict is False
    assert store.resolve_operation("single") == ("only", False)


def test_runs_page_order_filters_and_cursor(store: Store) -> None:
    for i in range(7):
        store.ingest_batch(
            simple_run(
                f"r{i}",
                base=f"2026-05-16T1{i}:00:00",
                ended=i % 2 == 0,
                session_id="even" if i % 2 == 0 else "odd",
            )
        )
    page = store.runs_page(limit=3)
    assert [r.runId for r in items(page.rows)] == ["r6", "r5", "r4"]
    assert page.revision == 7 and page.nextCursor
    seen = []
    cursor = None
    while True:
        page = store.runs_page(limit=3, cursor=cursor)
        seen += [r.runId for r in items(page.rows)]
        cursor = page.nextCursor
        if not cursor:
            break
    assert seen == [f"r{i}" for i in range(6, -1, -1)]
    assert [r.runId for r in items(store.runs_page(status=["running"]).rows)] == ["r5", "r3", "r1"]
    assert len(items(store.runs_page(session_id="even").rows)) == 4
    bounded = store.runs_page(since="2026-05-16T12:00:00Z", until="2026-05-16T14:00:00.000Z")
    assert [r.runId for r in items(bounded.rows)] == ["r4", "r3", "r2"]
    with pytest.raises(InvalidQuery):
        store.runs_page(cursor="%%%")
    with pytest.raises(InvalidQuery):
        store.runs_page(since="yesterday")


def test_runs_delta_and_expiry(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ingest_batch(simple_run("a"))
    store.ingest_batch(simple_run("b"))
    store.ingest_batch([RunBuilder("a", segment_id="seg2").span("x", "tool.call")])
    delta = store.runs_delta(1)
    assert delta.revision == 3 and not delta.expired
    assert [(c.id, c.revision) for c in items(delta.changes)] == [("b", 2), ("a", 3)]
    assert items(store.runs_delta(3).changes) == []
    monkeypatch.setattr(store_module, "CHANGE_LOG_RETENTION", 2)
    for i in range(4):
        store.ingest_batch(simple_run(f"c{i}"))
    assert store.runs_delta(0).expired
    assert not store.runs_delta(store.revision() - 1).expired


def test_span_events_filters(store: Store) -> None:
    run = RunBuilder("e")
    store.ingest_batch(
        [run.run_start()]
        + [run.event("s", "token.chunk", at=100 + i) for i in range(5)]
        + [run.event("s", "usage.observed", at=50)]
    )
    events = store.span_events("e", "s")
    assert events is not None and events[0].name == "usage.observed"
    chunks = store.span_events(
        "e", "s", name="token.chunk", after="2026-05-16T18:00:00.101Z", limit=2
    )
    assert [e.timestamp for e in chunks] == ["2026-05-16T18:00:00.102Z", "2026-05-16T18:00:00.103Z"]
    assert store.span_events("e", "other") == []
    assert store.span_events("nope", "s") is None


def test_file_store_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = Store(path)
    first.ingest_batch(simple_run("a", ended=False))
    first.close()
    second = Store(path)
    try:
        run = RunBuilder("a", segment_id="seg_late")
        result = second.ingest_batch([run.span("late", "tool.call", parent="agent")])
        assert result.changes[0].revision == 2
        s = second.run_summary("a")
        assert s is not None and s.spanCount == 4 and s.segmentCount == 2
        assert s.metrics == {
            "inputTokens": 42,
            "outputTokens": 18,
            "totalTokens": 60,
            "costUsd": 0.5,
        }
    finally:
        second.close()


def test_concurrent_writers(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                store.ingest_batch(simple_run(f"t{i}_{j}"))
                store.runs_page(limit=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert store.revision() == 20
        assert len(items(store.runs_page(limit=100).rows)) == 20
    finally:
        store.close()


def test_lifecycle_reconcile_marks_stale_once(store: Store) -> None:
    store.ingest_batch(simple_run("open", ended=False))
    store.ingest_batch(simple_run("done"))
    fresh = datetime(2026, 5, 16, 18, 0, 30, tzinfo=UTC)
    assert reconcile_once(store, fresh) == []
    later = datetime(2026, 5, 16, 18, 10, tzinfo=UTC)
    published = reconcile_once(store, later)
    assert len(published) == 1
    revision, event = published[0]
    assert (event.kind, event.action, event.refId) == (
        "observability.lifecycle",
        "reconciled",
        "open",
    )
    assert event.payload is not None and event.payload["status"] != "running"
    assert event.payload["runId"] == "open" and event.payload["reason"]
    assert revision == store.revision() == 3
    assert reconcile_once(store, later) == []  # published once
    row = next(r for r in items(store.runs_page().rows) if r.runId == "open")
    assert row.status == event.payload["status"]
    graph = store.graph("open")
    assert graph is not None and graph.run.status == "running"  # canonical status unchanged


_values = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=6) | st.floats(allow_nan=False)
)


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(simple_run("f")) - 1),
            st.dictionaries(
                st.sampled_from(
                    [
                        "spanId",
                        "parentSpanId",
                        "name",
                        "metrics",
                        "attributes",
                        "timestamp",
                        "startedAt",
                        "endedAt",
                        "status",
                        "durationMs",
                        "traceId",
                        "preview",
                        "to",
                    ]
                ),
                _values | st.dictionaries(st.text(max_size=4), _values, max_size=2),
                max_size=3,
            ),
        ),
        max_size=12,
    )
)
def test_arbitrary_field_values_never_break_ingest_or_graph(picks: list) -> None:
    store = Store(":memory:")
    try:
        base = simple_run("f")
        records = [{**base[i], **over, "recordId": f"x{n}"} for n, (i, over) in enumerate(picks)]
        result = store.ingest_batch(records)
        assert len(result.dispositions) == len(records)
        if any(d.outcome == "accepted" for d in result.dispositions):
            graph = store.graph("f")
            assert graph is not None
            store.runs_page()
            store.span_events("f", "gen")
    finally:
        store.close()


def test_lifecycle_waits_until_a_run_stops_receiving_records(store: Store) -> None:
    """An old run being imported looks inactive by its timestamps; the ticker leaves it
    alone while batches keep arriving and reconciles it one pass after they stop."""
    records = simple_run("importing", ended=False)
    later = datetime(2026, 5, 16, 18, 10, tzinfo=UTC)
    seen: dict[str, int] = {}
    for record in records:  # one batch between every two passes
        store.ingest_batch([record])
        assert reconcile_once(store, later, seen) == []
    published = reconcile_once(store, later, seen)  # quiet for one pass: announced
    assert [event.refId for _, event in published] == ["importing"]
    assert reconcile_once(store, later, seen) == []


def test_infinite_numbers_do_not_break_the_run(store: Store) -> None:
    """Over HTTP a number too big for a float is refused, but records handed to the store
    directly (the in-process backend) may carry infinity: it counts as absent, and the run
    still lists, assembles and projects (it used to break the stored summary)."""
    from crux_tui.backend.projection import project_run_detail

    records = simple_run("inf")
    for record in records:
        if record["type"] in ("run:end", "span:end"):
            record["durationMs"] = float("inf")
        if record["type"] == "artifact":
            record["sizeBytes"] = float("-inf")
    result = store.ingest_batch(records)
    assert {d.outcome for d in result.dispositions} == {"accepted"}
    row = items(store.runs_page().rows)[0]
    assert row.runId == "inf" and row.durationMs >= 0
    graph = store.graph("inf")
    assert graph is not None
    assert all(a.sizeBytes == 0 for a in items(graph.artifacts))
    detail = project_run_detail(graph, datetime(2026, 5, 16, 18, 5, tzinfo=UTC))
    assert detail.run.runId == "inf"


#: The layout of a database written before operations existed (runs only, no user_version).
OLD_LAYOUT = """
CREATE TABLE records (seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL, trace_id TEXT NOT NULL DEFAULT '', segment_id TEXT NOT NULL DEFAULT '',
    segment_seq INTEGER NOT NULL DEFAULT 0, type TEXT NOT NULL, span_id TEXT, event_name TEXT,
    event_key TEXT, event_id TEXT, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '', started_key TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL, stored_status TEXT NOT NULL, lifecycle_status TEXT,
    last_activity_key TEXT NOT NULL DEFAULT '', revision INTEGER NOT NULL, summary TEXT NOT NULL);
CREATE INDEX runs_started ON runs(started_key DESC, run_id DESC);
CREATE TABLE changes (revision INTEGER PRIMARY KEY, run_id TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('revision', 7), ('pruned', 0);
"""


def test_a_database_from_before_operations_is_upgraded_on_open(tmp_path: Path) -> None:
    import json
    import sqlite3

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_LAYOUT)
    records = simple_run("run_old_a") + simple_run("run_old_b", base="2026-05-16T19:00:00")
    conn.executemany(
        "INSERT INTO records (record_id, run_id, type, segment_id, segment_seq, payload,"
        " received_at) VALUES (?,?,?,?,?,?,?)",
        [
            (
                r["recordId"],
                r["runId"],
                r["type"],
                r["segmentId"],
                r["segmentSeq"],
                json.dumps(r),
                "2026-05-16T20:00:00.000Z",
            )
            for r in records
        ],
    )
    conn.execute("INSERT INTO runs VALUES ('run_old_a', '', '', '', 'ok', 'ok', NULL, '', 1, '{}')")
    conn.execute("INSERT INTO changes VALUES (7, 'run_old_a')")
    conn.commit()
    conn.close()

    store = Store(path)
    try:
        page = store.runs_page()
        assert [(r.runId, r.operationId, r.status, r.recordCount) for r in items(page.rows)] == [
            ("run_old_b", "run_old_b", "ok", 11),
            ("run_old_a", "run_old_a", "ok", 11),
        ]
        assert store.revision() == 9 and store.runs_delta(7).expired
        graph = store.graph("run_old_a")
        assert graph is not None and len(items(graph.records)) == 11
        assert store.ingest_batch(simple_run("run_new")).changes[0].revision == 10
    finally:
        store.close()
    reopened = Store(path)  # upgraded once: nothing is rebuilt again
    try:
        assert reopened.revision() == 10 and len(items(reopened.runs_page().rows)) == 3
    finally:
        reopened.close()


def test_a_database_with_operations_but_no_format_number_is_not_rebuilt(tmp_path: Path) -> None:
    """Only the run tables of a layout from before operations are dropped and rebuilt: a
    database that has operations already (its format number unset) keeps its change log."""
    import sqlite3

    path = tmp_path / "unnumbered.sqlite3"
    store = Store(path)
    try:
        store.ingest_batch(simple_run("run_a"))
        store.ingest_batch(simple_run("run_b", base="2026-05-16T19:00:00"))
    finally:
        store.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.close()
    reopened = Store(path)
    try:
        assert reopened.revision() == 2
        delta = reopened.runs_delta(1)
        assert not delta.expired and [c.id for c in items(delta.changes)] == ["run_b"]
    finally:
        reopened.close()
