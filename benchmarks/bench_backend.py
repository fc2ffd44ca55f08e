"""Backend figures: ingest throughput and projection time."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec

from benchmarks.common import Result, median_time
from crux_tui.backend.detail_cache import DetailCache
from crux_tui.backend.details import encode_run_detail, run_detail_body
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.process import BackendProcess
from crux_tui.backend.projection.operation import project_operation_detail
from crux_tui.backend.store import Store
from crux_tui.contract.vocabulary import SCHEMA_VERSION
from crux_tui.demo import scaled_run_records
from crux_tui.loading import batches


def ingest(size: int, repeat: int) -> list[Result]:
    """Records/s through the store, and through ``POST /records`` on loopback."""
    records = scaled_run_records(size)
    store_rates, http_rates = [], []
    for _ in range(repeat):
        store = Store(":memory:")
        chunks = batches(records)
        start = time.perf_counter()
        for chunk in chunks:
            store.ingest_batch(chunk)
        store_rates.append(len(records) / (time.perf_counter() - start))
        store.close()
        with (
            EmbeddedBackend(lifecycle_interval=60) as backend,
            httpx.Client(base_url=backend.url, timeout=30) as client,
        ):
            bodies = [
                msgspec.json.encode({"schemaVersion": SCHEMA_VERSION, "records": c}) for c in chunks
            ]
            start = time.perf_counter()
            for body in bodies:
                response = client.post(
                    "/api/observability/records",
                    content=body,
                    headers={"content-type": "application/json"},
                )
                response.raise_for_status()
            http_rates.append(len(records) / (time.perf_counter() - start))
    store_rate = sorted(store_rates)[len(store_rates) // 2]
    http_rate = sorted(http_rates)[len(http_rates) // 2]
    return [
        Result("backend", "ingest, store (records/s)", size, store_rate, "rec/s"),
        Result(
            "backend",
            "ingest, POST /records (records/s)",
            size,
            http_rate,
            "rec/s",
            "> 20,000 rec/s",
            http_rate > 20_000,
        ),
    ]


def projection(size: int, repeat: int) -> tuple[list[Result], bytes]:
    """Stored records -> RunDetail JSON as ``GET /runs/{id}`` serves it (the operation of
    the run): graph assembly, projection, encoding."""
    records = scaled_run_records(size)
    store = Store(":memory:")
    for chunk in batches(records):
        store.ingest_batch(chunk)
    run_id = records[0]["runId"]
    now = datetime.now(UTC)

    def cold_graph() -> None:
        store.drop_decoded()
        store.operation_graph(run_id)

    graph_ms, _ = median_time(cold_graph, repeat)
    graph = store.operation_graph(run_id)
    assert graph is not None
    reread_ms, _ = median_time(lambda: store.operation_graph(run_id), repeat)
    project_ms, _ = median_time(lambda: project_operation_detail(graph, now), repeat)
    detail = project_operation_detail(graph, now)
    encode_ms, _ = median_time(lambda: encode_run_detail(detail), repeat)
    body = bytes(encode_run_detail(detail)[0])

    def served_on_a_miss() -> None:  # what GET /runs/{id} does when nothing is cached
        store.drop_decoded()
        run_detail_body(store, DetailCache(), run_id, now)

    total, _ = median_time(served_on_a_miss, repeat)
    store.close()
    target = "< 300 ms" if size == 10_000 else ""
    return [
        Result("backend", "graph assembly from SQLite", size, graph_ms, "ms"),
        Result("backend", "graph re-read (decoded records kept)", size, reread_ms, "ms"),
        Result("backend", "projection (project_operation_detail)", size, project_ms, "ms"),
        Result("backend", "RunDetail JSON encode", size, encode_ms, "ms"),
        Result(
            "backend",
            "stored records -> RunDetail JSON",
            size,
            total,
            "ms",
            target,
            (total < 300) if target else None,
        ),
    ], body


def detail_over_http(size: int, repeat: int) -> list[Result]:
    """``GET /runs/{id}`` on loopback: first read (projected) and repeat read (cached)."""
    records = scaled_run_records(size)
    run_id = records[0]["runId"]
    with (
        EmbeddedBackend(lifecycle_interval=60) as backend,
        httpx.Client(base_url=backend.url, timeout=300) as client,
    ):
        for chunk in batches(records):
            backend.store.ingest_batch(chunk)
        cache = backend.app.state.detail_cache

        def fetch() -> None:
            client.get(f"/api/observability/runs/{run_id}").raise_for_status()

        def cold() -> None:
            cache.clear()
            backend.store.drop_decoded()
            fetch()

        cold_ms, _ = median_time(cold, repeat)
        fetch()
        warm_ms, _ = median_time(fetch, repeat)
    return [
        Result("backend", "GET RunDetail, first read (projected)", size, cold_ms, "ms"),
        Result("backend", "GET RunDetail, repeat read (settled run, cached)", size, warm_ms, "ms"),
    ]


def restart(size: int, repeat: int) -> list[Result]:
    """``GET /runs/{id}`` of a settled run from a ``serve --db FILE`` process just started on
    the stored run: served from the body kept with the records, and projected again (its
    kept body dropped first); and what the database file holds."""
    records = scaled_run_records(size)
    run_id = records[0]["runId"]
    with tempfile.TemporaryDirectory(prefix="crux-bench-") as tmp:
        db = Path(tmp) / "runs.sqlite3"
        store = Store(db)
        for chunk in batches(records):
            store.ingest_batch(chunk)
        store.close()
        records_mb = db.stat().st_size / 1e6

        def get_after_restart(drop_kept: bool) -> float:
            if drop_kept:
                with sqlite3.connect(db) as conn:
                    conn.execute("DELETE FROM stored_bodies")
            with (
                BackendProcess(db=str(db)) as backend,
                httpx.Client(base_url=backend.url, timeout=600) as client,
            ):
                start = time.perf_counter()
                client.get(f"/api/observability/runs/{run_id}").raise_for_status()
                return (time.perf_counter() - start) * 1000

        get_after_restart(False)  # projected once and kept (written before the process ends)
        kept = sorted(get_after_restart(False) for _ in range(repeat))
        projected = sorted(get_after_restart(True) for _ in range(repeat))
        with sqlite3.connect(db) as conn:
            stored, raw = conn.execute(
                "SELECT SUM(LENGTH(body)), SUM(length) FROM stored_bodies"
            ).fetchone()
        total_mb = db.stat().st_size / 1e6
    return [
        Result(
            "backend",
            "GET RunDetail after restart, kept body",
            size,
            kept[len(kept) // 2],
            "ms",
            samples=kept,
        ),
        Result(
            "backend",
            "GET RunDetail after restart, projected",
            size,
            projected[len(projected) // 2],
            "ms",
            samples=projected,
        ),
        Result("backend", "database file, records only", size, records_mb, "MB"),
        Result("backend", "database file with the kept body", size, total_mb, "MB"),
        Result("backend", "kept body, compressed (zlib 3)", size, (stored or 0) / 1e6, "MB"),
        Result("backend", "kept body, as served", size, (raw or 0) / 1e6, "MB"),
    ]
