"""What a client of the embedded backend sees on the wire, route by route, over real HTTP on
127.0.0.1: the media type and trailing newline of the JSON answers, the plain-text line of
every refusal, the defaults of the query parameters and the names they are read under.
Each test states one rule (issue #18: written against mutants of ``backend/server.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from records import RunBuilder, batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.ingest_limits import MAX_BATCH_RECORDS
from crux_tui.backend.store import Store

API = "/api/observability"


def url(backend: EmbeddedBackend, path: str) -> str:
    return backend.url + API + path


def post(backend: EmbeddedBackend, body: object) -> httpx.Response:
    return httpx.post(url(backend, "/records"), json=body, timeout=30)


def is_json_line(response: httpx.Response) -> bool:
    """Exactly ``application/json`` (as Crux sends it) and one trailing newline."""
    return (
        response.headers["content-type"] == "application/json"
        and response.text.endswith("\n")
        and not response.text.endswith("\n\n")
    )


def is_text_line(response: httpx.Response, status: int, message: str) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"].startswith("text/plain")
        and response.text == message + "\n"
    )


def test_every_json_answer_is_application_json_ending_in_one_newline(
    pinned_backend: EmbeddedBackend,
) -> None:
    accepted = post(pinned_backend, batch(simple_run("a")))
    assert accepted.status_code == 202 and is_json_line(accepted)
    post(pinned_backend, batch(simple_run("b", base="2026-05-16T18:00:02", ended=False)))
    unversioned = httpx.post(url(pinned_backend, "/records"), json={"records": [{}]})
    assert unversioned.status_code == 422 and is_json_line(unversioned)
    for path in ("/runs/page", "/runs/delta", "/runs/a/graph", "/runs/a/spans/gen/events"):
        response = httpx.get(url(pinned_backend, path))
        assert response.status_code == 200 and is_json_line(response), path
    settled, running = (
        httpx.get(url(pinned_backend, "/runs/a")),
        httpx.get(url(pinned_backend, "/runs/b")),
    )
    for response in (settled, running):  # whole bodies: the rows, not a line of their own
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["run"]["runId"] in ("a", "b")
    deleted = httpx.delete(url(pinned_backend, "/runs/a"))
    assert deleted.status_code == 200 and is_json_line(deleted)
    assert deleted.json() == {
        "operationIds": ["a"],
        "revision": pinned_backend.store.revision(),
    }


def test_an_accepted_batch_says_no_retry_after(backend: EmbeddedBackend) -> None:
    """``Retry-After`` goes with a refusal to retry (503), never with an accepted batch."""
    accepted = post(backend, batch(simple_run("a")))
    assert accepted.status_code == 202
    assert "retry-after" not in accepted.headers


def test_a_body_over_the_limit_is_refused_with_one_plain_line(backend: EmbeddedBackend) -> None:
    big = b'{"schemaVersion":2,"records":[],"pad":"' + b"x" * (1024 * 1024) + b'"}'
    announced = httpx.post(url(backend, "/records"), content=big)
    assert is_text_line(announced, 413, "Request Entity Too Large")

    def chunks():  # no Content-Length: counted while reading
        for _ in range(20):
            yield b" " * 65536

    streamed = httpx.post(url(backend, "/records"), content=chunks())
    assert is_text_line(streamed, 413, "Request Entity Too Large")


def test_a_malformed_batch_is_refused_with_its_reason(backend: EmbeddedBackend) -> None:
    not_object = httpx.post(url(backend, "/records"), json=[1, 2])
    assert is_text_line(not_object, 400, "batch must be a JSON object")
    not_array = httpx.post(url(backend, "/records"), json={"schemaVersion": 2, "records": 1})
    assert is_text_line(not_array, 400, "batch.records must be an array")
    bad_json = httpx.post(url(backend, "/records"), content=b"{nope")
    assert is_text_line(bad_json, 400, "invalid JSON")


def test_a_batch_of_exactly_the_record_limit_is_read(backend: EmbeddedBackend) -> None:
    """At most ``MAX_BATCH_RECORDS`` records a batch: exactly that many are answered one by
    one; one more is refused with one plain line (413)."""
    at_limit = ",".join(["1"] * MAX_BATCH_RECORDS)
    body = f'{{"schemaVersion":2,"records":[{at_limit}]}}'.encode()
    assert httpx.post(url(backend, "/records"), content=body, timeout=60).status_code == 202
    over = f'{{"schemaVersion":2,"records":[{at_limit},1]}}'.encode()
    refused = httpx.post(url(backend, "/records"), content=over, timeout=60)
    message = (
        f"batch of {MAX_BATCH_RECORDS + 1} records is over the limit of {MAX_BATCH_RECORDS}"
        " records per batch"
    )
    assert is_text_line(refused, 413, message)


def test_a_busy_store_refuses_the_batch_for_now(
    make_backend: Callable[..., EmbeddedBackend], tmp_path: Path
) -> None:
    import sqlite3

    path = tmp_path / "db.sqlite3"
    store = Store(path, busy_timeout_ms=50)
    backend = make_backend(store=store)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        refused = post(backend, batch(simple_run("a")))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert is_text_line(refused, 503, "observability store busy")
    assert refused.headers["retry-after"] == "1"
    backend.stop()
    store.close()


def test_a_closed_store_answers_reads_with_503_and_retry_after(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """A read the store cannot serve for now (closing: shutting down) is 503 + Retry-After,
    not a 500."""
    store = Store(":memory:")
    backend = make_backend(store=store)
    store.close()
    for path in ("/runs/page", "/runs/delta"):
        response = httpx.get(url(backend, path))
        assert is_text_line(response, 503, "observability service unavailable"), path
        assert response.headers["retry-after"] == "1"


def test_another_method_on_a_route_is_405_in_plain_text(backend: EmbeddedBackend) -> None:
    response = httpx.put(url(backend, "/runs/page"))
    assert is_text_line(response, 405, "method not allowed")
    assert is_text_line(httpx.delete(url(backend, "/runs/nope")), 404, "not found")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "abc"}, "invalid limit query parameter"),
        ({"limit": "1" * 20}, "limit query parameter out of range (expected a 64-bit integer)"),
        (
            {"limit": "0" * 40 + "1"},
            "limit query parameter out of range (expected a 64-bit integer)",
        ),
        (
            {"limit": str(-(2**63) - 1)},
            "limit query parameter out of range (expected a 64-bit integer)",
        ),
    ],
)
def test_a_bad_number_in_the_query_is_400_saying_which(
    backend: EmbeddedBackend, params: dict[str, str], message: str
) -> None:
    """Numbers SQLite can bind (64-bit) written in at most 40 characters; anything else is
    400 naming the parameter."""
    assert is_text_line(httpx.get(url(backend, "/runs/page"), params=params), 400, message)


def test_numbers_in_the_query_are_read_up_to_forty_characters(backend: EmbeddedBackend) -> None:
    for i in range(3):
        post(backend, batch(simple_run(f"r{i}", base=f"2026-05-16T1{i}:00:00")))
    padded = "0" * 39 + "2"  # 40 characters: still a number
    page = httpx.get(url(backend, "/runs/page"), params={"limit": padded})
    assert page.status_code == 200 and len(page.json()["rows"]) == 2
    edge = httpx.get(url(backend, "/runs/page"), params={"limit": str(2**63 - 1)})
    assert edge.status_code == 200 and len(edge.json()["rows"]) == 3
    empty = httpx.get(url(backend, "/runs/page"), params={"limit": ""})  # as if absent
    assert empty.status_code == 200 and len(empty.json()["rows"]) == 3


def test_page_filters_are_read_from_their_query_names(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """``status`` (comma-separated, spaces and empty items ignored), ``sessionId``, ``since``,
    ``until``: each narrows the page over HTTP."""
    pinned_backend = make_backend(lifecycle_interval=None)  # the open runs stay running
    for i in range(5):
        post(
            pinned_backend,
            batch(
                simple_run(
                    f"r{i}",
                    base=f"2026-05-16T1{i}:00:00",
                    ended=i % 2 == 0,
                    session_id="even" if i % 2 == 0 else "odd",
                )
            ),
        )

    def ids(**params: str) -> list[str]:
        response = httpx.get(url(pinned_backend, "/runs/page"), params=params)
        assert response.status_code == 200, response.text
        return [row["runId"] for row in response.json()["rows"]]

    assert ids() == ["r4", "r3", "r2", "r1", "r0"]
    assert ids(status=" running , ,") == ["r3", "r1"]
    assert ids(status=" ok ,running") == ["r4", "r3", "r2", "r1", "r0"]
    assert ids(sessionId="odd") == ["r3", "r1"]
    assert ids(since="2026-05-16T12:00:00Z") == ["r4", "r3", "r2"]
    assert ids(until="2026-05-16T12:00:00Z") == ["r2", "r1", "r0"]
    assert ids(sessionId="", since="", until="", cursor="", status="") == ids()
    first = httpx.get(url(pinned_backend, "/runs/page"), params={"limit": 2}).json()
    assert ids(cursor=first["nextCursor"], limit="2") == ["r2", "r1"]


def test_delta_without_since_lists_every_change(pinned_backend: EmbeddedBackend) -> None:
    post(pinned_backend, batch(simple_run("a")))
    post(pinned_backend, batch(simple_run("b")))
    for params in ({}, {"since": ""}, {"since": "0"}):
        delta = httpx.get(url(pinned_backend, "/runs/delta"), params=params).json()
        assert [c["id"] for c in delta["changes"]] == ["a", "b"], params
    later = httpx.get(url(pinned_backend, "/runs/delta"), params={"since": "1"}).json()
    assert [c["id"] for c in later["changes"]] == ["b"]


def test_span_events_come_200_at_a_time_unless_asked(pinned_backend: EmbeddedBackend) -> None:
    """The span-events route answers at most 200 events by default, and for a ``limit`` that
    is not positive; a positive ``limit`` is obeyed; ``name`` and ``after`` narrow."""
    run = RunBuilder("e")
    records = [run.run_start()] + [run.event("s", "token.chunk", at=100 + i) for i in range(205)]
    records.append(run.event("s", "usage.observed", at=50))
    post(pinned_backend, batch(records))

    def count(**params: str) -> int:
        response = httpx.get(url(pinned_backend, "/runs/e/spans/s/events"), params=params)
        assert response.status_code == 200
        return len(response.json())

    assert count() == 200
    assert count(limit="0") == 200 and count(limit="-3") == 200 and count(limit="") == 200
    assert count(limit="201") == 201 and count(limit="1000") == 206
    assert count(name="usage.observed") == 1
    assert count(after="2026-05-16T18:00:00.300Z", limit="1000") == 4
    bad = httpx.get(url(pinned_backend, "/runs/e/spans/s/events"), params={"after": "soon"})
    assert is_text_line(bad, 400, "invalid after query parameter")


def test_a_running_run_detail_is_tagged_and_says_where_its_head_ends(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """A running operation's full RunDetail carries its tag and its head length; a delta
    names its base and has no head; once the operation has settled, the answer carries no
    tag at all (there is nothing to refetch a delta against)."""
    import msgspec

    from crux_tui.contract.delta import DELTA_BASE_HEADER, DETAIL_TAG_HEADER
    from crux_tui.contract.models import HEAD_LENGTH_HEADER, RunDetailHead

    backend = make_backend(clock="2026-05-16T18:00:05Z", lifecycle_interval=None)
    run = RunBuilder("live")
    post(backend, batch([run.run_start(), run.span("s")]))
    full = httpx.get(url(backend, "/runs/live"))
    tag, head_length = full.headers[DETAIL_TAG_HEADER], int(full.headers[HEAD_LENGTH_HEADER])
    head = msgspec.json.decode(full.content[:head_length] + b"}", type=RunDetailHead)
    assert head.run.runId == "live" and DELTA_BASE_HEADER not in full.headers
    delta = httpx.get(url(backend, "/runs/live"), params={"since": tag})
    assert delta.headers[DELTA_BASE_HEADER] == tag
    assert HEAD_LENGTH_HEADER not in delta.headers and delta.headers[DETAIL_TAG_HEADER] != tag
    post(backend, batch([run.run_end()]))
    settled = httpx.get(
        url(backend, "/runs/live"), params={"since": delta.headers[DETAIL_TAG_HEADER]}
    )
    assert settled.status_code == 200 and DETAIL_TAG_HEADER not in settled.headers
    assert msgspec.json.decode(settled.content)["run"]["status"] == "ok"


def test_a_delete_the_store_cannot_serve_now_is_503(
    make_backend: Callable[..., EmbeddedBackend], tmp_path: Path
) -> None:
    """Deleting while another writer holds the database, or while the store closes, is a
    503 with Retry-After (try again), not a 500."""
    import sqlite3

    path = tmp_path / "db.sqlite3"
    store = Store(path, busy_timeout_ms=50)
    backend = make_backend(store=store, lifecycle_interval=None)
    assert post(backend, batch(simple_run("a"))).status_code == 202
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        busy = httpx.delete(url(backend, "/runs/a"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert is_text_line(busy, 503, "observability service unavailable")
    assert busy.headers["retry-after"] == "1"
    store.close()
    closed = httpx.delete(url(backend, "/runs/a"))
    assert is_text_line(closed, 503, "observability service unavailable")
    backend.stop()


def test_span_events_of_an_untraced_run_say_no_trace(pinned_backend: EmbeddedBackend) -> None:
    run = RunBuilder("plain", trace_id="")
    post(pinned_backend, batch([run.run_start(), run.event("s", "note")]))
    (event,) = httpx.get(url(pinned_backend, "/runs/plain/spans/s/events")).json()
    assert event["traceId"] == ""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/records"),
        ("POST", "/runs/page"),
        ("POST", "/runs/delta"),
        ("POST", "/stream"),
        ("PUT", "/runs/a"),
        ("POST", "/runs/a/graph"),
        ("POST", "/runs/a/spans/gen/events"),
    ],
)
def test_each_route_answers_only_its_methods(
    pinned_backend: EmbeddedBackend, method: str, path: str
) -> None:
    """Another method on a route is 405 and does nothing (a PUT on a run deletes nothing)."""
    post(pinned_backend, batch(simple_run("a")))
    response = httpx.request(method, url(pinned_backend, path), json={})
    assert is_text_line(response, 405, "method not allowed")
    assert httpx.get(url(pinned_backend, "/runs/a/graph")).status_code == 200


def test_a_run_detail_streamed_from_disk_is_json_too(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    from crux_tui.backend.detail_cache import DetailCache

    backend = make_backend(clock="2026-05-16T18:00:05Z", detail_cache=DetailCache(spill_bytes=1))
    post(backend, batch(simple_run("a")))
    for _ in range(2):  # projected, then served from the spilled cache
        response = httpx.get(url(backend, "/runs/a"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["run"]["runId"] == "a"


def test_a_clock_without_a_zone_is_read_as_utc() -> None:
    """``--clock`` / ``clock=`` given without a time zone is UTC (never the local zone); no
    clock is the wall clock, in UTC."""
    from datetime import UTC, datetime, timedelta, timezone

    from crux_tui.backend.server import make_clock

    pinned = datetime(2026, 5, 16, 18, 0, 5, tzinfo=UTC)
    assert make_clock("2026-05-16T18:00:05")() == pinned
    assert make_clock("2026-05-16T18:00:05Z")() == pinned
    assert make_clock(datetime(2026, 5, 16, 18, 0, 5))() == pinned
    east = datetime(2026, 5, 16, 20, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert make_clock(east)() == pinned  # a zone given is kept: the same instant
    assert make_clock(None)().tzinfo is UTC
