"""Ingest of every schema version a user may have (2-5), each batch by its own rules
(crux-v5.md A.2-A.6), through the real ingest route."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.ingest import validate_record

API = "/api/observability"
MANIFEST = "pim_" + "a" * 64


def post(backend: EmbeddedBackend, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(backend.url + f"{API}/records", json=body, timeout=10)


def codes(response: httpx.Response) -> list[str]:
    return [d["code"] for d in response.json()["dispositions"]]


def code_of(record: dict[str, Any], version: int | None = None) -> str:
    return validate_record(0, record, version)[0].code


def stored_payloads(backend: EmbeddedBackend, run_id: str) -> list[dict[str, Any]]:
    graph = httpx.get(backend.url + f"{API}/runs/{run_id}/graph", timeout=10).json()
    return [json.loads(r["payloadJson"]) for r in graph["records"]]


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_each_supported_version_is_accepted_and_kept_as_sent(
    pinned_backend: EmbeddedBackend, version: int
) -> None:
    run = RunBuilder(f"run_v{version}", schema_version=version)
    records = [run.run_start(), run.span("t", "tool.call"), run.run_end()]
    response = post(pinned_backend, batch(records))
    assert response.status_code == 202 and set(codes(response)) == {"accepted"}
    stored = stored_payloads(pinned_backend, f"run_v{version}")
    assert stored == records  # every record keeps its own version and fields
    graph = httpx.get(pinned_backend.url + f"{API}/runs/run_v{version}/graph").json()
    assert {r["operationId"] for r in graph["records"]} == {f"run_v{version}"}


@pytest.mark.parametrize("version", [0, 1, 6, "5", 5.0, None])
def test_other_batch_versions_are_refused_with_422(
    backend: EmbeddedBackend, version: object
) -> None:
    run = RunBuilder("run_x", schema_version=5)
    response = post(backend, {"schemaVersion": version, "records": [run.run_start()]})
    assert response.status_code == 422
    assert codes(response) == ["unsupported_schema_version"]


def test_a_record_must_carry_its_batch_version(backend: EmbeddedBackend) -> None:
    v2 = RunBuilder("run_old").run_start()
    v5 = RunBuilder("run_new", schema_version=5).run_start()
    response = post(backend, {"schemaVersion": 5, "records": [v5, v2]})
    assert codes(response) == ["accepted", "unsupported_schema_version"]
    assert "must be 5" in response.json()["dispositions"][1]["message"]


@pytest.mark.parametrize("version", [4, 5])
def test_operation_id_is_required_from_v4(version: int) -> None:
    record = RunBuilder("r", schema_version=version).span("s", "tool.call")
    assert code_of(record, version) == "accepted"
    for bad in ("", None, 7):
        assert code_of({**record, "operationId": bad}, version) == "invalid_record"
    del record["operationId"]
    disposition, _ = validate_record(0, record, version)
    assert disposition.code == "invalid_record" and "operationId" in (disposition.message or "")


def test_v2_and_v3_records_belong_to_the_operation_of_their_run(
    pinned_backend: EmbeddedBackend,
) -> None:
    for version in (2, 3):
        run = RunBuilder(f"run_legacy_{version}", schema_version=version)
        start = {**run.run_start(), "operationId": "someone_else", "parentRunId": "p"}
        assert set(codes(post(pinned_backend, batch([start])))) == {"accepted"}
    rows = httpx.get(pinned_backend.url + f"{API}/runs/page").json()["rows"]
    assert {(r["runId"], r["operationId"], r["childRunCount"]) for r in rows} == {
        ("run_legacy_2", "run_legacy_2", 0),
        ("run_legacy_3", "run_legacy_3", 0),
    }


@pytest.mark.parametrize("version", [4, 5])
def test_run_start_topology_rules(version: int) -> None:
    def root(**links: Any) -> dict[str, Any]:
        return RunBuilder("op", schema_version=version).run_start(**links)

    def child(**links: Any) -> dict[str, Any]:
        return RunBuilder("child", schema_version=version, operation_id="op").run_start(**links)

    assert code_of(root(), version) == "accepted"
    assert code_of(root(parentRunId="x"), version) == "invalid_record"
    assert code_of(root(triggeredBySpanId="s"), version) == "invalid_record"
    assert code_of(child(parentRunId="op", triggeredBySpanId="s"), version) == "accepted"
    assert code_of(child(parentRunId="op"), version) == "accepted"  # only incomplete
    disposition, _ = validate_record(0, child(), version)
    assert disposition.code == "invalid_record" and "parentRunId" in (disposition.message or "")
    assert code_of(child(parentRunId=5), version) == "invalid_record"
    # other record types of a child carry no topology
    span = RunBuilder("child", schema_version=version, operation_id="op").span("s", "tool.call")
    assert code_of(span, version) == "accepted"


@pytest.mark.parametrize(
    ("deployment", "accepted"),
    [
        ({"projectId": "proj_1"}, True),
        ({"projectId": "proj_1", "deploymentId": "dev:otter", "manifestId": MANIFEST}, True),
        (None, False),
        ("proj_1", False),
        ({}, False),
        ({"projectId": "proj_1", "region": "eu"}, False),
        ({"projectId": " proj_1"}, False),
        ({"projectId": "proj\x1b1"}, False),
        ({"projectId": "p" * 201}, False),
        ({"projectId": "proj_1", "deploymentId": ""}, False),
        ({"projectId": "proj_1", "manifestId": "pim_ABC"}, False),
        ({"projectId": "proj_1", "manifestId": "pim_" + "A" * 64}, False),
    ],
)
@pytest.mark.parametrize("version", [3, 4, 5])
def test_deployment_is_validated_from_v3(version: int, deployment: object, accepted: bool) -> None:
    record = {**RunBuilder("r", schema_version=version).run_start(), "deployment": deployment}
    assert code_of(record, version) == ("accepted" if accepted else "invalid_record")


def test_a_deployment_rejection_names_its_unknown_keys() -> None:
    """The rejection of a deployment with keys outside projectId / deploymentId /
    manifestId names them (sorted, the first five), so the sender knows what to drop."""

    def message(deployment: dict[str, Any]) -> str:
        record = {**RunBuilder("r", schema_version=3).run_start(), "deployment": deployment}
        disposition, _ = validate_record(0, record, 3)
        assert disposition.code == "invalid_record"
        return disposition.message or ""

    assert message({"projectId": "proj_1", "zone": "a", "region": "eu"}) == (
        "deployment has unknown keys: region, zone"
    )
    many = {"projectId": "proj_1", **{f"k{n}": n for n in range(7)}}
    assert message(many) == "deployment has unknown keys: k0, k1, k2, k3, k4"


def test_deployment_is_an_unknown_field_in_v2_and_shows_on_the_row_from_v3(
    pinned_backend: EmbeddedBackend,
) -> None:
    old = {**RunBuilder("run_v2").run_start(), "deployment": "anything"}
    assert code_of(old, 2) == "accepted"
    identity = {"projectId": "proj_1", "deploymentId": "dev:otter"}
    new = {**RunBuilder("run_v3", schema_version=3).run_start(), "deployment": identity}
    post(pinned_backend, batch([old]))
    post(pinned_backend, batch([new]))
    rows = {
        r["runId"]: r for r in httpx.get(pinned_backend.url + f"{API}/runs/page").json()["rows"]
    }
    assert rows["run_v3"]["deployment"] == identity
    assert rows["run_v2"]["deployment"] is None


def test_v5_taxonomy_is_accepted_only_from_its_version() -> None:
    def span(version: int, primitive: str, family: str) -> dict[str, Any]:
        record = RunBuilder("r", schema_version=version).span("s", "tool.call")
        return {**record, "primitive": primitive, "family": family}

    for primitive, family in (
        ("evidence.record", "evidence"),
        ("effect.run", "effect"),
        ("thread.operation", "thread"),
    ):
        assert code_of(span(5, primitive, family), 5) == "accepted"
        assert code_of(span(4, primitive, family), 4) == "unknown_primitive"
        assert code_of(span(2, primitive, family), 2) == "unknown_primitive"
    for primitive, family in (("media.transcribe", "media"), ("defer.run", "defer")):
        assert code_of(span(4, primitive, family), 4) == "accepted"
        assert code_of(span(2, primitive, family), 2) == "unknown_primitive"

    def edge(version: int, edge_type: str) -> dict[str, Any]:
        return RunBuilder("r", schema_version=version).edge("a", "b", edge_type)

    for edge_type in ("evidence.for", "recovery.of"):
        assert code_of(edge(5, edge_type), 5) == "accepted"
        assert code_of(edge(4, edge_type), 4) == "invalid_edge_type"
    assert code_of(edge(4, "derived.from"), 4) == "accepted"
    assert code_of(edge(2, "derived.from"), 2) == "invalid_edge_type"
    assert code_of(edge(2, "comparison.baseline"), 2) == "accepted"
    assert code_of(edge(5, "comparison.baseline"), 5) == "invalid_edge_type"

    def artifact(version: int, kind: str) -> dict[str, Any]:
        return RunBuilder("r", schema_version=version).artifact("s", kind)

    for kind in ("effect.receipt", "request.plan", "approval.decision"):
        assert code_of(artifact(5, kind), 5) == "accepted"
        assert code_of(artifact(4, kind), 4) == "invalid_artifact_kind"
    assert code_of(artifact(2, "comparison.report"), 2) == "accepted"
    assert code_of(artifact(4, "comparison.report"), 4) == "invalid_artifact_kind"


def test_unknown_v5_record_types_and_fields_are_stored_raw(pinned_backend: EmbeddedBackend) -> None:
    run = RunBuilder("run_future", schema_version=5)
    start = {**run.run_start(), "futureField": {"kept": True}}
    future = run._record("future:record", anything={"x": 1})
    assert set(codes(post(pinned_backend, batch([start, future])))) == {"accepted"}
    assert stored_payloads(pinned_backend, "run_future") == [start, future]


def test_privacy_is_dropped_unless_a_redaction_was_applied(
    pinned_backend: EmbeddedBackend,
) -> None:
    run = RunBuilder("run_private", schema_version=5)
    applied = {"redaction": {"applied": True, "surfaces": ["attributes", "error.message"]}}
    records = [
        {**run.run_start(), "privacy": applied},
        {
            **run.span("a", "tool.call"),
            "privacy": {"redaction": {"applied": False, "surfaces": ["attributes"]}},
        },
        {**run.span("b", "tool.call"), "privacy": {"redaction": {"applied": True, "surfaces": []}}},
        {**run.span("c", "tool.call"), "privacy": "yes"},
    ]
    assert set(codes(post(pinned_backend, batch(records)))) == {"accepted"}
    stored = stored_payloads(pinned_backend, "run_private")
    assert stored[0]["privacy"] == applied
    assert ["privacy" in r for r in stored[1:]] == [False, False, False]
    # the same record sent again is an identical repeat, not a conflict
    assert set(codes(post(pinned_backend, batch(records)))) == {"accepted"}


def test_source_and_definition_refs_are_kept_and_shown(pinned_backend: EmbeddedBackend) -> None:
    run = RunBuilder("run_refs", schema_version=5)
    prompt_ref = {"id": "prompt.support", "kind": "prompt", "role": "resolved-prompt"}
    tool_ref = {"id": "tool.search", "kind": "tool", "role": "invoked-tool"}
    source = {"file": "convex/chat.ts", "line": 12}
    records = [
        {**run.run_start(), "definitionRefs": [prompt_ref, prompt_ref], "source": source},
        {**run.span_start("agent", "agent.run"), "definitionRefs": [tool_ref], "source": source},
        run.span_end("agent"),
        run.run_end(),
    ]
    assert set(codes(post(pinned_backend, batch(records)))) == {"accepted"}
    assert stored_payloads(pinned_backend, "run_refs")[1]["source"] == source
    detail = httpx.get(pinned_backend.url + f"{API}/runs/run_refs").json()
    assert detail["definitionRefs"] == [prompt_ref]
    agent = detail["root"]  # the agent span is the run's root node
    assert agent["definitionRefs"] == [tool_ref]
