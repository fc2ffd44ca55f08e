"""Reading a run again decodes only new records, and the graph is the same as a fresh read."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import RunBuilder

from crux_tui.backend.store import Store
from crux_tui.backend.wire_cache import WireCache
from crux_tui.demo import build_demo_records

RECORDS = build_demo_records(now=datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
RUN_IDS = list(dict.fromkeys(r["runId"] for r in RECORDS))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(1, len(RECORDS) - 1), max_size=6, unique=True), data=st.data())
def test_incremental_reads_equal_fresh_reads(cuts: list[int], data: st.DataObject) -> None:
    store, reference = Store(":memory:"), Store(":memory:")  # same batches; one is read between
    bounds = [0, *sorted(cuts), len(RECORDS)]
    try:
        for start, end in itertools.pairwise(bounds):
            store.ingest_batch(RECORDS[start:end])
            reference.ingest_batch(RECORDS[start:end])
            read = data.draw(st.lists(st.sampled_from(RUN_IDS), max_size=3))
            for run_id in read:  # reads between batches fill the cache part-way
                store.graph(run_id, include_records=False)
        for run_id in RUN_IDS:
            cached = store.graph(run_id, include_records=False)
            assert cached == reference.graph(run_id, include_records=False), run_id
            # the read with raw records (the /graph route) assembles the same graph
            full = store.graph(run_id, include_records=True)
            assert full is not None and full.spans == cached.spans
            assert full.events == cached.events and full.edges == cached.edges
    finally:
        store.close()
        reference.close()


def test_cache_is_bounded_and_never_goes_backwards() -> None:
    cache = WireCache(budget=5)
    cache.put("a", 3, (1, 2, 3))  # type: ignore[arg-type]
    cache.put("a", 2, (1, 2))  # type: ignore[arg-type]  # an older read finishing late
    assert cache.get("a") == (3, (1, 2, 3))
    cache.put("b", 2, (1, 2))  # type: ignore[arg-type]
    assert cache.held == 5
    cache.put("c", 1, (1,))  # type: ignore[arg-type]  # over budget: least recent (a) out
    assert cache.get("a") == (0, ()) and cache.held == 3
    cache.put("huge", 9, tuple(range(6)))  # type: ignore[arg-type]
    assert cache.get("huge") == (0, ())


def test_a_record_read_once_is_not_decoded_again(tmp_path: Path) -> None:
    """Stored records never change, so a run read again decodes only the records that
    arrived since: a record edited behind the store's back (straight in SQLite) after it
    was read still reads as it was, and a record that arrives later is read."""
    db = tmp_path / "runs.sqlite3"
    store = Store(str(db))
    try:
        run = RunBuilder("r1")
        store.ingest_batch([run.run_start(), run.span_start("s1", "tool.call")])
        assert _names(store) == {"s1": "s1"}
        with sqlite3.connect(db) as conn:
            edited = conn.execute(
                'UPDATE records SET payload = replace(payload, \'"name":"s1"\','
                " '\"name\":\"edited\"') WHERE type = 'span:start'"
            ).rowcount
        assert edited == 1
        store.ingest_batch([run.span_start("s2", "tool.call")])
        assert _names(store) == {"s1": "s1", "s2": "s2"}
    finally:
        store.close()


def _names(store: Store) -> dict[str, str]:
    graph = store.graph("r1", include_records=False)
    assert graph is not None
    return {span.spanId: span.name for span in graph.spans}
