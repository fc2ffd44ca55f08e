"""Bounded resources under hostile load (issue #13 items 4, 6, 7 and 10)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import httpx
import pytest
from records import batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.store import READER_POOL_SIZE, Store


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_bursts_of_reads_from_new_threads_keep_file_descriptors_bounded(tmp_path: Path) -> None:
    """Worker threads come and go (the server's pool retires idle ones): each burst of
    reads runs on fresh threads, with a pause between bursts. The reader connections
    stay pooled and bounded instead of one per thread that ever read."""
    store = Store(tmp_path / "fd.sqlite3")
    try:
        store.ingest_batch(batch(simple_run("a"))["records"])
        store.runs_page()
        baseline = open_fds()
        counts = []
        for _ in range(6):
            go = threading.Event()

            def read(go: threading.Event = go) -> None:
                go.wait(10)
                for _ in range(3):
                    assert store.runs_page().rows
                    assert store.graph("a") is not None

            threads = [threading.Thread(target=read) for _ in range(24)]
            for thread in threads:
                thread.start()
            go.set()  # all at once: as many concurrent readers as threads
            for thread in threads:
                thread.join(30)
            counts.append(open_fds())
        assert store.open_reader_count() <= READER_POOL_SIZE
        # each connection holds the database and its WAL: a few fds per pooled reader
        assert max(counts) - baseline <= 3 * READER_POOL_SIZE, (baseline, counts)
        assert counts[-1] == counts[1], counts  # flat after the pool has filled
    finally:
        store.close()
    assert store.open_reader_count() == 0


# ---------------------------------------------------------------------- item 6


def post_raw(backend: EmbeddedBackend, body: bytes) -> httpx.Response:
    return httpx.post(
        backend.url + "/api/observability/records",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def test_a_batch_over_the_record_limit_is_one_line(backend: EmbeddedBackend) -> None:
    ones = ",".join(["1"] * 500_000)
    body = ('{"schemaVersion":2,"records":[' + ones + "]}").encode()
    assert len(body) < 1024 * 1024  # under the byte limit: the record count is what counts
    r = post_raw(backend, body)
    assert r.status_code == 413
    assert r.text.count("\n") == 1 and "10000 records per batch" in r.text


@pytest.mark.parametrize("version", [2, 99])
def test_the_answer_is_never_much_bigger_than_the_request(
    backend: EmbeddedBackend, version: int
) -> None:
    ones = ",".join(["1"] * 10_000)
    body = f'{{"schemaVersion":{version},"records":[{ones}]}}'.encode()
    r = post_raw(backend, body)
    assert r.status_code == (202 if version == 2 else 422)
    assert len(r.content) <= 2 * len(body), (len(r.content), len(body))
    dispositions = r.json()["dispositions"]
    assert len(dispositions) == 1
    assert dispositions[0]["index"] == 0 and dispositions[0]["outcome"] == "rejected"
    assert "and 9999 more records rejected the same way" in dispositions[0]["message"]


def test_a_normal_batch_still_gets_one_disposition_per_record(backend: EmbeddedBackend) -> None:
    records = [*simple_run("a"), 1, 2, {"recordId": "x"}]
    r = httpx.post(backend.url + "/api/observability/records", json=batch(records))
    assert r.status_code == 202
    assert [d["index"] for d in r.json()["dispositions"]] == list(range(len(records)))
    bad_version = httpx.post(
        backend.url + "/api/observability/records", json={"schemaVersion": 9, "records": records}
    )
    assert bad_version.status_code == 422
    assert len(bad_version.json()["dispositions"]) == len(records)
