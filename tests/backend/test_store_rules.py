"""Rules of the record store, by direct calls (issue #18: written against mutants of
``backend/store.py``): how rejections are counted and said, when a new operation was first
seen, the page size and the last page's cursor, cursors that do not decode, the change log's
exact expiry, span-event limits, and what a delete forgets. Each test states one rule."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from records import RunBuilder, simple_run

from crux_tui.backend import store as store_module
from crux_tui.backend.store import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    InvalidQuery,
    Store,
    decode_cursor,
    encode_cursor,
)
from crux_tui.contract.models import items
from crux_tui.contract.tolerant import MAX_DEPTH, TRUNCATED

#: A receive time far from every record's own time: what ``firstSeenAt`` must not be.
LATER = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    yield s
    s.close()


def row_of(store: Store, ref: str):
    row = store.operation_summary(ref)
    assert row is not None, ref
    return row


# -- rejections ------------------------------------------------------------------------------


def test_each_rejected_record_of_a_run_counts_once_in_its_delivery_health(store: Store) -> None:
    """The delivery health of a batch counts every record of the run it refused: invalid
    ones, and repeats of a ``recordId`` with other content."""
    run = RunBuilder("r")
    start, span = run.run_start(), run.span("s", "tool.call")
    bad = [{**run.span("b1", "tool.call"), "family": "agent"}, {**run.span("b2"), "family": "x"}]
    store.ingest_batch([start, span, *bad])
    health = row_of(store, "r").deliveryHealth
    assert health is not None and (health.status, health.rejected) == ("degraded", 2)
    conflict = {**span, "name": "another"}  # the same recordId, other content
    result = store.ingest_batch([run.span("t"), conflict, {**conflict, "status": "error"}])
    assert [d.code for d in result.dispositions] == ["accepted"] + ["record_id_conflict"] * 2
    health = row_of(store, "r").deliveryHealth
    assert health is not None and (health.status, health.rejected) == ("degraded", 2)


def test_delivery_health_is_set_by_source_health_or_rejections_only(store: Store) -> None:
    """A batch without ``sourceHealth`` and without a rejection says nothing about delivery;
    one with ``sourceHealth`` sets it even when every record is accepted."""
    store.ingest_batch(simple_run("quiet"))
    quiet = store.run_summary("quiet")
    assert quiet is not None and quiet.deliveryHealth is None
    store.ingest_batch(simple_run("told"), {"sourceId": "sdk", "overflowDropped": 3})
    health = row_of(store, "told").deliveryHealth
    assert health is not None and (health.status, health.rejected) == ("degraded", 3)


def test_rejections_say_why_in_words(store: Store) -> None:
    run = RunBuilder("w", schema_version=5)
    start = run.run_start()
    result = store.ingest_batch([start, {**start, "name": "other"}])
    assert result.dispositions[1].message == (
        "recordId was already used for a record with different content"
    )
    again = store.ingest_batch([{**start, "name": "third"}])  # against the stored one
    assert again.dispositions[0].message == result.dispositions[1].message
    assert again.dispositions[0].retryable is False
    moved = RunBuilder("w", schema_version=5, operation_id="op_other", segment_id="seg2").span("s")
    (identity,) = store.ingest_batch([moved]).dispositions
    assert (identity.code, identity.message) == (
        "operation_identity_conflict",
        "run w belongs to operation w, not op_other",
    )
    assert store.delete_operation("w") is not None
    (deleted,) = store.ingest_batch([run.span("late")]).dispositions
    assert (deleted.code, deleted.message, deleted.retryable) == (
        "operation_deleted",
        "operation w was deleted",
        False,
    )


def test_values_nested_too_deep_are_counted_in_the_message(store: Store) -> None:
    def deep(levels: int) -> object:
        value: object = "bottom"
        for _ in range(levels):
            value = [value]
        return value

    run = RunBuilder("deep")
    start = run.run_start()
    once = run.span("one", attributes={"a": deep(MAX_DEPTH + 5)})
    twice = run.span("two", attributes={"a": deep(MAX_DEPTH + 5), "b": deep(MAX_DEPTH + 5)})
    result = store.ingest_batch([start, once, twice])
    assert [d.outcome for d in result.dispositions] == ["accepted"] * 3
    suffix = f"nested deeper than {MAX_DEPTH} levels replaced by {TRUNCATED!r}"
    assert result.dispositions[0].message in (None, "")
    assert result.dispositions[1].message == f"1 value {suffix}"
    assert result.dispositions[2].message == f"2 values {suffix}"


def test_the_result_names_the_revision_after_the_batch(store: Store) -> None:
    first = store.ingest_batch(simple_run("a"))
    assert first.revision == store.revision() == 1
    nothing = store.ingest_batch([{"junk": True}])
    assert nothing.revision == 1 and nothing.changes == []


def test_a_repeat_of_a_big_batch_is_idempotent(store: Store) -> None:
    """Stored record ids are looked up in chunks: a repeat of a batch bigger than a chunk
    (500) stores nothing and makes no revision."""
    run = RunBuilder("big")
    records = [run.run_start()] + [run.span(f"s{i}") for i in range(1200)]
    assert store.ingest_batch(records).revision == 1
    again = store.ingest_batch(records)
    assert all(d.outcome == "accepted" for d in again.dispositions)
    assert again.changes == [] and store.revision() == 1
    assert row_of(store, "big").recordCount == 1201


# -- first seen, traces ----------------------------------------------------------------------


def test_a_new_operation_is_first_seen_at_its_earliest_record_time(store: Store) -> None:
    """``firstSeenAt`` is the earliest time the first records carry, even when the first of
    them carries none; only an operation without any time takes the receive time."""
    run = RunBuilder("untimed_first")
    start = {k: v for k, v in run.run_start().items() if k != "startedAt"}
    spans = [run.span("s", at=20, end=25), run.span("t", at=30, end=35)]
    store.ingest_batch([start, *spans], now=LATER)
    assert row_of(store, "untimed_first").firstSeenAt == "2026-05-16T18:00:00.020000Z"
    bare = RunBuilder("no_time")
    store.ingest_batch([{k: v for k, v in bare.run_start().items() if k != "startedAt"}], now=LATER)
    assert row_of(store, "no_time").firstSeenAt == "2030-01-01T00:00:00.000000Z"


def test_the_change_names_a_trace_even_before_the_root_arrives(store: Store) -> None:
    child = RunBuilder("child", schema_version=5, operation_id="op_root", trace_id="trace_x")
    result = store.ingest_batch([child.run_start(parentRunId="op_root")])
    assert [(c.operationId, c.traceId, c.runIds) for c in result.changes] == [
        ("op_root", "trace_x", ["child"])
    ]


def test_the_change_names_the_operation_trace_not_the_member_that_changed(store: Store) -> None:
    """An operation's events carry its trace (its root's), also when only a child run with
    another trace changed; an operation without any trace says none."""
    root = RunBuilder("op_t", schema_version=5, trace_id="trace_root")
    store.ingest_batch([root.run_start()])
    child = RunBuilder("kid", schema_version=5, operation_id="op_t", trace_id="trace_kid")
    (change,) = store.ingest_batch([child.run_start(parentRunId="op_t")]).changes
    assert (change.operationId, change.traceId) == ("op_t", "trace_root")
    (untraced,) = store.ingest_batch([RunBuilder("plain", trace_id="").run_start()]).changes
    assert (untraced.operationId, untraced.traceId) == ("plain", "")


def test_stored_records_keep_the_trace_they_were_sent_with(store: Store) -> None:
    traced, untraced = RunBuilder("t"), RunBuilder("u", trace_id="")
    store.ingest_batch([traced.run_start(), untraced.run_start()])
    for run_id, trace in (("t", "trace_t"), ("u", "")):
        graph = store.graph(run_id)
        assert graph is not None
        assert [r.traceId for r in items(graph.records)] == [trace], run_id


# -- pages -----------------------------------------------------------------------------------


def test_page_size_defaults_and_caps(store: Store) -> None:
    """250 rows by default (also for a limit that is not positive), 1000 at most."""
    assert (DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT) == (250, 1000)
    run = RunBuilder  # one run:start each: MAX_PAGE_LIMIT + 1 operations
    store.ingest_batch(
        [run(f"op{i:04d}").run_start() for i in range(MAX_PAGE_LIMIT + 1)], now=LATER
    )
    for limit in (None, 0, -1):
        assert len(items(store.runs_page(limit=limit).rows)) == DEFAULT_PAGE_LIMIT, limit
    assert len(items(store.runs_page(limit=1).rows)) == 1
    exact = store.runs_page(limit=MAX_PAGE_LIMIT)
    assert len(items(exact.rows)) == MAX_PAGE_LIMIT and exact.nextCursor
    capped = store.runs_page(limit=MAX_PAGE_LIMIT + 1)
    assert len(items(capped.rows)) == MAX_PAGE_LIMIT and capped.nextCursor


def test_the_last_page_has_no_cursor_even_when_full(store: Store) -> None:
    for i in range(4):
        store.ingest_batch(simple_run(f"r{i}", base=f"2026-05-16T1{i}:00:00"))
    first = store.runs_page(limit=2)
    assert [r.runId for r in items(first.rows)] == ["r3", "r2"] and first.nextCursor
    last = store.runs_page(limit=2, cursor=first.nextCursor)
    assert [r.runId for r in items(last.rows)] == ["r1", "r0"]
    assert last.nextCursor is None
    whole = store.runs_page(limit=4)
    assert len(items(whole.rows)) == 4 and whole.nextCursor is None


def test_operations_first_seen_together_page_by_id_without_a_repeat(store: Store) -> None:
    for name in ("op_a", "op_b", "op_c"):
        store.ingest_batch([RunBuilder(name).run_start()])  # one start time for all
    seen, cursor = [], None
    while True:
        page = store.runs_page(limit=1, cursor=cursor)
        seen += [r.runId for r in items(page.rows)]
        cursor = page.nextCursor
        if not cursor:
            break
    assert seen == ["op_c", "op_b", "op_a"]


def test_time_bounds_include_their_instant(store: Store) -> None:
    for i in range(3):
        store.ingest_batch(simple_run(f"r{i}", base=f"2026-05-16T1{i}:00:00"))
    at = "2026-05-16T11:00:00Z"
    assert [r.runId for r in items(store.runs_page(since=at).rows)] == ["r2", "r1"]
    assert [r.runId for r in items(store.runs_page(until=at).rows)] == ["r1", "r0"]
    with pytest.raises(InvalidQuery, match=r"^invalid time bound$"):
        store.runs_page(until="soon")


@pytest.mark.parametrize("length", range(1, 9))
def test_cursors_of_every_length_round_trip(store: Store, length: int) -> None:
    """Cursors are unpadded base64url: whatever their length, they decode."""
    names = [f"{'x' * length}{i}" for i in range(3)]
    for name in names:
        store.ingest_batch([RunBuilder(name).run_start()])
    first = store.runs_page(limit=1)
    assert first.nextCursor and "=" not in first.nextCursor
    rest = store.runs_page(cursor=first.nextCursor)
    assert [r.runId for r in items(rest.rows)] == sorted(names, reverse=True)[1:]


@pytest.mark.parametrize(
    "raw",
    [
        b"2026-05-16T18:00:00Z",  # no separator
        b"not a time\x00op",
        b"2026-05-16T18:00:00Z\x00",  # no operation id
        b"\xff\xfe\x00op",  # not text
    ],
)
def test_a_cursor_that_does_not_name_a_row_is_invalid(store: Store, raw: bytes) -> None:
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(InvalidQuery, match=r"^invalid cursor$"):
        store.runs_page(cursor=cursor)


def test_a_cursor_keeps_every_character_but_the_padding(store: Store) -> None:
    """Only the ``=`` padding is cut from a cursor: one whose base64 ends in a letter keeps
    it, and an operation id decodes whole, whatever characters it holds."""
    first_seen = "2026-05-16T18:00:00.000000Z"

    def b64(op: str) -> str:
        return base64.urlsafe_b64encode(f"{first_seen}\x00{op}".encode()).decode().rstrip("=")

    name = next(n for i in range(100) if b64(n := f"op{i}W").endswith("X"))
    for op in (name, "a_lower"):
        store.ingest_batch([RunBuilder(op).run_start()])
    page = store.runs_page(limit=1)
    assert [r.runId for r in items(page.rows)] == [name]
    assert page.nextCursor == b64(name)
    assert decode_cursor(page.nextCursor) == (first_seen, name)
    assert decode_cursor(encode_cursor(first_seen, "a\x00b")) == (first_seen, "a\x00b")


def test_a_well_formed_cursor_is_accepted(store: Store) -> None:
    store.ingest_batch([RunBuilder("op").run_start()])
    page = store.runs_page(cursor=encode_cursor("2026-05-16T19:00:00Z", "zzz"))
    assert [r.runId for r in items(page.rows)] == ["op"]


# -- the change log --------------------------------------------------------------------------


def test_the_change_log_expires_exactly_at_its_retention(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a retention of N revisions, a cursor N revisions old still reads the log; one
    older is expired. The pruning starts at revision N + 1."""
    monkeypatch.setattr(store_module, "CHANGE_LOG_RETENTION", 2)
    for i in range(2):
        store.ingest_batch(simple_run(f"a{i}"))
    assert not store.runs_delta(0).expired  # revision 2: nothing pruned yet
    store.ingest_batch(simple_run("a2"))  # revision 3: revision 1 pruned
    assert store.runs_delta(0).expired
    assert not store.runs_delta(1).expired
    assert [c.id for c in items(store.runs_delta(1).changes)] == ["a1", "a2"]
    for i in range(3, 6):
        store.ingest_batch(simple_run(f"a{i}"))
    assert store.revision() == 6
    assert store.runs_delta(3).expired and not store.runs_delta(4).expired


