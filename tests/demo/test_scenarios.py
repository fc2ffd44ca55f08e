"""Demo data: deterministic, valid v5 records, and the statuses each scenario is about."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crux_tui.backend.ingest import validate_record
from crux_tui.contract.client import CruxClient
from crux_tui.contract.models import RunDetail, RunDetailNode, items
from crux_tui.demo import (
    DEMO_SCENARIOS,
    build_demo_records,
    live_run_records,
    read_jsonl,
    scaled_run_records,
    write_jsonl,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def nodes(root: RunDetailNode) -> list[RunDetailNode]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(items(node.children)))
    return out


def test_same_seed_same_records() -> None:
    assert build_demo_records(seed=3, now=NOW) == build_demo_records(seed=3, now=NOW)
    assert build_demo_records(seed=3, now=NOW) != build_demo_records(seed=4, now=NOW)


def test_every_record_passes_ingest_validation() -> None:
    records = build_demo_records(now=NOW) + scaled_run_records(500, now=NOW)
    live = live_run_records(start=NOW)
    records += next(live) + next(live) + next(live)
    for index, record in enumerate(records):
        disposition, typed = validate_record(index, record)
        assert disposition.outcome == "accepted", (record, disposition)
        assert typed is not None
    ids = [r["recordId"] for r in records]
    assert len(ids) == len(set(ids))
    sequences: dict[str, list[int]] = defaultdict(list)
    for record in records:
        sequences[record["segmentId"]].append(record["segmentSeq"])
    for seqs in sequences.values():
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))


def test_scenarios_carry_their_evidence() -> None:
    records = build_demo_records(now=NOW)
    assert {r["schemaVersion"] for r in records} == {5}
    by_run: dict[str, list[dict]] = defaultdict(list)
    by_operation: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_run[record["runId"]].append(record)
        by_operation[record["operationId"]].append(record)
    assert set(by_operation) == {run_id for run_id, _, _ in DEMO_SCENARIOS}

    # scheduler.runAfter: child runs linked to their parent run and to its schedule span
    starts = {r["runId"]: r for r in by_operation["run_refund_jobs"] if r["type"] == "run:start"}
    assert set(starts) == {
        "run_refund_jobs",
        "run_refund_process",
        "run_refund_ledger",
        "run_refund_notify",
    }
    for run_id, start in starts.items():
        if run_id == "run_refund_jobs":
            assert "parentRunId" not in start and "triggeredBySpanId" not in start
            continue
        parent = start["parentRunId"]
        trigger = next(
            r
            for r in by_run[parent]
            if r["type"] == "span:start" and r["spanId"] == start["triggeredBySpanId"]
        )
        assert trigger["primitive"] == "runtime.convex.schedule"
    notify_kinds = {r["kind"] for r in by_run["run_refund_notify"] if r["type"] == "artifact"}
    assert {"error.stack", "error.raw"} <= notify_kinds
    assert by_run["run_refund_notify"][-1]["status"] == "error"

    error_kinds = {r["kind"] for r in by_run["run_tool_error"] if r["type"] == "artifact"}
    assert {"error.stack", "error.raw"} <= error_kinds
    tool = next(r for r in by_run["run_tool_error"] if r.get("primitive") == "tool.call")
    assert tool["attributes"]["phase"] == "tool.execute"
    assert tool["attributes"]["errorKind"] == "execute_error"

    phases = {
        r["preview"]["phase"]
        for r in by_run["run_chat_support"]
        if r["type"] == "artifact" and r["kind"] == "messages"
    }
    assert phases == {"call-args", "thread-context"}
    names = {r.get("name") for r in by_run["run_chat_support"]}
    assert {"persist skills", "capture memory"} <= names

    lost = by_run["run_research_lost_end"]
    boundary = next(
        r for r in lost if r.get("primitive") == "runtime.convex.action" and r.get("parentSpanId")
    )
    assert not any(r["type"] == "span:end" and r["spanId"] == boundary["spanId"] for r in lost)
    acks = {
        r["name"] for r in lost if r["type"] == "span:event" and r["spanId"] == boundary["spanId"]
    }
    assert acks == {
        "runtime.convex.boundary.requested",
        "runtime.convex.boundary.received",
        "runtime.convex.boundary.completed",
    }


def test_scaled_run_has_about_the_requested_spans() -> None:
    records = scaled_run_records(1000, now=NOW)
    spans = {r["spanId"] for r in records if r["type"] in ("span", "span:start")}
    assert 1000 <= len(spans) <= 1010


def test_jsonl_round_trip_and_bad_lines(tmp_path: Path) -> None:
    records = build_demo_records(now=NOW)
    path = tmp_path / "runs.jsonl"
    write_jsonl(path, records)
    assert read_jsonl(path) == (records, [])

    lines = path.read_bytes().splitlines()
    batch = b'{"schemaVersion":2,"records":[' + lines[1] + b"," + lines[2] + b"]}"
    mixed = [lines[0], b"", b"{not json", batch, b"[1, 2]", lines[3]]
    path.write_bytes(b"\n".join(mixed) + b"\n")
    loaded, errors = read_jsonl(path)
    assert loaded == records[:4]
    assert len(errors) == 2
    assert errors[0].startswith("line 3: invalid JSON")
    assert errors[1].startswith("line 5: not a record or batch")


@pytest.mark.parametrize("run_id, name, status", DEMO_SCENARIOS)
async def test_scenario_presented_by_the_backend(
    backend, run_id: str, name: str, status: str
) -> None:
    async with CruxClient(backend.url) as client:
        for response in [await client.post_records(build_demo_records())]:
            assert all(d.outcome == "accepted" for d in response)
        detail: RunDetail = await client.run_detail(run_id)
    assert detail.run.name == name
    assert detail.run.status == status
    all_nodes = nodes(detail.root)
    assert not any(n.status == "running" for n in all_nodes), "a finished demo run shows running"
    every_span = {s for s in (detail.spanIndex or {})}
    assert len(every_span) == detail.run.spanCount
    if run_id == "run_deadline":
        assert "descendant-operation-deadline-exceeded" in {
            d.code for d in items(detail.diagnostics)
        }
        stalled = [
            n for n in all_nodes if n.status == "incomplete" and n.primitive == "generation.stream"
        ]
        assert (
            stalled
            and stalled[0].attributes["diagnostics"]["reconciledFrom"] == "operation.deadline"
        )
    if run_id == "run_lease_expired":
        details = [d for n in all_nodes for d in items(n.details)]
        boundary = next(d for d in details if d.primitive == "runtime.convex.action")
        assert boundary.status == "stale"
        assert "convex-boundary-lease-expired" in {d.code for d in items(boundary.diagnostics)}
    if run_id == "run_chat_support":
        agent = next(n for n in all_nodes if n.kind == "agent")
        labels = [c.display.label for c in items(agent.children)]
        assert labels == ["step-1", "lookupOrders", "step-2", "searchDocs", "step-3"]
    if run_id == "run_refund_jobs":  # child runs mounted under the tool that scheduled them
        tool = next(n for n in all_nodes if n.display.label == "issueRefund")
        assert [c.id for c in items(tool.children)] == [
            "run:run_refund_process",
            "run:run_refund_notify",
        ]
        notify = next(n for n in all_nodes if n.id == "run:run_refund_notify")
        assert notify.status == "error" and notify.parentId == tool.id
        assert (detail.run.childRunCount, detail.run.failedChildCount) == (3, 1)
        assert [m.run.runId for m in items(detail.memberRuns)] == [
            "run_refund_jobs",
            "run_refund_process",
            "run_refund_ledger",
            "run_refund_notify",
        ]
    if run_id == "run_plan_approval":
        assert any(n.kind == "suspension" and n.status == "suspended" for n in all_nodes)
