"""Token and Origin checks (issue #7)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from records import batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend, is_loopback

API = "/api/observability"


def test_token_protects_reads_and_ingest(make_backend: Callable[..., EmbeddedBackend]) -> None:
    backend = make_backend(token="s3cret")
    page = backend.url + f"{API}/runs/page"
    ingest = backend.url + f"{API}/records"
    r = httpx.get(page)
    assert (r.status_code, r.text) == (401, "unauthorized\n")
    assert httpx.get(page, params={"t": "wrong"}).status_code == 401
    assert httpx.get(page, params={"t": "s3cret"}).status_code == 200
    body = batch(simple_run("a"))
    assert httpx.post(ingest, json=body).status_code == 401
    assert (
        httpx.post(ingest, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert (
        httpx.post(ingest, json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 202
    )
    assert httpx.post(ingest, json=body, params={"t": "s3cret"}).status_code == 202
    # the ingest bearer does not grant reads
    assert httpx.get(page, headers={"Authorization": "Bearer s3cret"}).status_code == 401
    assert httpx.get(backend.url + f"{API}/stream", params={"t": "bad"}).status_code == 401


def test_cross_origin_requests_are_denied(backend: EmbeddedBackend) -> None:
    page = backend.url + f"{API}/runs/page"
    r = httpx.get(page, headers={"Origin": "https://evil.example"})
    assert (r.status_code, r.text) == (403, "cross-origin request denied\n")
    r = httpx.post(
        backend.url + f"{API}/records", json=batch(simple_run("a")), headers={"Origin": "null"}
    )
    assert r.status_code == 403
    ok = httpx.get(page, headers={"Origin": "http://localhost:5173"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://localhost:5173"
    same = httpx.get(page, headers={"Origin": backend.url})
    assert same.status_code == 200
    assert httpx.get(page).status_code == 200  # no Origin: a TUI or SDK


def test_binds_loopback_by_default(backend: EmbeddedBackend) -> None:
    assert backend.url.startswith("http://127.0.0.1:")
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
