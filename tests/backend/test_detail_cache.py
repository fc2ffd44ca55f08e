"""The RunDetail cache of settled runs, seen from outside over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from records import RunBuilder, batch, simple_run

from crux_tui.backend.detail_cache import DetailBody, DetailCache
from crux_tui.backend.embedded import EmbeddedBackend

API = "/api/observability"


class MovableClock:
    def __init__(self, start: str) -> None:
        self.now = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


def _detail(backend: EmbeddedBackend, ref: str) -> httpx.Response:
    response = httpx.get(f"{backend.url}{API}/runs/{ref}")
    assert response.status_code == 200
    return response


def test_settled_run_is_served_again_until_a_record_lands(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    backend = make_backend(clock=MovableClock("2026-05-16T18:00:05Z"))
    cache: DetailCache = backend.app.state.detail_cache
    assert (
        httpx.post(f"{backend.url}{API}/records", json=batch(simple_run("r1"))).status_code == 202
    )

    first = _detail(backend, "r1")
    hits = cache.hits  # 0, or 1 if the background warmer was faster than this read
    second = _detail(backend, "r1")
    assert first.content == second.content
    assert cache.hits == hits + 1

    # A late record for the settled run: the next read must show it.
    late = RunBuilder("r1", segment_id="late")
    span = late.span("late-tool", "tool.call", parent="agent", at=950, end=960, toolName="fetch")
    assert httpx.post(f"{backend.url}{API}/records", json=batch([span])).status_code == 202
    third = _detail(backend, "r1")
    assert "late-tool" in third.json()["spanIndex"]
    assert "late-tool" not in first.json()["spanIndex"]
    assert third.json() == _detail(backend, "r1").json()


def test_open_run_is_projected_at_each_read(make_backend: Callable[..., EmbeddedBackend]) -> None:
    clock = MovableClock("2026-05-16T18:00:05Z")
    backend = make_backend(clock=clock)
    cache: DetailCache = backend.app.state.detail_cache
    run = RunBuilder("r2")
    records = [run.run_start(), run.span_start("agent", "agent.run", name="agent")]
    assert httpx.post(f"{backend.url}{API}/records", json=batch(records)).status_code == 202

    before = _detail(backend, "r2").json()
    assert before["run"]["status"] == "running"
    clock.now += timedelta(minutes=5)  # no record for five minutes: the run goes stale
    after = _detail(backend, "r2").json()
    assert after["run"]["status"] != "running"
    assert "stale-boundary" in {d["code"] for d in after["diagnostics"] or []}
    assert cache.hits == 0 and cache.size_bytes == 0


def _body(data: bytes, spill: bool = False) -> DetailBody:
    return DetailBody(data, len(data) - 1, spill=spill)


def test_cache_is_bounded_by_bytes() -> None:
    cache = DetailCache(max_bytes=10)
    cache.put("a", 1, False, _body(b"12345"))
    cache.put("b", 1, False, _body(b"12345"))
    assert cache.get("a", 1, False).read() == b"12345"  # a is now the most recent
    cache.put("c", 1, False, _body(b"123"))
    assert cache.get("b", 1, False) is None and cache.get("a", 1, False).read() == b"12345"
    cache.put("huge", 1, False, _body(b"x" * 11))
    assert cache.get("huge", 1, False) is None
    assert cache.get("a", 2, False) is None and cache.get("a", 1, True) is None
    assert cache.size_bytes <= 10


def test_big_bodies_live_on_disk_and_stream_back_whole() -> None:
    cache = DetailCache(max_bytes=10, max_disk_bytes=100, spill_bytes=8)
    data = b'{"run":{},"rows":[1,2,3]' + b"x" * 40 + b"}"
    body = cache.body(data, 24)
    assert body.in_memory is None  # spilled: nothing of it held in memory
    cache.put("big", 3, False, body)
    got = cache.get("big", 3, False)
    assert got is not None and got.head_length == 24 and got.length == len(data)
    assert b"".join(got.chunks(size=7)) == data == got.read()
    assert cache.memory_bytes == 0 and cache.size_bytes == len(data)
    # evicted by a newer big body while a reader still holds it: the reader keeps its file
    cache.put("other", 1, False, cache.body(b"y" * 60, 1))
    assert cache.get("big", 3, False) is None
    assert got.read() == data
    # a small body for the same run replaces the spilled one
    cache.put("other", 2, False, cache.body(b"z", 0))
    assert cache.get("other", 1, False) is None and cache.get("other", 2, False).read() == b"z"


def test_concurrent_projections_of_one_revision_share_one_result() -> None:
    import threading
    import time

    cache = DetailCache()
    calls: list[int] = []
    started = threading.Event()

    def slow() -> DetailBody:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return _body(b"{}")

    results: list[DetailBody | None] = []
    first = threading.Thread(target=lambda: results.append(cache.once(("r", 1, False), slow)))
    first.start()
    started.wait(5)
    results.append(cache.once(("r", 1, False), slow))  # waits for the first, computes nothing
    first.join()
    assert len(calls) == 1 and results[0] is results[1]
    cache.once(("r", 2, False), slow)  # another revision is its own projection
    assert len(calls) == 2


def test_a_run_that_ends_is_projected_before_anyone_asks(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    import time

    backend = make_backend(clock=MovableClock("2026-05-16T18:00:05Z"))
    cache: DetailCache = backend.app.state.detail_cache
    run = RunBuilder("open-run")
    open_records = [run.run_start(), run.span_start("agent", "agent.run", name="agent")]
    for body in (batch(simple_run("ended")), batch(open_records)):
        assert httpx.post(f"{backend.url}{API}/records", json=body).status_code == 202
    deadline = time.monotonic() + 10
    while cache.size_bytes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.size_bytes > 0  # warmed in the background, no read yet
    assert cache.hits == 0
    body = _detail(backend, "ended")
    assert cache.hits == 1 and body.json()["run"]["runId"] == "ended"
    _detail(backend, "open-run")  # the open run was never warmed: a miss
    assert cache.hits == 1


def test_rundetail_says_where_its_head_ends(make_backend: Callable[..., EmbeddedBackend]) -> None:
    """The head (run, rows, …) comes first and decodes alone; the body is a whole RunDetail,
    served the same from memory and, for a big body, streamed from disk."""
    import msgspec

    from crux_tui.contract.models import HEAD_LENGTH_HEADER, RunDetail, RunDetailHead

    clock = MovableClock("2026-05-16T18:00:05Z")
    for cache in (DetailCache(), DetailCache(spill_bytes=1)):
        backend = make_backend(clock=clock, detail_cache=cache)
        posted = httpx.post(f"{backend.url}{API}/records", json=batch(simple_run("r1")))
        assert posted.status_code == 202
        bodies = [_detail(backend, "r1") for _ in range(2)]  # projected, then from the cache
        assert bodies[0].content == bodies[1].content
        response = bodies[1]
        assert cache.hits >= 1 and (cache.memory_bytes == 0) == (cache.spill_bytes == 1)
        head_length = int(response.headers[HEAD_LENGTH_HEADER])
        head = msgspec.json.decode(response.content[:head_length] + b"}", type=RunDetailHead)
        whole = msgspec.json.decode(response.content, type=RunDetail)
        assert head.run == whole.run and head.rows == whole.rows and head.rows
        assert head.counts == whole.counts and head.diagnostics == whole.diagnostics
        assert whole.root.id == "run:r1" and whole.spanIndex
        assert int(response.headers["content-length"]) == len(response.content)


def test_without_a_usable_temporary_directory_bodies_stay_in_memory(tmp_path: Path) -> None:
    """Disk trouble never fails a read: the body is served from memory (and kept only if
    it fits the memory budget)."""
    cache = DetailCache(max_bytes=100, spill_bytes=8, spill_dir=str(tmp_path / "missing"))
    body = cache.body(b'{"run":{},"rows":[]' + b" " * 20 + b"}", 18)
    assert body.in_memory is not None and body.read().endswith(b"}")
    cache.put("r", 1, False, body)
    assert cache.get("r", 1, False) is body
    too_big = cache.body(b"x" * 200, 1)
    cache.put("big", 1, False, too_big)
    assert cache.get("big", 1, False) is None and too_big.read() == b"x" * 200


async def test_warmer_waits_until_a_run_stops_receiving_records() -> None:
    """Late batches for an ended run (or an import) are projected once, when they stop."""
    import asyncio

    from crux_tui.backend.details import DetailWarmer
    from crux_tui.backend.store import Store

    store = Store(":memory:")
    store.ingest_batch(simple_run("r"))  # an ended run
    cache = DetailCache()
    warmer = DetailWarmer(store, cache, MovableClock("2026-05-16T18:00:05Z"), delay=1.0)
    task = asyncio.create_task(warmer.run())
    try:
        for _ in range(30):  # a batch every 50 ms for 1.5 s, longer than the delay
            warmer.schedule("r")
            await asyncio.sleep(0.05)
        assert cache.size_bytes == 0  # still changing: not projected yet
        for _ in range(200):
            if cache.size_bytes:
                break
            await asyncio.sleep(0.05)
        assert cache.size_bytes > 0  # quiet for a second: projected
    finally:
        task.cancel()
        store.close()
