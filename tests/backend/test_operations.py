"""Operations with member runs (crux-v5.md B, C) against the real embedded backend: the
store's identity rules, one list row per operation, and the operation RunDetail with child
runs mounted under the span that started them."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend
from tests.backend.operation_records import OP, child_records, root_records

API = "/api/observability"


def post(backend: EmbeddedBackend, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = httpx.post(backend.url + f"{API}/records", json=batch(records), timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["dispositions"]


def get(backend: EmbeddedBackend, path: str, **params: Any) -> Any:
    response = httpx.get(backend.url + API + path, params=params, timeout=10)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def rows(backend: EmbeddedBackend, **params: Any) -> list[dict[str, Any]]:
    return get(backend, "/runs/page", **params)["rows"]


def node_ids(node: dict[str, Any]) -> list[str]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current["id"])
        stack.extend(reversed(current.get("children") or []))
    return out


def find(node: dict[str, Any], node_id: str) -> dict[str, Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current["id"] == node_id:
            return current
        stack.extend(current.get("children") or [])
    raise AssertionError(f"{node_id} not in the tree")


def codes(detail: dict[str, Any]) -> list[str]:
    return [d["code"] for d in detail.get("diagnostics") or []]


# -- identity rules of the store ------------------------------------------------------------


def test_a_run_never_changes_operation(pinned_backend: EmbeddedBackend) -> None:
    post(pinned_backend, root_records() + child_records("run_child"))
    moved = RunBuilder("run_child", schema_version=5, operation_id="run_other", segment_id="s2")
    legacy = RunBuilder("run_child", segment_id="s3")  # v2: the operation named by its run
    for record in (moved.span("x", "tool.call"), legacy.span("y", "tool.call")):
        (disposition,) = post(pinned_backend, [record])
        assert disposition["code"] == "operation_identity_conflict"
        assert disposition["retryable"] is False
        assert "belongs to operation run_op" in disposition["message"]
    # inside one batch the first record of a new run fixes its operation
    a = RunBuilder("run_new", schema_version=5, operation_id="run_a")
    b = RunBuilder("run_new", schema_version=5, operation_id="run_b", segment_id="other")
    dispositions = post(pinned_backend, [a.span("p", "tool.call"), b.span("q", "tool.call")])
    assert [d["code"] for d in dispositions] == ["accepted", "operation_identity_conflict"]
    member = get(pinned_backend, "/runs/run_child/graph")
    assert member["run"]["spanCount"] == 1 and member["run"]["operationId"] == OP


def test_a_record_id_reused_with_other_content_is_rejected(pinned_backend: EmbeddedBackend) -> None:
    run = RunBuilder("run_dup", schema_version=5)
    start = run.run_start(name="first")
    assert [d["code"] for d in post(pinned_backend, [start])] == ["accepted"]
    reordered = dict(reversed(list(start.items())))  # the same record, keys in another order
    changed = {**start, "name": "second"}
    dispositions = post(pinned_backend, [start, reordered, changed])
    assert [d["code"] for d in dispositions] == ["accepted", "accepted", "record_id_conflict"]
    assert (
        dispositions[2]["retryable"] is False and dispositions[2]["recordId"] == start["recordId"]
    )
    # the same inside one batch: the first occurrence wins, a different repeat is refused
    span = run.span("s", "tool.call")
    dispositions = post(pinned_backend, [span, span, {**span, "status": "error"}])
    assert [d["code"] for d in dispositions] == ["accepted", "accepted", "record_id_conflict"]
    summary = get(pinned_backend, "/runs/run_dup/graph")["run"]
    assert (summary["name"], summary["recordCount"]) == ("first", 2)
    health = rows(pinned_backend)[0]["deliveryHealth"]
    assert health["status"] == "degraded" and health["rejected"] == 1  # the last batch's


# -- the runs list: one row per operation ---------------------------------------------------


def test_one_row_per_operation_with_sums_and_child_counts(pinned_backend: EmbeddedBackend) -> None:
    post(
        pinned_backend,
        root_records()
        + child_records("run_ok")
        + child_records("run_failed", status="error")
        + child_records("run_open")[:2],
    )
    (row,) = rows(pinned_backend)
    assert (row["runId"], row["operationId"], row["rootRunId"]) == (OP, OP, OP)
    assert (row["name"], row["status"], row["rootPresent"]) == ("chat action", "ok", True)
    assert row["childRunCount"] == 3
    assert (row["activeChildCount"], row["failedChildCount"], row["suspendedChildCount"]) == (
        1,
        1,
        0,
    )
    assert row["recordCount"] == 6 + 3 + 3 + 2
    assert row["spanCount"] == 3 + 1 + 1 + 1
    assert row["topologyHealth"] == "healthy"
    assert row["firstSeenAt"] == "2026-05-16T18:00:00.000000Z"
    delta = get(pinned_backend, "/runs/delta", since=0)
    assert [c["id"] for c in delta["changes"]] == [OP]


def test_an_operation_without_its_root_is_an_incomplete_row_until_the_root_arrives(
    pinned_backend: EmbeddedBackend,
) -> None:
    post(pinned_backend, child_records("run_early", base="2026-05-16T18:00:01"))
    (row,) = rows(pinned_backend)
    assert (row["runId"], row["name"], row["status"]) == (OP, "Incomplete operation", "incomplete")
    assert (row["rootPresent"], row["topologyHealth"], row["rootPrimitive"]) == (
        False,
        "incomplete",
        "",
    )
    assert (row["childRunCount"], row["recordCount"], row["startedAt"]) == (1, 3, "")
    first_seen = row["firstSeenAt"]
    assert first_seen == "2026-05-16T18:00:01.000000Z"
    assert [r["runId"] for r in rows(pinned_backend, status="incomplete")] == [OP]

    detail = get(pinned_backend, f"/runs/{OP}")
    assert detail["run"]["name"] == "Incomplete operation" and detail["run"]["rootPresent"] is False
    assert detail["root"]["id"] == f"run:{OP}" and detail["root"]["virtual"] is True
    assert detail["root"]["status"] == "incomplete"
    assert "incomplete-operation-root" in codes(detail)
    assert [m["run"]["runId"] for m in detail["memberRuns"]] == ["run_early"]

    post(pinned_backend, root_records())  # the root, started earlier, arrives later
    (row,) = rows(pinned_backend)
    assert (row["name"], row["status"], row["rootPresent"]) == ("chat action", "ok", True)
    assert row["firstSeenAt"] == first_seen  # the same row, in the same place
    assert row["topologyHealth"] == "healthy"
    detail = get(pinned_backend, "/runs/run_early")
    assert "incomplete-operation-root" not in codes(detail)
    assert find(detail["root"], "run:run_early")["parentId"] == "span:tool"


def test_operations_are_paged_by_first_seen_with_crux_cursors(
    pinned_backend: EmbeddedBackend,
) -> None:
    for i in range(5):
        post(pinned_backend, root_records(f"run_op{i}", base=f"2026-05-16T1{i}:00:00"))
    post(pinned_backend, child_records("run_lonely", op="run_op9", base="2026-05-16T12:30:00"))
    page = get(pinned_backend, "/runs/page", limit=2)
    assert [r["runId"] for r in page["rows"]] == ["run_op4", "run_op3"]
    raw = base64.urlsafe_b64decode(page["nextCursor"] + "=" * (-len(page["nextCursor"]) % 4))
    assert raw == b"2026-05-16T13:00:00.000000Z\x00run_op3"
    assert "=" not in page["nextCursor"]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = get(pinned_backend, "/runs/page", **params)
        seen += [r["runId"] for r in page["rows"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert seen == ["run_op4", "run_op3", "run_op9", "run_op2", "run_op1", "run_op0"]
    bounded = rows(pinned_backend, since="2026-05-16T12:00:00Z", until="2026-05-16T13:00:00Z")
    assert [r["runId"] for r in bounded] == ["run_op3", "run_op9", "run_op2"]
    assert [r["runId"] for r in rows(pinned_backend, status="incomplete")] == ["run_op9"]
    bad = httpx.get(pinned_backend.url + f"{API}/runs/page", params={"cursor": "%%%"})
    assert bad.status_code == 400


# -- the operation RunDetail ----------------------------------------------------------------


def test_run_detail_of_an_operation_by_root_id_and_by_child_id(
    pinned_backend: EmbeddedBackend,
) -> None:
    post(
        pinned_backend,
        root_records() + child_records("run_ok") + child_records("run_bad", status="error"),
    )
    by_root = httpx.get(pinned_backend.url + f"{API}/runs/{OP}").content
    by_child = httpx.get(pinned_backend.url + f"{API}/runs/run_bad").content
    assert by_root == by_child  # one document per operation
    detail = get(pinned_backend, "/runs/run_bad")
    assert detail["schemaVersion"] == 5
    run = detail["run"]
    assert (run["runId"], run["status"], run["operationId"], run["rootRunId"]) == (OP, "ok", OP, OP)
    assert (run["childRunCount"], run["failedChildCount"], run["topologyHealth"]) == (
        2,
        1,
        "healthy",
    )
    assert run["spanCount"] == 5 and run["recordCount"] == 12
    assert detail["manifest"] == {"resolution": "manifest-unspecified", "definitions": []}
    assert detail["definitionRefs"] == []
    # rows and spanIndex cover the mounted tree
    assert [r["nodeId"] for r in detail["rows"]] == node_ids(detail["root"])
    assert set(detail["spanIndex"]) == {"agent", "tool", "sched", "run_ok_action", "run_bad_action"}
    assert detail["spanIndex"]["run_bad_action"]["path"] == [
        f"run:{OP}",
        "span:tool",
        "run:run_bad",
    ]
    assert detail["counts"]["primary"] == 4 and detail["counts"]["detail"] == 1
    assert detail["facets"]["status"] == {"ok": 4, "error": 1}


def test_member_runs(pinned_backend: EmbeddedBackend) -> None:
    post(pinned_backend, child_records("run_b", base="2026-05-16T18:00:02"))
    post(pinned_backend, root_records() + child_records("run_a", base="2026-05-16T18:00:01"))
    members = get(pinned_backend, f"/runs/{OP}")["memberRuns"]
    assert [m["run"]["runId"] for m in members] == [OP, "run_a", "run_b"]  # root, then by start
    root, child = members[0], members[1]
    assert "parentRunId" not in root or not root["parentRunId"]
    assert (child["parentRunId"], child["triggeredBySpanId"]) == (OP, "tool")
    assert child["run"]["spanCount"] == 1 and child["run"]["recordCount"] == 3  # its own
    assert child["root"]["id"] == "run:run_a" and child["root"]["status"] == "ok"
    # its tree and node bodies are in the document, mounted: not sent twice
    assert not any(child["root"].get(k) for k in ("children", "details", "inspection", "events"))
    mounted = find(get(pinned_backend, f"/runs/{OP}")["root"], "run:run_a")
    assert mounted["status"] == child["root"]["status"] and mounted["spanId"] == "run_a_action"
    assert root["run"]["childRunCount"] == 0 and isinstance(child["diagnostics"], list)


def test_children_mount_under_their_trigger_span(pinned_backend: EmbeddedBackend) -> None:
    post(
        pinned_backend,
        root_records()
        + child_records("run_by_tool", trigger="tool")
        + child_records("run_by_schedule", trigger="sched")  # folded: under its owner node
        + child_records("run_grandchild", parent="run_by_tool", trigger="run_by_tool_action"),
    )
    detail = get(pinned_backend, f"/runs/{OP}")
    root = detail["root"]
    tool = find(root, "span:tool")
    # members in RunDetail order: by start, then by run id
    assert [c["id"] for c in tool["children"]] == ["run:run_by_schedule", "run:run_by_tool"]
    nested = find(root, "run:run_by_tool")
    assert [c["id"] for c in nested["children"]] == ["run:run_grandchild"]
    by_id = {r["nodeId"]: r for r in detail["rows"]}
    assert by_id["run:run_by_tool"]["parentId"] == "span:tool"
    assert by_id["run:run_grandchild"]["parentId"] == "run:run_by_tool"
    assert by_id["run:run_grandchild"]["depth"] == by_id["run:run_by_tool"]["depth"] + 1
    assert by_id["run:run_by_tool"]["expandedDefault"] is False  # depth 2
    assert not nested.get("virtual") and nested["kind"] != "run"


def test_a_child_without_a_matching_root_span_is_a_virtual_run_node(
    pinned_backend: EmbeddedBackend,
) -> None:
    run = RunBuilder("run_loose", schema_version=5, operation_id=OP)
    loose = [
        run.run_start(name="loose child", parentRunId=OP, triggeredBySpanId="tool"),
        run.span("a", "tool.call", at=10, end=20),
        run.span("b", "tool.call", at=30, end=40),
        run.run_end(at=50),
    ]
    post(pinned_backend, root_records() + loose)
    node = find(get(pinned_backend, f"/runs/{OP}")["root"], "run:run_loose")
    assert (node["virtual"], node["kind"], node["display"]["label"]) == (True, "run", "loose child")
    assert [c["id"] for c in node["children"]] == ["span:a", "span:b"]


def test_unresolved_parents_mount_under_the_operation_root(pinned_backend: EmbeddedBackend) -> None:
    post(
        pinned_backend,
        root_records()
        + child_records("run_orphan", parent="run_missing", trigger="x")
        + child_records("run_loop_a", parent="run_loop_b", trigger="run_loop_b_action")
        + child_records("run_loop_b", parent="run_loop_a", trigger="run_loop_a_action"),
    )
    detail = get(pinned_backend, f"/runs/{OP}")
    top = [c["id"] for c in detail["root"]["children"]]
    assert top[-3:] == ["run:run_loop_a", "run:run_loop_b", "run:run_orphan"]
    assert {"missing-parent-run", "parent-run-cycle"} <= set(codes(detail))
    assert detail["run"]["topologyHealth"] == "conflicted"
    (row,) = rows(pinned_backend)
    assert row["topologyHealth"] == "conflicted"


@pytest.mark.parametrize(
    ("child", "code", "health"),
    [
        ({"trigger": "nope"}, "missing-trigger-span", "incomplete"),
        ({"trigger": None}, "missing-trigger-span", "incomplete"),
        ({"parent": "run_missing"}, "missing-parent-run", "incomplete"),
        ({"parent": "run_t"}, "self-parent-run", "conflicted"),
        ({"traceId": "another_trace"}, "parent-trace-conflict", "conflicted"),
        (
            {"parent": "run_foreign", "trigger": "run_foreign_action"},
            "foreign-parent-run",
            "conflicted",
        ),
    ],
)
def test_topology_health_and_diagnostics(
    pinned_backend: EmbeddedBackend, child: dict[str, Any], code: str, health: str
) -> None:
    post(pinned_backend, child_records("run_foreign", op="run_elsewhere", parent="run_elsewhere"))
    extra = {k: v for k, v in child.items() if k == "traceId"}
    links = {k: v for k, v in child.items() if k in ("parent", "trigger")}
    post(pinned_backend, root_records() + child_records("run_t", **links, **extra))
    detail = get(pinned_backend, f"/runs/{OP}")
    topology = [d for d in detail["diagnostics"] if d["code"] == code]
    assert topology and topology[0]["severity"] == "warn"
    assert topology[0]["suggestedFix"].startswith("Inspect immutable run:start")
    assert detail["run"]["topologyHealth"] == health
    row = next(r for r in rows(pinned_backend) if r["runId"] == OP)
    assert row["topologyHealth"] == health
    # child diagnostics stay on the member, the run-level list has the topology codes
    assert codes(detail).count(code) == 1


def test_span_events_by_operation_id_cover_every_member(pinned_backend: EmbeddedBackend) -> None:
    child = RunBuilder("run_events", schema_version=5, operation_id=OP, segment_id="seg_more")
    usage = child.event("run_events_action", "usage.observed", 150, {"inputTokens": 3})
    records = [*child_records("run_events"), usage]
    post(pinned_backend, root_records() + records)
    by_child = get(pinned_backend, "/runs/run_events/spans/run_events_action/events")
    by_operation = get(pinned_backend, f"/runs/{OP}/spans/run_events_action/events")
    assert by_child == by_operation and [e["name"] for e in by_operation] == ["usage.observed"]
    graph = get(pinned_backend, f"/runs/{OP}/graph")  # an operation id names its root run
    assert graph["run"]["runId"] == OP


def test_metrics_roll_up_through_mounted_children(pinned_backend: EmbeddedBackend) -> None:
    child = RunBuilder("run_cost", schema_version=5, operation_id=OP)
    records = [
        child.run_start(
            name="run_cost",
            root_primitive="runtime.convex.action",
            parentRunId=OP,
            triggeredBySpanId="tool",
        ),
        child.span(
            "gen",
            "generation.call",
            at=100,
            end=300,
            metrics={"inputTokens": 10, "outputTokens": 5, "costUsd": 0.25},
        ),
        child.run_end(at=310, metrics={"inputTokens": 10, "outputTokens": 5, "costUsd": 0.25}),
    ]
    post(pinned_backend, root_records() + records)
    detail = get(pinned_backend, f"/runs/{OP}")
    tool = find(detail["root"], "span:tool")
    assert tool["metricBuckets"]["children"]["costUsd"] == 0.25
    assert detail["root"]["metricBuckets"]["total"]["inputTokens"] == 10
    assert detail["run"]["metrics"]["costUsd"] == 0.25
    (row,) = rows(pinned_backend)
    assert row["metrics"]["costUsd"] == 0.25
