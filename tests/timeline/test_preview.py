"""The provisional timeline painted from a RunDetail's head (run + rows) before the rest
of a big body arrives: it must show exactly the nodes the whole RunDetail shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crux_tui.backend.projection import project_run_detail
from crux_tui.backend.store import Store
from crux_tui.contract.models import (
    RunDetail,
    RunDetailHead,
    RunDetailNode,
    RunDetailRow,
    RunSummary,
    items,
)
from crux_tui.demo import build_demo_records, scaled_run_records
from crux_tui.loading import batches
from crux_tui.timeline import TimelineOptions, build_model, layout
from crux_tui.timeline.preview import detail_from_head

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _projected_runs() -> list[RunDetail]:
    records = build_demo_records(now=NOW) + scaled_run_records(300, now=NOW)
    store = Store(":memory:")
    for chunk in batches(records):
        store.ingest_batch(chunk)
    run_ids = list(dict.fromkeys(r["runId"] for r in records))
    details = []
    for run_id in run_ids:
        graph = store.graph(run_id, include_records=False)
        assert graph is not None
        details.append(project_run_detail(graph, NOW))
    store.close()
    return details


RUNS = _projected_runs()


def _shape(root: RunDetailNode) -> list[tuple[str, str, int, str, str, str]]:
    """Every node depth-first: id, parent id, depth, label, status, start."""
    out, stack = [], [(root, "", 0)]
    while stack:
        node, parent, depth = stack.pop()
        out.append((node.id, parent, depth, node.display.label, node.status, node.timing.startedAt))
        stack.extend((c, node.id, depth + 1) for c in reversed(items(node.children)))
    return out


@pytest.mark.parametrize("detail", RUNS, ids=lambda d: d.run.runId)
def test_preview_shows_the_nodes_of_the_whole_detail(detail: RunDetail) -> None:
    preview = detail_from_head(RunDetailHead.of(detail))
    assert _shape(preview.root) == _shape(detail.root)
    assert preview.run == detail.run and preview.diagnostics == detail.diagnostics

    # the timeline of the preview lists the same node rows, in the same order
    options = TimelineOptions()
    whole = [(r.key, r.label, r.status) for r in layout(build_model(detail), options)]
    early = [(r.key, r.label, r.status) for r in layout(build_model(preview), options)]
    details = {r.key for r in layout(build_model(detail), options) if r.is_detail}
    assert early == [row for row in whole if row[0] not in details]


def test_preview_never_marks_a_node_as_moved_on_a_guess() -> None:
    for detail in RUNS:
        model = build_model(detail_from_head(RunDetailHead.of(detail)))
        assert not any(e.reparented for e in model.entries)


def test_damaged_rows_still_show_every_row() -> None:
    run = RunSummary(runId="r", name="agent", status="running")
    rows = [
        RunDetailRow(nodeId="span:b", spanId="b", parentId="span:missing", depth=2),
        RunDetailRow(nodeId="span:c", spanId="c", parentId="span:b", depth=3),
        RunDetailRow(nodeId="span:d", spanId="d", parentId="span:d", depth=1),  # itself
    ]
    preview = detail_from_head(RunDetailHead(run=run, rows=rows))
    assert preview.root.id == "run:r" and preview.root.display.label == "agent"
    assert [c.id for c in items(preview.root.children)] == ["span:b", "span:d"]
    assert [c.id for c in items(items(preview.root.children)[0].children)] == ["span:c"]
    empty = detail_from_head(RunDetailHead(run=run))
    assert empty.root.id == "run:r" and not items(empty.root.children)


def test_a_run_without_a_root_row_gets_a_virtual_run_node_from_its_summary() -> None:
    """No row is the root: the preview's root is the run itself (``run:<id>``, virtual),
    with the run's name, status and times; labelled by its id when it has no name."""
    run = RunSummary(
        runId="r",
        traceId="t",
        name="agent",
        status="error",
        startedAt="2026-05-16T18:00:00Z",
        endedAt="2026-05-16T18:00:02Z",
        durationMs=2000,
    )
    preview = detail_from_head(RunDetailHead(run=run, schemaVersion=5))
    assert preview.schemaVersion == 5
    root = preview.root
    assert (root.id, root.runId, root.traceId, root.kind, root.virtual) == (
        "run:r",
        "r",
        "t",
        "run",
        True,
    )
    assert (root.name, root.status, root.startedAt, root.endedAt, root.durationMs) == (
        "agent",
        "error",
        "2026-05-16T18:00:00Z",
        "2026-05-16T18:00:02Z",
        2000,
    )
    assert (root.display.kind, root.display.label) == ("run", "agent")
    unnamed = detail_from_head(RunDetailHead(run=RunSummary(runId="r2"))).root
    assert (unnamed.display.kind, unnamed.display.label) == ("run", "r2")


@pytest.mark.parametrize("detail", RUNS[:3], ids=lambda d: d.run.runId)
def test_each_preview_node_carries_its_row(detail: RunDetail) -> None:
    """Every node of the preview carries what its row says (ids, path, kind, label as name,
    model, provider, times); the root names no parent span; the preview keeps the head's
    schema version, rows, facets and counts, and no span index (the whole detail brings it)."""
    head = RunDetailHead.of(detail)
    preview = detail_from_head(head)
    nodes: dict[str, RunDetailNode] = {}
    stack = [preview.root]
    while stack:
        node = stack.pop()
        nodes[node.id] = node
        stack.extend(items(node.children))
    rows = items(head.rows)
    assert rows and len(nodes) == len(rows)
    for row in rows:
        node = nodes[row.nodeId]
        assert (node.spanId, node.parentId, node.path) == (row.spanId, row.parentId, row.path)
        assert (node.kind, node.name, node.display) == (
            row.display.kind,
            row.display.label,
            row.display,
        )
        assert (node.model, node.provider, node.status) == (row.model, row.provider, row.status)
        timing = row.timing
        assert (node.startedAt, node.endedAt, node.durationMs) == (
            timing.startedAt,
            timing.endedAt,
            timing.durationMs,
        )
    assert preview.root.parentSpanId == ""
    assert (preview.schemaVersion, preview.rows, preview.facets, preview.counts) == (
        head.schemaVersion,
        head.rows,
        head.facets,
        head.counts,
    )
    assert preview.spanIndex == {}
