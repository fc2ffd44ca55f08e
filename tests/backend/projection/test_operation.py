"""The operation RunDetail (crux-v5.md C) projected from the real store's operation graph."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from records import RunBuilder

from crux_tui.backend.projection.operation import project_operation_detail
from crux_tui.backend.store import Store
from crux_tui.contract.models import RunDetail
from tests.backend.operation_records import OP, child_records, root_records

NOW = datetime(2026, 5, 16, 18, 0, 2, tzinfo=UTC)


def _operation(records: list[dict]) -> RunDetail:
    store = Store(":memory:")
    store.ingest_batch(records)
    graph = store.operation_graph(OP)
    assert graph is not None
    return project_operation_detail(graph, NOW)


def test_an_incomplete_operations_root_is_a_primary_run_node_like_any_run_root():
    """Without its root run, the synthetic root is shown as the root of a run would be."""
    incomplete = _operation(
        child_records("run_late", base="2026-05-16T18:00:05")
        + child_records("run_early", base="2026-05-16T18:00:01")
    )
    complete = _operation(root_records() + child_records("run_early"))
    for doc in (incomplete, complete):
        assert doc.root.source.placementReason == "primary"
    assert incomplete.root.virtual and incomplete.root.kind == "run"
    root = incomplete.root
    assert (root.runId, root.status, root.display.severity) == (OP, "incomplete", "warn")
    assert root.startedAt == "2026-05-16T18:00:01.000Z"  # its earliest member's start
    assert (incomplete.run.runId, incomplete.run.operationId) == (OP, OP)


def test_the_operations_span_index_places_details_and_mounted_runs_where_they_are_shown():
    """Re-flattened after mounting: the root run's spans keep the placement its own projection
    gave them (a folded span is a detail of its owner, at its path), a child's spans follow
    its mount."""
    alone = _operation(root_records())
    doc = _operation(root_records() + child_records("run_c"))
    for sid in ("agent", "tool", "sched"):
        assert doc.spanIndex[sid] == alone.spanIndex[sid], sid
    sched = doc.spanIndex["sched"]
    assert (sched.placement, sched.ownerNodeId, sched.reason) == (
        "detail",
        "span:tool",
        "chronology",
    )
    assert sched.path == [f"run:{OP}", "span:tool", "detail:sched"]
    child = doc.spanIndex["run_c_action"]
    assert (child.placement, child.nodeId) == ("node", "run:run_c")
    assert child.path == [f"run:{OP}", "span:tool", "run:run_c"]


def test_the_operation_is_first_seen_when_its_first_member_was_even_if_the_root_came_later():
    store = Store(":memory:")
    store.ingest_batch(child_records("run_early", base="2026-05-16T18:00:01"))
    store.ingest_batch(root_records())  # started earlier, arrives later
    graph = store.operation_graph(OP)
    assert graph is not None and graph.first_seen_at == "2026-05-16T18:00:01.000000Z"
    doc = project_operation_detail(graph, NOW)
    assert doc.run.firstSeenAt == graph.first_seen_at


def test_run_level_definition_refs_are_kept_once_per_id_kind_and_role():
    prompt = {"id": "prompt.support", "kind": "prompt", "role": "resolved-prompt"}
    same_prompt_other_role = {**prompt, "role": "fallback-prompt"}
    root = root_records()
    root[0] = {**root[0], "definitionRefs": [prompt, same_prompt_other_role]}
    child = child_records("run_c")
    child[0] = {**child[0], "definitionRefs": [dict(prompt)]}  # the root's, again
    doc = _operation(root + child)
    assert doc.definitionRefs == [prompt, same_prompt_other_role]


def test_run_level_definition_refs_of_the_same_id_and_role_but_another_kind_are_both_kept():
    """crux-v5.md C `definitionRefs`: deduplicated by id + kind + role, so a kind tells apart."""
    prompt = {"id": "support", "kind": "prompt", "role": "resolved"}
    agent = {**prompt, "kind": "agent"}
    root = root_records()
    root[0] = {**root[0], "definitionRefs": [prompt]}
    child = child_records("run_c")
    child[0] = {**child[0], "definitionRefs": [agent]}
    assert _operation(root + child).definitionRefs == [prompt, agent]


def test_the_operations_rows_are_the_mounted_tree_in_pre_order_with_their_spans():
    """Re-flattened after mounting: the root run's rows as its own projection made them (a
    trigger span now has children), then each mounted node's row, expanded above depth 2."""
    alone = _operation(root_records())
    child = child_records("run_c")
    extra = RunBuilder("run_c", schema_version=5, operation_id=OP, segment_id="seg_gen")
    child.insert(
        -1,
        extra.span(
            "gen",
            "generation.call",
            parent="run_c_action",
            at=150,
            end=200,
            model="m-1",
            provider="acme",
        ),
    )
    doc = _operation(root_records() + child)
    rows = {r.nodeId: r for r in doc.rows or ()}
    assert list(rows) == [*(r.nodeId for r in alone.rows or ()), "run:run_c", "span:gen"]
    for row in alone.rows or ():
        has_children = row.hasChildren or row.nodeId == "span:tool"
        assert rows[row.nodeId] == msgspec.structs.replace(row, hasChildren=has_children)
    mounted, gen = rows["run:run_c"], rows["span:gen"]
    assert (mounted.spanId, mounted.parentId, mounted.depth) == ("run_c_action", "span:tool", 2)
    assert (gen.spanId, gen.parentId, gen.depth, gen.hasChildren) == ("gen", "run:run_c", 3, False)
    assert (gen.model, gen.provider, gen.status) == ("m-1", "acme", "ok")
    assert [r.expandedDefault for r in rows.values()] == [r.depth < 2 for r in rows.values()]
    assert any(r.expandedDefault for r in rows.values())


