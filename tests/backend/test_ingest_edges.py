"""The edges of ingest, over real HTTP against the embedded backend: each test states one
rule (an empty ``runId``, the first of two records with one ``recordId``, the exact body
limit, a ``span:end`` without ``spanId``) and fails when the rule is bent by one step."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.server import MAX_BODY_BYTES

API = "/api/observability"


def post(backend: EmbeddedBackend, body: object) -> httpx.Response:
    return httpx.post(backend.url + f"{API}/records", json=body)


def dispositions(response: httpx.Response) -> list[tuple[int, str, str]]:
    return [(d["index"], d["outcome"], d["code"]) for d in response.json()["dispositions"]]


def test_an_empty_run_id_is_rejected_as_an_invalid_record(backend: EmbeddedBackend) -> None:
    """``runId`` must be a non-empty string: "" is no run (it is not merely "a string")."""
    run = RunBuilder("r")
    start = {**run.run_start(), "runId": ""}
    response = post(backend, batch([start]))
    assert response.status_code == 202
    assert dispositions(response) == [(0, "rejected", "invalid_record")]
    assert "runId" in response.json()["dispositions"][0]["message"]
    assert httpx.get(backend.url + f"{API}/runs/page").json()["rows"] == []


def test_two_records_with_one_record_id_in_a_batch_the_first_wins(
    backend: EmbeddedBackend,
) -> None:
    """Within one batch, the first record of a ``recordId`` is kept; a later, different one is
    a ``record_id_conflict`` (the stored run is the first's, not the last's)."""
    run = RunBuilder("dup")
    first = run.run_start(name="the first")
    second = {**first, "name": "the second"}
    response = post(backend, batch([first, second]))
    assert response.status_code == 202
    assert dispositions(response) == [
        (0, "accepted", "accepted"),
        (1, "rejected", "record_id_conflict"),
    ]
    rows = httpx.get(backend.url + f"{API}/runs/page").json()["rows"]
    assert [row["name"] for row in rows] == ["the first"]
    # the second batch meets the stored first: a conflict again, and the first stays
    again = post(backend, batch([second]))
    assert dispositions(again) == [(0, "rejected", "record_id_conflict")]
    rows = httpx.get(backend.url + f"{API}/runs/page").json()["rows"]
    assert [row["name"] for row in rows] == ["the first"]


def body_of_exactly(size: int) -> bytes:
    """A valid, empty batch padded with JSON whitespace to exactly ``size`` bytes."""
    core = b'{"schemaVersion":2,"records":[]}'
    return core + b" " * (size - len(core))


def test_the_body_limit_is_exact_to_the_byte_with_content_length(
    backend: EmbeddedBackend,
) -> None:
    """A body of exactly ``MAX_BODY_BYTES`` (1 MiB) is read; one byte more is 413, refused by
    its ``Content-Length`` before it is read."""
    assert MAX_BODY_BYTES == 1024 * 1024
    url = backend.url + f"{API}/records"
    at_limit = httpx.post(url, content=body_of_exactly(MAX_BODY_BYTES))
    assert (at_limit.status_code, at_limit.json()) == (202, {"dispositions": []})
    over = httpx.post(url, content=body_of_exactly(MAX_BODY_BYTES + 1))
    assert over.status_code == 413


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_sent(
    backend: EmbeddedBackend,
) -> None:
    """The ``Content-Length`` is checked first: a request announcing ``MAX_BODY_BYTES + 1``
    bytes is answered 413 before any of its body arrives."""
    host, port = backend.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {API}/records HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
            f"\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        status_line = sock.makefile("rb").readline()  # no body is sent: only a refusal answers
    assert status_line.split()[1] == b"413", status_line


def test_the_body_limit_is_exact_to_the_byte_while_streaming(backend: EmbeddedBackend) -> None:
    """Without ``Content-Length`` (chunked) the limit is counted while reading: exactly 1 MiB
    is read, one byte more is 413."""
    url = backend.url + f"{API}/records"

    def chunked(body: bytes) -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    at_limit = httpx.post(url, content=chunked(body_of_exactly(MAX_BODY_BYTES)))
    assert (at_limit.status_code, at_limit.json()) == (202, {"dispositions": []})
    over = httpx.post(url, content=chunked(body_of_exactly(MAX_BODY_BYTES + 1)))
    assert over.status_code == 413


def test_a_span_end_without_span_id_is_refused(backend: EmbeddedBackend) -> None:
    """``span:end`` must name the span it ends (else it would end a phantom span): without a
    ``spanId``, or with an empty one, it is an ``invalid_record`` saying so; the run's
    records before it are kept."""
    run = RunBuilder("ends")
    start, span = run.run_start(), run.span_start("s", "tool.call")
    missing = run.span_end("s")
    del missing["spanId"]
    empty = {**run.span_end("s"), "spanId": ""}
    response = post(backend, batch([start, span, missing, empty]))
    assert response.status_code == 202
    assert dispositions(response) == [
        (0, "accepted", "accepted"),
        (1, "accepted", "accepted"),
        (2, "rejected", "invalid_record"),
        (3, "rejected", "invalid_record"),
    ]
    messages = [d.get("message") for d in response.json()["dispositions"][2:]]
    assert messages == ["span:end requires spanId"] * 2
    detail = httpx.get(backend.url + f"{API}/runs/ends").json()
    assert detail["run"]["spanCount"] == 1


def test_a_source_health_that_is_not_an_object_is_ignored(backend: EmbeddedBackend) -> None:
    """``sourceHealth`` is an object; anything else (an array, a string) says nothing about
    delivery: the batch is ingested as one without it is."""
    for n, health in enumerate((None, ["permanentlyRejected"], "degraded")):
        body = batch([RunBuilder(f"run_{n}").run_start()])
        if health is not None:
            body["sourceHealth"] = health
        response = post(backend, body)
        assert response.status_code == 202
        assert dispositions(response) == [(0, "accepted", "accepted")]
    rows = httpx.get(backend.url + f"{API}/runs/page").json()["rows"]
    health_of = {row["runId"]: row["deliveryHealth"] for row in rows}
    assert health_of["run_1"] == health_of["run_2"] == health_of["run_0"]
    assert health_of["run_0"]["status"] == "unknown"
