"""Records a current Crux SDK writes (``../shared/fixtures/crux``, copied from use-crux/crux,
Apache-2.0, see its NOTICE) ingest as Crux says they should, and ``generation-run.json``
projects to the Go backend's golden digest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crux_tui.backend.embedded import EmbeddedBackend

API = "/api/observability"
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "crux"

pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"the shared Crux fixtures are not here ({FIXTURES}): a fresh clone has no ../shared",
)


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def post(backend: EmbeddedBackend, version: int, records: list[dict]) -> list[dict]:
    response = httpx.post(
        backend.url + f"{API}/records",
        json={"schemaVersion": version, "records": records},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return response.json()["dispositions"]


def stored(backend: EmbeddedBackend, run_id: str) -> list[dict[str, Any]]:
    graph = httpx.get(backend.url + f"{API}/runs/{run_id}/graph", timeout=10).json()
    return [json.loads(r["payloadJson"]) for r in graph["records"]]


BATCHES = sorted(
    p.name
    for p in (FIXTURES.glob("*.json") if FIXTURES.is_dir() else [])
    if "records" in json.loads(p.read_text())
)


@pytest.mark.parametrize("name", BATCHES)
def test_every_fixture_batch_ingests_without_a_rejection(
    pinned_backend: EmbeddedBackend, name: str
) -> None:
    records = load(name)["records"]
    dispositions = post(pinned_backend, 5, records)
    assert [d["code"] for d in dispositions] == ["accepted"] * len(records), dispositions
    by_run: dict[str, list[dict]] = {}
    for record in records:
        by_run.setdefault(record["runId"], []).append(record)
    for run_id, sent in by_run.items():
        assert stored(pinned_backend, run_id) == sent  # kept as sent, unknown fields too
        assert httpx.get(pinned_backend.url + f"{API}/runs/{run_id}").status_code == 200


def test_contract_cases_have_their_expected_outcomes(pinned_backend: EmbeddedBackend) -> None:
    cases = load("v5-contract-cases.json")
    assert cases["schemaVersion"] == 5
    for case in cases["cases"]:
        dispositions = post(pinned_backend, cases["schemaVersion"], case["records"])
        codes = [d["code"] for d in dispositions]
        if case["name"] == "duplicate-identical-and-conflicting-record-id":
            # an identical repeat is idempotent; the conflicting one is refused, visibly
            assert codes == ["accepted", "accepted", "record_id_conflict"], case["name"]
        else:
            assert codes == ["accepted"] * len(case["records"]), (case["name"], dispositions)
        kept: dict[str, dict] = {}
        for run_id in {r["runId"] for r in case["records"]}:
            kept.update((r["recordId"], r) for r in stored(pinned_backend, run_id))
        for expected in case["expected"]:
            record = kept[expected["recordId"]]
            assert {k: record[k] for k in expected} == expected, case["name"]
    assert stored(pinned_backend, "run_dup")[0]["name"] == "duplicate"  # the first one wins
    rows = httpx.get(pinned_backend.url + f"{API}/runs/page").json()["rows"]
    by_id = {row["runId"]: row for row in rows}
    assert by_id["run_success"]["status"] == "ok"
    assert by_id["run_error"]["status"] == "error"
    # only lifecycle records, no run:start: an operation whose root has not arrived
    assert (by_id["run_concurrent"]["name"], by_id["run_concurrent"]["rootPresent"]) == (
        "Incomplete operation",
        False,
    )


def test_generation_run_gives_the_golden_digest(pinned_backend: EmbeddedBackend) -> None:
    golden = load("run_detail_generation.golden.json")
    post(pinned_backend, 5, load("generation-run.json")["records"])
    detail = httpx.get(pinned_backend.url + f"{API}/runs/{golden['runId']}", timeout=10).json()
    digest = {
        "runId": detail["run"]["runId"],
        "status": detail["run"]["status"],
        "rootKind": detail["root"]["kind"],
        "rootLabel": detail["root"]["display"]["label"],
        "rowLabels": [row["display"]["label"] for row in detail["rows"]],
        "primary": detail["counts"]["primary"],
        "detail": detail["counts"]["detail"],
        "metadata": detail["counts"]["metadata"],
        "diagnostics": len(detail["diagnostics"]),
    }
    assert digest == golden
