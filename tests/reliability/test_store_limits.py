"""Bounded resources under hostile load (issue #13 items 4, 6, 7 and 10)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from records import RunBuilder, batch, simple_run

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
        samples: dict[int, set[int]] = {}  # readers open -> fds seen with that many
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
            samples.setdefault(store.open_reader_count(), set()).add(counts[-1])
        assert store.open_reader_count() <= READER_POOL_SIZE
        # each connection holds the database and its WAL: a few fds per pooled reader
        assert max(counts) - baseline <= 3 * READER_POOL_SIZE, (baseline, counts)
        # flat once the pool holds as many readers as the bursts needed: the fds follow the
        # pooled connections (how many a burst needs depends on the scheduler), never the
        # threads that came and went
        assert all(len(fds) == 1 for fds in samples.values()), samples
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


@pytest.mark.parametrize("version", [2, 5])
def test_a_batch_over_the_record_limit_is_one_line(backend: EmbeddedBackend, version: int) -> None:
    ones = ",".join(["1"] * 500_000)
    body = (f'{{"schemaVersion":{version},"records":[' + ones + "]}").encode()
    assert len(body) < 1024 * 1024  # under the byte limit: the record count is what counts
    r = post_raw(backend, body)
    assert r.status_code == 413
    assert r.text.count("\n") == 1 and "10000 records per batch" in r.text


@pytest.mark.parametrize("version", [2, 3, 4, 5, 99])
def test_the_answer_is_never_much_bigger_than_the_request(
    backend: EmbeddedBackend, version: int
) -> None:
    ones = ",".join(["1"] * 10_000)
    body = f'{{"schemaVersion":{version},"records":[{ones}]}}'.encode()
    r = post_raw(backend, body)
    assert r.status_code == (422 if version == 99 else 202)
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


# ---------------------------------------------------------------------- item 7

WRITERS = 16


def _read_ids(
    url: str, stop: threading.Event, out: list[int], headers: dict[str, str] | None = None
) -> None:
    """Collect SSE ids from one stream until ``stop`` is set (checked at every line)."""
    with httpx.stream("GET", url, headers=headers or {}, timeout=30) as response:
        for line in response.iter_lines():
            if line.startswith("id: "):
                out.append(int(line[4:]))
            if stop.is_set():
                return


def _wait(predicate: Callable[[], bool], limit: float = 60) -> None:
    event = threading.Event()
    for _ in range(int(limit / 0.01)):
        if predicate():
            return
        event.wait(0.01)


def test_sse_ids_increase_under_concurrent_writers_and_resume_without_a_gap(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """Sixteen writers post finished runs (one deletes each of its runs again) while the
    lifecycle ticker reconciles 150 stale ones (its revisions land between theirs). Every
    stream sees every revision once, in order, and a viewer that reconnects with
    Last-Event-ID misses nothing."""
    backend = make_backend(lifecycle_interval=0.02, keepalive=0.05, clock="2026-05-16T19:00:00Z")
    api = backend.url + "/api/observability"
    stop_all, stop_first = threading.Event(), threading.Event()
    whole: list[int] = []
    first_part: list[int] = []
    readers = [
        threading.Thread(target=_read_ids, args=(api + "/stream", stop_all, whole), daemon=True),
        threading.Thread(
            target=_read_ids, args=(api + "/stream", stop_first, first_part), daemon=True
        ),
    ]
    for reader in readers:
        reader.start()
    _wait(lambda: backend.bus.subscriber_count() == 2)  # subscribed before anything is written
    assert backend.bus.subscriber_count() == 2

    def writer(n: int) -> None:
        with httpx.Client(timeout=30) as client:
            if n == 0:  # runs left running an hour ago: the ticker reconciles them
                for chunk in range(3):
                    stale = [
                        r for k in range(50) for r in simple_run(f"stale{chunk}_{k}", ended=False)
                    ]
                    assert client.post(api + "/records", json=batch(stale)).status_code == 202
            for i in range(40):
                r = client.post(api + "/records", json=batch(simple_run(f"w{n}_{i}")))
                assert r.status_code == 202
                if n == 2:  # a delete is a revision of its own, published like the others
                    assert client.delete(api + f"/runs/w{n}_{i}").status_code == 200
                if n == 1 and i == 10:
                    stop_first.set()  # the second viewer drops mid-way...

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads hand over often: races show up, not once a day
    try:
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(120)
    finally:
        sys.setswitchinterval(interval)
    # finished runs, deletes, stale runs, their reconciliations
    final = WRITERS * 40 + 40 + 150 + 150

    def revision() -> int:
        return httpx.get(api + "/runs/delta", params={"since": final}).json()["revision"]

    _wait(lambda: revision() >= final)
    assert revision() == final
    # ...and reconnects with the last id it saw
    rest: list[int] = []
    resume = threading.Event()
    headers = {"Last-Event-ID": str(first_part[-1])}
    again = threading.Thread(
        target=_read_ids, args=(api + "/stream", resume, rest, headers), daemon=True
    )
    again.start()
    _wait(lambda: bool(whole) and whole[-1] >= final and bool(rest) and rest[-1] >= final)
    stop_all.set()
    resume.set()
    assert whole == list(range(1, final + 1)), "out of order or missing"
    assert first_part == list(range(1, len(first_part) + 1))
    assert first_part + rest == list(range(1, final + 1)), "a gap after the reconnect"


# ---------------------------------------------------------------------- item 10


def untimed(records: list[dict]) -> list[dict]:
    times = ("startedAt", "endedAt", "timestamp", "createdAt")
    return [{k: v for k, v in r.items() if k not in times} for r in records]


def test_runs_without_timestamps_are_projected_once_not_every_tick(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """A running run with no timestamp cannot change status without a new record: the
    ticker projects it once, not every second forever (18k of them held half a core)."""
    backend = make_backend(lifecycle_interval=0.01)
    api = backend.url + "/api/observability"
    r = httpx.post(api + "/records", json=batch(untimed(simple_run("still", ended=False))))
    assert r.status_code == 202 and all(
        d["outcome"] == "accepted" for d in r.json()["dispositions"]
    )
    ticker = backend.app.state.lifecycle
    _wait(lambda: ticker.projections >= 1)
    passes = ticker.passes
    _wait(lambda: ticker.passes >= passes + 20)
    assert ticker.passes >= passes + 20
    assert ticker.projections == 1
    # a new record moves its revision: it is looked at again (once)
    more = untimed(simple_run("still", ended=False))[1:2]
    more[0] = {**more[0], "recordId": "more", "spanId": "more", "segmentSeq": 99}
    assert httpx.post(api + "/records", json=batch(more)).status_code == 202
    _wait(lambda: ticker.projections >= 2)
    passes = ticker.passes
    _wait(lambda: ticker.passes >= passes + 20)
    assert ticker.projections == 2
    assert httpx.get(api + "/runs/page").json()["rows"][0]["status"] == "running"


def test_an_operation_whose_members_cannot_change_is_projected_once(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """The same rule for an operation (v5): its member runs are settled one by one, and the
    operation is projected once for all of them; a new record for one member projects it
    once more."""
    backend = make_backend(lifecycle_interval=0.01)
    api = backend.url + "/api/observability"
    root = RunBuilder("op_still", schema_version=5)
    child = RunBuilder("child_still", schema_version=5, operation_id="op_still")
    records = untimed(
        [
            root.run_start(name="root"),
            root.span_start("agent", "agent.run"),
            child.run_start(name="child", parentRunId="op_still", triggeredBySpanId="agent"),
            child.span_start("work", "runtime.convex.action"),
        ]
    )
    r = httpx.post(api + "/records", json=batch(records))
    assert r.status_code == 202 and all(
        d["outcome"] == "accepted" for d in r.json()["dispositions"]
    ), r.json()
    ticker = backend.app.state.lifecycle
    _wait(lambda: ticker.projections >= 1)
    passes = ticker.passes
    _wait(lambda: ticker.passes >= passes + 20)
    assert ticker.passes >= passes + 20
    assert ticker.projections == 1  # one projection of the operation for both members
    more = untimed([child.span_start("more", "runtime.convex.action", parent="work")])
    assert httpx.post(api + "/records", json=batch(more)).status_code == 202
    _wait(lambda: ticker.projections >= 2)
    passes = ticker.passes
    _wait(lambda: ticker.passes >= passes + 20)
    assert ticker.projections == 2
    rows = httpx.get(api + "/runs/page").json()["rows"]
    assert [(row["runId"], row["status"]) for row in rows] == [("op_still", "running")]
