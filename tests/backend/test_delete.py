"""``DELETE /api/observability/runs/{id}``: the whole operation goes, a tombstone stays, a
``deleted`` event goes out (crux-v5.md B.1, D.1, D.4)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.store import Store
from tests.backend.operation_records import OP, child_records, root_records

API = "/api/observability"


def post(backend: EmbeddedBackend, records: list[dict]) -> list[dict]:
    response = httpx.post(backend.url + f"{API}/records", json=batch(records), timeout=10)
    assert response.status_code == 202
    return response.json()["dispositions"]


async def next_sse_event(url: str, started: asyncio.Event) -> dict:
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        started.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                return json.loads(line[6:])
    raise AssertionError("stream ended")


async def test_delete_removes_the_whole_operation_and_says_so(
    pinned_backend: EmbeddedBackend,
) -> None:
    post(pinned_backend, root_records() + child_records("run_child"))
    keep = RunBuilder("run_keep", schema_version=5)
    post(pinned_backend, [keep.run_start(), keep.run_end()])
    before = pinned_backend.store.revision()
    started = asyncio.Event()
    listener = asyncio.create_task(next_sse_event(pinned_backend.url + f"{API}/stream", started))
    await asyncio.wait_for(started.wait(), 10)

    async with httpx.AsyncClient() as client:
        response = await client.delete(pinned_backend.url + f"{API}/runs/run_child")  # a member
    assert response.status_code == 200
    assert response.json() == {"operationIds": [OP], "revision": before + 1}

    event = await asyncio.wait_for(listener, 10)
    assert event == {
        "_tag": "ObservabilityEvent",
        "id": "",
        "timestamp": 0,
        "kind": "observability.records",
        "action": "deleted",
        "severity": "info",
        "refId": OP,
        "payload": {"operationIds": [OP], "revision": before + 1},
    }
    for path in (f"/runs/{OP}", "/runs/run_child", f"/runs/{OP}/graph", "/runs/run_child/graph"):
        assert httpx.get(pinned_backend.url + API + path).status_code == 404, path
    page = httpx.get(pinned_backend.url + f"{API}/runs/page").json()
    assert [r["runId"] for r in page["rows"]] == ["run_keep"]
    delta = httpx.get(pinned_backend.url + f"{API}/runs/delta", params={"since": before}).json()
    assert delta["changes"] == [{"entity": "run", "id": OP, "revision": before + 1}]
    assert httpx.delete(pinned_backend.url + f"{API}/runs/{OP}").status_code == 404


def test_records_of_a_deleted_operation_are_refused(pinned_backend: EmbeddedBackend) -> None:
    post(pinned_backend, root_records() + child_records("run_child"))
    assert httpx.delete(pinned_backend.url + f"{API}/runs/{OP}").status_code == 200
    late = RunBuilder("run_late_child", schema_version=5, operation_id=OP)
    again = root_records()  # a retry of what was deleted
    dispositions = post(pinned_backend, [late.span("s", "tool.call")]) + post(pinned_backend, again)
    assert {d["code"] for d in dispositions} == {"operation_deleted"}
    assert not any(d["retryable"] for d in dispositions)
    legacy = RunBuilder(OP)  # a v2 record names the operation by its run id
    assert [d["code"] for d in post(pinned_backend, [legacy.span("x", "tool.call")])] == [
        "operation_deleted"
    ]
    assert httpx.get(pinned_backend.url + f"{API}/runs/page").json()["rows"] == []


def test_delete_needs_the_ingest_authorisation(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    backend = make_backend(token="s3cret")
    url = backend.url + f"{API}/runs/{OP}"
    httpx.post(
        backend.url + f"{API}/records",
        json=batch(root_records()),
        headers={"Authorization": "Bearer s3cret"},
    ).raise_for_status()
    assert httpx.delete(url).status_code == 401
    assert httpx.delete(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.delete(url, headers={"Origin": "https://evil.example"}).status_code == 403
    assert httpx.delete(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    post_again = httpx.post(
        backend.url + f"{API}/records", json=batch(root_records()), params={"t": "s3cret"}
    )
    assert {d["code"] for d in post_again.json()["dispositions"]} == {"operation_deleted"}
    assert httpx.delete(url, params={"t": "s3cret"}).status_code == 404


def test_a_deletion_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    store.ingest_batch(root_records() + child_records("run_child"))
    assert store.delete_operation("run_child") == ([OP], 2)
    assert store.delete_operation("trace_run_op") is None  # never by trace id
    store.close()
    store = Store(path)
    try:
        result = store.ingest_batch(child_records("run_child"))
        assert {d.code for d in result.dispositions} == {"operation_deleted"}
        assert store.operation_summary(OP) is None and store.revision() == 2
    finally:
        store.close()
