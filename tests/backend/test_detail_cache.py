"""The RunDetail cache of settled runs, seen from outside over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from records import RunBuilder, batch, simple_run

from crux_tui.backend.detail_cache import DetailCache
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


def test_cache_is_bounded_by_bytes() -> None:
    cache = DetailCache(max_bytes=10)
    cache.put("a", 1, False, b"12345")
    cache.put("b", 1, False, b"12345")
    assert cache.get("a", 1, False) == b"12345"  # a is now the most recent
    cache.put("c", 1, False, b"123")
    assert cache.get("b", 1, False) is None and cache.get("a", 1, False) == b"12345"
    cache.put("huge", 1, False, b"x" * 11)
    assert cache.get("huge", 1, False) is None
    assert cache.get("a", 2, False) is None and cache.get("a", 1, True) is None
    assert cache.size_bytes <= 10


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