# -- span events -----------------------------------------------------------------------------


def test_span_event_limits_and_trace(store: Store) -> None:
    """200 events by default; a limit of 0 or less is none (never SQLite's "no limit");
    each event carries its record's trace id."""
    run = RunBuilder("e")
    store.ingest_batch([run.run_start()] + [run.event("s", at=100 + i) for i in range(205)])
    events = store.span_events("e", "s")
    assert events is not None and len(events) == 200
    assert {e.traceId for e in events} == {"trace_e"}
    assert store.span_events("e", "s", limit=0) == []
    assert store.span_events("e", "s", limit=-1) == []
    with pytest.raises(InvalidQuery, match=r"^invalid after query parameter$"):
        store.span_events("e", "s", after="later")


# -- deletes ---------------------------------------------------------------------------------


def test_a_run_id_reused_after_its_operation_was_deleted_starts_afresh(store: Store) -> None:
    """A delete forgets what it had rolled up and decoded for the deleted runs: the same run
    id, sent again in another operation, is a new run of that operation."""
    old = RunBuilder("run_x", schema_version=5, operation_id="op_old")
    store.ingest_batch([old.run_start(), old.span("old_span")])
    graph = store.graph("run_x", include_records=False)
    assert graph is not None and [s.spanId for s in items(graph.spans)] == ["old_span"]
    assert store.delete_operation("op_old") == (["op_old"], 2)
    new = RunBuilder("run_x", schema_version=5, operation_id="op_new", segment_id="seg2")
    result = store.ingest_batch([new.span("new_span")])
    assert [d.code for d in result.dispositions] == ["accepted"]
    graph = store.graph("run_x", include_records=False)
    assert graph is not None and [s.spanId for s in items(graph.spans)] == ["new_span"]
    assert row_of(store, "run_x").operationId == "op_new"


