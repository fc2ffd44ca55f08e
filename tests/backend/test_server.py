"""HTTP routes of the embedded backend, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from records import RunBuilder, batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.store import Store

API = "/api/observability"


def post(backend: EmbeddedBackend, body: object, **kwargs: object) -> httpx.Response:
    return httpx.post(backend.url + f"{API}/records", json=body, **kwargs)


def get(backend: EmbeddedBackend, path: str, **params: object) -> httpx.Response:
    return httpx.get(backend.url + API + path, params=params)


def test_ingest_dispositions(pinned_backend: EmbeddedBackend) -> None:
    run = RunBuilder("r1")
    records = [run.run_start(), {**run.span_start("s", "tool.call"), "family": "agent"}, "junk"]
    response = post(
        pinned_backend, batch(records, source_health={"sourceId": "sdk", "overflowDropped": 2})
    )
    assert response.status_code == 202
    assert response.headers["content-type"].startswith("application/json")
    assert response.text.endswith("\n")
    dispositions = response.json()["dispositions"]
    assert [(d["index"], d["outcome"], d["code"]) for d in dispositions] == [
        (0, "accepted", "accepted"),
        (1, "rejected", "family_mismatch"),
        (2, "rejected", "invalid_record"),
    ]
    assert all(d["retryable"] is False for d in dispositions)
    assert "message" not in dispositions[0] and "primitive" in dispositions[1]["message"]
    row = get(pinned_backend, "/runs/page").json()["rows"][0]
    assert row["deliveryHealth"]["status"] == "degraded"
    assert row["deliveryHealth"]["rejected"] == 3


def test_ingest_bad_bodies(backend: EmbeddedBackend) -> None:
    url = backend.url + f"{API}/records"
    r = httpx.post(url, content=b"{nope", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.text) == (400, "invalid JSON\n")
    assert httpx.post(url, json=[1, 2]).status_code == 400
    r = httpx.post(url, json={"records": [{"recordId": "a"}, {}]})
    assert r.status_code == 422
    assert [d["code"] for d in r.json()["dispositions"]] == ["unsupported_schema_version"] * 2
    assert r.json()["dispositions"][0]["recordId"] == "a"
    assert httpx.post(url, json={"schemaVersion": 1, "records": []}).status_code == 422


def test_ingest_size_limit(backend: EmbeddedBackend) -> None:
    url = backend.url + f"{API}/records"
    big = b'{"schemaVersion":2,"records":[],"pad":"' + b"x" * (1024 * 1024) + b'"}'
    r = httpx.post(url, content=big)
    assert r.status_code == 413

    def chunks():  # no Content-Length: enforced while reading
        for _ in range(20):
            yield b" " * 65536
        yield b"{}"

    r = httpx.post(url, content=chunks())
    assert r.status_code == 413
    assert httpx.get(backend.url + f"{API}/runs/page").status_code == 200


def test_read_routes(pinned_backend: EmbeddedBackend) -> None:
    post(pinned_backend, batch(simple_run("a")))
    post(pinned_backend, batch(simple_run("b", base="2026-05-16T18:00:02", ended=False)))
    page = get(pinned_backend, "/runs/page", limit=1).json()
    assert page["revision"] == 2 and [r["runId"] for r in page["rows"]] == ["b"]
    rest = get(pinned_backend, "/runs/page", cursor=page["nextCursor"]).json()
    assert (
        [r["runId"] for r in rest["rows"]] == ["a"] and "nextCursor" not in rest
    ) or not rest.get("nextCursor")
    assert [
        r["runId"] for r in get(pinned_backend, "/runs/page", status="ok,error").json()["rows"]
    ] == ["a"]
    assert get(pinned_backend, "/runs/page", cursor="!!").status_code == 400

    delta = get(pinned_backend, "/runs/delta", since=1).json()
    assert delta["revision"] == 2 and [c["id"] for c in delta["changes"]] == ["b"]
    assert delta["expired"] is False
    bad = get(pinned_backend, "/runs/delta", since="x")
    assert (bad.status_code, bad.text) == (400, "invalid since query parameter\n")

    detail = get(pinned_backend, "/runs/a").json()
    for key in (
        "schemaVersion",
        "run",
        "root",
        "rows",
        "spanIndex",
        "facets",
        "diagnostics",
        "counts",
    ):
        assert key in detail
    assert detail["run"]["runId"] == "a"
    assert get(pinned_backend, "/runs/trace_a").json()["run"]["runId"] == "a"

    graph = get(pinned_backend, "/runs/a/graph").json()
    assert graph["run"]["runId"] == "a" and len(graph["spans"]) == 3
    assert {r["type"] for r in graph["records"]} >= {"run:start", "span:event"}
    assert all(isinstance(r["payloadJson"], str) for r in graph["records"])

    events = get(pinned_backend, "/runs/a/spans/gen/events", name="token.chunk").json()
    assert [e["name"] for e in events] == ["token.chunk"]
    assert (
        get(pinned_backend, "/runs/a/spans/gen/events", limit=1).json()[0]["name"]
        == "usage.observed"
    )


@pytest.mark.parametrize(
    "path", ["/runs/nope", "/runs/nope/graph", "/runs/nope/spans/s/events", "/unknown"]
)
def test_not_found_is_plain_text(backend: EmbeddedBackend, path: str) -> None:
    r = get(backend, path)
    assert (r.status_code, r.text) == (404, "not found\n")
    assert r.headers["content-type"].startswith("text/plain")


def test_busy_database_answers_503(
    make_backend: Callable[..., EmbeddedBackend], tmp_path: Path
) -> None:
    path = tmp_path / "db.sqlite3"
    store = Store(path, busy_timeout_ms=50)
    backend = make_backend(store=store)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        r = post(backend, batch(simple_run("a")))
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert post(backend, batch(simple_run("a"))).status_code == 202
    assert get(backend, "/runs/a/graph").json()["run"]["recordCount"] == len(simple_run("a"))
    backend.stop()
    store.close()


def test_listening_socket_says_tcp_so_responses_are_not_delayed() -> None:
    """asyncio sets TCP_NODELAY on accepted sockets only when the listener's proto is TCP;
    without it every keep-alive response waits for a delayed ACK (~40 ms)."""
    import socket

    from crux_tui.backend.embedded import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_in_process_backend_never_writes_logs_over_the_tui() -> None:
    """Server log lines (e.g. a request cancelled at shutdown) stay off the terminal."""
    import subprocess
    import sys

    script = (
        "import logging\n"
        "from crux_tui.backend.embedded import EmbeddedBackend\n"
        "with EmbeddedBackend():\n"
        "    logging.getLogger('uvicorn.error').error('Exception in ASGI application')\n"
        "    logging.getLogger('uvicorn').warning('timeout graceful shutdown exceeded')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "ASGI" not in result.stderr and "graceful" not in result.stderr
