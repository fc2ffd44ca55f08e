"""Hostile records through the real HTTP ingest: precise dispositions, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.tolerant import MAX_DEPTH, TRUNCATED, limit_depth, truncate_json_bytes

INGEST = "/api/observability/records"


def post(backend: EmbeddedBackend, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return httpx.post(
        backend.url + INGEST,
        content=content,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )


def get(backend: EmbeddedBackend, path: str) -> httpx.Response:
    return httpx.get(backend.url + "/api/observability" + path, timeout=30)


def deep_json(levels: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * levels + leaf + b"}" * levels


def raw_record(run: RunBuilder, attributes_json: bytes, span_id: str) -> bytes:
    """A valid ``span`` record whose attributes are the given raw JSON text."""
    record = run.span(span_id, "tool.call", parent="agent")
    record["attributes"] = "@@"
    return msgspec.json.encode(record).replace(b'"@@"', attributes_json)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"", 400),
        (b"\xff\xfe\x00garbage", 400),
        (b"[1, 2, 3]", 400),
        (b'"records"', 400),
        (b"null", 400),
        (b'{"schemaVersion": 2}', 400),
        (b'{"schemaVersion": 2, "records": {"0": {}}}', 400),
        (b'{"schemaVersion": 2, "records": "x"}', 400),
        (b'{"schemaVersion": "2", "records": []}', 422),
        (b'{"schemaVersion": 1, "records": [{"recordId": "a"}]}', 422),
        (b'{"schemaVersion": 2, "records": []}', 202),
        (b"[" * 100_000, 400),  # unbalanced, and deeper than any recursive decoder
        (b'{"schemaVersion": 2, "records": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}", 202),
    ],
)
def test_malformed_bodies_get_4xx_never_500(
    backend: EmbeddedBackend, body: bytes, status: int
) -> None:
    response = post(backend, body)
    assert response.status_code == status, response.text
    if status == 202:
        for d in response.json()["dispositions"]:
            assert d["outcome"] == "rejected" and d["code"] == "invalid_record"


def test_every_hostile_record_gets_a_precise_disposition_and_siblings_commit(
    backend: EmbeddedBackend,
) -> None:
    run = RunBuilder("run_hostile")
    good = [run.run_start(), run.span_start("agent", "agent.run")]
    hostile: list[tuple[Any, str]] = [
        ("not an object", "invalid_record"),
        (None, "invalid_record"),
        ([1, 2], "invalid_record"),
        ({}, "unsupported_schema_version"),
        ({**run.span("w1"), "name": 12}, "invalid_record"),
        ({**run.span("w2"), "startedAt": {"x": 1}}, "invalid_record"),
        ({**run.span("w3"), "attributes": [1, 2]}, "invalid_record"),
        ({**run.span("w4"), "metrics": "lots"}, "invalid_record"),
        ({**run.span("w5"), "segmentSeq": -3}, "missing_segment_identity"),
        ({**run.span("w6"), "segmentSeq": 1.5}, "missing_segment_identity"),
        ({**run.span("w7"), "segmentSeq": True}, "missing_segment_identity"),
        ({k: v for k, v in run.span("m1").items() if k != "recordId"}, "invalid_record"),
        ({k: v for k, v in run.span("m2").items() if k != "runId"}, "invalid_record"),
        ({k: v for k, v in run.span("m3").items() if k != "type"}, "invalid_record"),
        ({k: v for k, v in run.span("m4").items() if k != "spanId"}, "invalid_record"),
        ({k: v for k, v in run.span_end("m4").items() if k != "spanId"}, "invalid_record"),
        ({**run.span("m5"), "primitive": "nope.call"}, "unknown_primitive"),
        ({**run.span("m6"), "family": "agent"}, "family_mismatch"),
        ({**run.artifact("agent"), "kind": "weird kind"}, "invalid_artifact_kind"),
        ({**run.edge("agent", "agent"), "edgeType": 5}, "invalid_record"),
        ({**run.edge("agent", "agent"), "edgeType": "teleports"}, "invalid_edge_type"),
        ({**run.span("x1"), "schemaVersion": 3}, "unsupported_schema_version"),
        ({**run.span("x2"), "schemaVersion": "2"}, "unsupported_schema_version"),
    ]
    unknown = {**run.span("u1"), "type": "mystery:record", "whatever": [1, {"a": None}]}
    tail = [run.span("ok_tool", "tool.call", parent="agent"), run.span_end("agent"), run.run_end()]
    records = [*good, *(r for r, _ in hostile), unknown, *tail]
    response = post(backend, batch(records))
    assert response.status_code == 202, response.text
    dispositions = response.json()["dispositions"]
    assert [d["index"] for d in dispositions] == list(range(len(records)))
    for (_, code), d in zip(hostile, dispositions[2 : 2 + len(hostile)], strict=True):
        assert (d["outcome"], d["code"], d["retryable"]) == ("rejected", code, False), d
        assert d.get("message"), d
    accepted = [d for d in dispositions if d["outcome"] == "accepted"]
    assert len(accepted) == len(good) + 1 + len(tail)  # the unknown type is kept raw
    graph = get(backend, "/runs/run_hostile/graph").json()
    stored = {r["recordId"] for r in graph["records"]}
    assert stored == {r["recordId"] for r in [*good, unknown, *tail]}
    assert {s["spanId"] for s in graph["spans"]} == {"agent", "ok_tool"}
    detail = get(backend, "/runs/run_hostile")
    assert detail.status_code == 200
    assert set(detail.json()["spanIndex"]) == {"agent", "ok_tool"}


def test_huge_attribute_is_stored_whole(backend: EmbeddedBackend) -> None:
    run = RunBuilder("run_huge")
    blob = "x" * 900_000
    records = [
        run.run_start(),
        run.span("big", "tool.call", attributes={"blob": blob}),
        run.run_end(),
    ]
    response = post(backend, batch(records))
    assert response.status_code == 202
    assert all(d["outcome"] == "accepted" for d in response.json()["dispositions"])
    graph = get(backend, "/runs/run_huge/graph").json()
    (span,) = graph["spans"]
    assert span["attributes"]["blob"] == blob
    assert get(backend, "/runs/run_huge").status_code == 200


@pytest.mark.parametrize("levels", [MAX_DEPTH + 5, 900, 5000, 150_000])
def test_deep_nesting_is_truncated_and_marked_siblings_commit(
    backend: EmbeddedBackend, levels: int
) -> None:
    run = RunBuilder(f"run_deep_{levels}")
    head = [run.run_start(), run.span_start("agent", "agent.run")]
    deep = raw_record(run, deep_json(levels), "deep")
    tail = [run.span("after", "tool.call", parent="agent"), run.span_end("agent"), run.run_end()]
    body = (
        b'{"schemaVersion":2,"records":['
        + b",".join([*(msgspec.json.encode(r) for r in head), deep])
        + b","
        + b",".join(msgspec.json.encode(r) for r in tail)
        + b"]}"
    )
    response = post(backend, body)
    assert response.status_code == 202, response.text
    dispositions = response.json()["dispositions"]
    assert [d["outcome"] for d in dispositions] == ["accepted"] * 6
    assert "nested deeper than" in dispositions[2]["message"]
    graph = get(backend, f"/runs/{run.run_id}/graph").json()
    spans = {s["spanId"]: s for s in graph["spans"]}
    assert set(spans) == {"agent", "deep", "after"}
    value, level = spans["deep"]["attributes"], 2  # record = level 0, attributes = level 1
    while isinstance(value, dict):
        value, level = value["a"], level + 1
    assert value == TRUNCATED and level == MAX_DEPTH + 1
    detail = get(backend, f"/runs/{run.run_id}")
    assert detail.status_code == 200 and "deep" in detail.json()["spanIndex"]


def test_deep_arrays_in_a_python_batch_do_not_crash_the_store(backend: EmbeddedBackend) -> None:
    """Store.ingest_batch called in-process (no JSON) with a 3000-level list."""
    run = RunBuilder("run_pydeep")
    value: Any = "leaf"
    for _ in range(3000):
        value = [value]
    records = [run.run_start(), run.span("d", "tool.call", attributes={"v": value})]
    result = backend.store.ingest_batch(records)
    assert [d.outcome for d in result.dispositions] == ["accepted", "accepted"]
    assert backend.store.graph("run_pydeep") is not None


def test_cycles_orphans_duplicates_and_out_of_order_segments(backend: EmbeddedBackend) -> None:
    run = RunBuilder("run_weird")
    start = run.run_start()
    records = [
        run.span_start("agent", "agent.run"),
        run.span("a", "tool.call", parent="b"),  # a <-> b: a cycle
        run.span("b", "tool.call", parent="a"),
        run.span("self", "tool.call", parent="self"),  # its own parent
        run.span("orphan", "tool.call", parent="never_arrives"),
        run.span("dup", "tool.call", parent="agent", name="first"),
        run.span("dup", "tool.call", parent="agent", name="second"),  # duplicate span id
    ]
    late = run.span_end("agent")  # sequence 9, sent before 8 and with a gap after 1
    run.seq += 5  # a gap: sequences 10..14 never arrive
    records_after_gap = [run.run_end()]
    same = records[1]  # the same recordId twice in one batch, and again later
    body = batch([late, *records, same, *records_after_gap])
    response = post(backend, body)
    assert response.status_code == 202
    assert all(d["outcome"] == "accepted" for d in response.json()["dispositions"])
    # run:start arrives last of all, and a replay of the same batch is idempotent.
    assert post(backend, batch([start])).status_code == 202
    assert post(backend, body).status_code == 202
    graph = get(backend, "/runs/run_weird/graph").json()
    ids = [r["recordId"] for r in graph["records"]]
    assert len(ids) == len(set(ids)) == len(records) + 3  # every record exactly once
    summary = get(backend, "/runs/page").json()["rows"][0]
    assert summary["runId"] == "run_weird"
    assert summary["gapCount"] >= 1 and summary["orderingConfidence"] == "partial"
    detail = get(backend, "/runs/run_weird")
    assert detail.status_code == 200
    body_json = detail.json()
    assert {"agent", "a", "b", "self", "orphan", "dup"} <= set(body_json["spanIndex"])
    codes = {d["code"] for d in body_json["diagnostics"]}
    assert {"cyclic-parent-span", "missing-parent-span", "duplicate-span-id"} <= codes, codes


def test_limit_depth_and_raw_truncation_agree() -> None:
    value: Any = 1
    for _ in range(300):
        value = {"a": [value]}
    cut, count = limit_depth(value, 10)
    assert count == 1
    raw = truncate_json_bytes(msgspec.json.encode(value), 10)
    assert msgspec.json.decode(raw) == cut
    assert limit_depth({"a": [1, {"b": 2}]}, 10) == ({"a": [1, {"b": 2}]}, 0)
    # strings with brackets and escaped quotes do not confuse the raw scanner
    tricky = {"s": 'x"[{\\', "d": [[[["deep"]]]]}
    raw = truncate_json_bytes(msgspec.json.encode(tricky), 3)
    assert msgspec.json.decode(raw) == {"s": 'x"[{\\', "d": [[TRUNCATED]]}
