"""Embedded backend durability: concurrent writers lose nothing; the file survives SIGKILL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.store import Store
from tests.reliability.test_faults import ServeProcess, free_port

INGEST = "/api/observability/records"
CLIENTS = 6
BATCHES = 8
PER_BATCH = 5


def client_batches(client: int) -> list[list[dict]]:
    """Client ``c`` writes its own run plus spans of a run every client shares."""
    own = RunBuilder(f"run_c{client}", segment_id=f"seg_c{client}")
    shared = RunBuilder("run_shared", segment_id=f"seg_shared_{client}")
    out = []
    for b in range(BATCHES):
        records = [own.run_start()] if b == 0 else []
        while len(records) < PER_BATCH:
            builder = own if len(records) % 2 else shared
            records.append(builder.span(f"c{client}_b{b}_{len(records)}", "tool.call"))
        out.append(records)
    return out


async def test_concurrent_writers_store_every_record_exactly_once(
    make_backend: Callable[..., EmbeddedBackend], tmp_path: Path
) -> None:
    backend = make_backend(db=tmp_path / "db.sqlite3")

    async def writer(client: int) -> list[str]:
        sent: list[str] = []
        async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
            for records in client_batches(client):
                for attempt in range(20):
                    response = await http.post(INGEST, json=batch(records))
                    if response.status_code != 503:
                        break
                    await asyncio.sleep(0.05 * (attempt + 1))
                assert response.status_code == 202, response.text
                outcomes = [d["outcome"] for d in response.json()["dispositions"]]
                assert outcomes == ["accepted"] * len(records)
                sent += [r["recordId"] for r in records]
                # a duplicate resend (retry after a lost response) must not double anything
                if len(sent) % 3 == 0:
                    assert (await http.post(INGEST, json=batch(records))).status_code == 202
        return sent

    results = await asyncio.gather(*(writer(c) for c in range(CLIENTS)))
    expected = [rid for sent in results for rid in sent]
    assert len(expected) == len(set(expected))
    found: list[str] = []
    spans = 0
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        runs = (await http.get("/api/observability/runs/page?limit=100")).json()["rows"]
        assert {r["runId"] for r in runs} == {"run_shared", *(f"run_c{c}" for c in range(CLIENTS))}
        for run in runs:
            graph = (await http.get(f"/api/observability/runs/{run['runId']}/graph")).json()
            found += [r["recordId"] for r in graph["records"]]
            spans += len(graph["spans"])
            assert run["recordCount"] == len(graph["records"])
    assert sorted(found) == sorted(expected)  # every record, exactly once
    assert spans == len(expected) - CLIENTS  # every record but the run:starts is a span


def test_sqlite_file_survives_sigkill_during_ingest(tmp_path: Path) -> None:
    db = tmp_path / "devtools.sqlite3"
    server = ServeProcess(free_port(), db).start()
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(client: int) -> None:
        run = RunBuilder(f"run_k{client}")
        first = True
        with httpx.Client(base_url=server.url, timeout=5) as http:
            while not stop.is_set():
                records = [run.run_start()] if first else []
                records += [run.span(f"k{client}_{run.seq}_{i}", "tool.call") for i in range(20)]
                try:
                    response = http.post(INGEST, content=msgspec.json.encode(batch(records)))
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 202:
                    first = False
                    acknowledged.extend(r["recordId"] for r in records)

    threads = [threading.Thread(target=writer, args=(c,)) for c in range(3)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(acknowledged) < 600 and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        assert acknowledged, "no batch was acknowledged"
        server.kill()  # SIGKILL mid-ingest: writers are still posting
    finally:
        stop.set()
        server.kill()
        for thread in threads:
            thread.join(10)
    store = Store(db)
    try:
        stored: set[str] = set()
        for c in range(3):
            graph = store.graph(f"run_k{c}")
            if graph is not None:
                stored.update(r.recordId for r in graph.records or [])
        assert set(acknowledged) <= stored  # every 202 survived the kill
    finally:
        store.close()