def test_an_operation_can_be_deleted_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = Store(path)
    first.ingest_batch(simple_run("a") + simple_run("b"))
    first.close()
    again = Store(path)  # nothing of "a" is cached
    try:
        assert again.delete_operation("a") == (["a"], 3)
        assert again.operation_summary("a") is None and again.operation_summary("b") is not None
    finally:
        again.close()


def test_a_batch_that_fails_to_commit_leaves_nothing_of_it(tmp_path: Path) -> None:
    """A batch rolled back (here: SQLite refuses its ``run:end`` record) changes nothing:
    the next batch of the run rolls up only the records that were stored."""
    import sqlite3

    path = tmp_path / "runs.sqlite3"
    store = Store(path)
    try:
        run = RunBuilder("r")
        store.ingest_batch([run.run_start(), run.span_start("s1", "tool.call")])
        assert row_of(store, "r").status == "running"
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TRIGGER refuse_end BEFORE INSERT ON records WHEN NEW.type = 'run:end'"
                " BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        with pytest.raises(sqlite3.Error):
            store.ingest_batch([run.run_end()])
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER refuse_end")
        store.ingest_batch([run.span_start("s2", "tool.call")])
        assert row_of(store, "r").status == "running"
        assert row_of(store, "r").spanCount == 2
    finally:
        store.close()