def test_a_mounted_virtual_run_root_keeps_its_runs_metrics_and_its_hosts_total_them():
    """Metric roll-ups are recomputed over the mounted tree: a child run with no single root
    span still totals its run's own metrics, and the span it hangs under adds them up."""
    child = RunBuilder("run_v", schema_version=5, operation_id=OP, trace_id=f"trace_{OP}")
    records = [
        child.run_start(
            name="v",
            root_primitive="runtime.convex.action",
            parentRunId=OP,
            triggeredBySpanId="tool",
        ),
        child.span("x1", "tool.call", at=100, end=200),
        child.span("x2", "tool.call", at=150, end=250),
        child.run_end(at=300, metrics={"costUsd": 0.25}),
    ]
    doc = _operation(root_records() + records)
    mounted = next(n for n in doc.root.children or () if n.id == "span:tool").children or []
    (child_root,) = mounted
    assert child_root.id == "run:run_v" and child_root.virtual
    assert (child_root.metricBuckets.total or {}) == {"costUsd": 0.25}
    assert (doc.root.metricBuckets.total or {}) == {"costUsd": 0.25}


def test_an_incomplete_operation_whose_members_have_no_start_yet_has_no_start():
    """C.1 / B.5: without its root, the operation starts at its earliest member's start; when
    no member has a start yet (only a child's run:end arrived) it has none, and still projects."""
    run_end_only = child_records("run_c")[-1:]
    assert [r["type"] for r in run_end_only] == ["run:end"]
    doc = _operation(run_end_only)
    assert (doc.root.runId, doc.root.status) == (OP, "incomplete")
    assert (doc.root.startedAt, doc.run.startedAt) == ("", "")


def test_a_members_own_run_level_diagnostics_stay_in_its_member_run_entry():
    """crux-v5.md C.3 / §6: ``memberRuns[i].diagnostics`` is that member projection's
    run-level list; a child's diagnostics stay there, not in the top-level list."""
    child = RunBuilder("run_c", schema_version=5, operation_id=OP, trace_id=f"trace_{OP}")
    records = [
        child.run_start(
            name="run_c",
            root_primitive="runtime.convex.action",
            parentRunId=OP,
            triggeredBySpanId="tool",
        ),
        child.span("run_c_action", "runtime.convex.action", name="run_c", at=100, end=400),
        child.span("orphan", "tool.call", parent="ghost", at=150, end=200),
        child.run_end(at=410),
    ]
    doc = _operation(root_records() + records)
    members = {m.run.runId: m for m in doc.memberRuns or ()}
    assert [d.code for d in members["run_c"].diagnostics or ()] == ["missing-parent-span"]
    assert members[OP].diagnostics == []
    assert "missing-parent-span" not in [d.code for d in doc.diagnostics or ()]


def test_an_operation_without_its_root_run_has_the_status_incomplete():
    """crux-v5.md C.1 / the operation summary's ``status``: the root's effective status, or
    ``"incomplete"`` without a root; the document's run says so as its root node does."""
    doc = _operation(child_records("run_early", base="2026-05-16T18:00:01"))
    assert (doc.run.status, doc.root.status) == ("incomplete", "incomplete")
