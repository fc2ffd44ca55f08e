"""render_detail / event summaries are pure: test them on hand-built models."""

from datetime import UTC, datetime

import msgspec

from crux_tui.app.widgets.detail_pane import (
    artifact_text,
    event_summary,
    render_detail,
    span_json,
    truncation_note,
)
from crux_tui.contract.models import (
    ArtifactSummary,
    RunDetail,
    RunDetailNode,
    SpanEventSummary,
)

NOW = datetime(2026, 5, 16, 18, 5, 0, tzinfo=UTC)


def node(**fields) -> RunDetailNode:
    return msgspec.convert(fields, RunDetailNode)


def test_incomplete_node_shows_reason_not_running() -> None:
    subject = node(
        id="span:gen",
        spanId="gen",
        primitive="generation.stream",
        family="generation",
        kind="generation",
        status="incomplete",
        display={"kind": "generation", "label": "reply"},
        startedAt="2026-05-16T18:00:00Z",
        endedAt="2026-05-16T18:00:30Z",
        timing={
            "startedAt": "2026-05-16T18:00:00Z",
            "endedAt": "2026-05-16T18:00:30Z",
            "durationMs": 30000,
            "selfMs": 30000,
            "childrenMs": 0,
        },
        attributes={
            "diagnostics": {
                "reconciledFrom": "operation.deadline",
                "timeoutMs": 30000,
                "deadlineAt": "2026-05-16T18:00:30Z",
            }
        },
        diagnostics=[
            {
                "code": "operation-deadline-exceeded",
                "severity": "warn",
                "message": "span exceeded its Crux operation deadline",
            }
        ],
        source={"placementReason": "primary", "canonicalParentSpanId": "agent"},
        metricBuckets={
            "total": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "costUsd": 0.001}
        },
    )
    detail = msgspec.convert(
        {"run": {"runId": "r", "startedAt": "2026-05-16T18:00:00Z"}}, RunDetail
    )
    text = render_detail(subject, detail, NOW).plain
    assert "not running" in text
    assert "operation.deadline" in text and "deadline passed" in text
    assert "deadlineAt" in text
    assert "operation-deadline-exceeded" in text
    assert "canonical parent" in text and "agent" in text
    assert "placement" in text and "primary" in text
    assert "total 15" in text and "$0.0010" in text
    assert "30.00s" in text
    assert "running" not in text.split("STATUS")[1].split("\n")[1]


def test_boundary_and_step_events_are_readable() -> None:
    requested = SpanEventSummary(
        name="runtime.convex.boundary.requested",
        timestamp="2026-05-16T18:00:00Z",
        attributes={"leaseExpiresAt": "2026-05-16T18:01:30Z", "boundaryId": "b1"},
    )
    assert "boundary requested" in event_summary(requested, NOW).plain
    assert "lease until 18:01:30.000 (expired)" in event_summary(requested, NOW).plain
    completed = SpanEventSummary(
        name="runtime.convex.boundary.completed", attributes={"status": "ok"}
    )
    assert "boundary completed · status ✓ ok" in event_summary(completed, NOW).plain
    failed = SpanEventSummary(
        name="runtime.convex.boundary.failed",
        attributes={"status": "error", "error": {"message": "child blew up"}},
    )
    plain = event_summary(failed, NOW).plain
    assert "boundary failed" in plain and "child blew up" in plain
    step = SpanEventSummary(
        name="generation.step",
        attributes={
            "stepNumber": 2,
            "finishReason": "tool-calls",
            "toolCalls": [{"toolName": "search"}, "fetch"],
        },
    )
    assert (
        event_summary(step).plain
        == "generation step 2 · finish tool-calls · tool calls: search, fetch"
    )


def test_artifact_truncation_notes() -> None:
    full = ArtifactSummary(kind="output", contentType="text/plain", preview="hello", sizeBytes=5)
    assert truncation_note(full) == ""
    cut = ArtifactSummary(kind="error.stack", preview="x" * 10, sizeBytes=5000)
    assert "may be truncated by producer" in truncation_note(cut)
    flagged = ArtifactSummary(kind="output", preview="x", attributes={"truncated": True})
    assert truncation_note(flagged) == "preview truncated by producer"
    assert "error.stack" in artifact_text(cut).plain


def test_span_json_excludes_children() -> None:
    parent = node(id="run:r", spanId="a", children=[{"id": "span:b", "spanId": "b"}])
    assert '"children": null' in span_json(parent)


def test_long_lists_are_cut_with_a_count_of_the_rest() -> None:
    """A run's root can hold thousands of folded details: the pane lists the first ones."""
    from crux_tui.app.widgets.detail_pane import LIST_LIMIT

    folded = [
        {"id": f"detail:p{i}", "spanId": f"p{i}", "name": f"prompt-{i}", "status": "ok"}
        for i in range(LIST_LIMIT + 150)
    ]
    events = [
        {"eventId": f"e{i}", "name": f"tick-{i}", "timestamp": "2026-05-16T18:00:01Z"}
        for i in range(LIST_LIMIT + 1)
    ]
    subject = node(id="run:r", spanId="root", name="root", details=folded, events=events)
    text = render_detail(subject, None, NOW).plain
    assert f"FOLDED DETAILS ({LIST_LIMIT + 150})" in text
    assert f"prompt-{LIST_LIMIT - 1}" in text and f"prompt-{LIST_LIMIT}" not in text
    assert "… and 150 more (press d to see every folded detail in the timeline)" in text
    assert f"tick-{LIST_LIMIT - 1}" in text and f"tick-{LIST_LIMIT}" not in text
    assert "… and 1 more" in text


def test_children_that_overlap_say_so_and_the_root_shows_the_runs_duration() -> None:
    timing = {
        "startedAt": "2026-05-16T18:00:00Z",
        "endedAt": "2026-05-16T18:00:02.580Z",
        "durationMs": 2580,
        "selfMs": 0,
        "childrenMs": 4200,
    }
    root = node(id="run:r", spanId="root", status="ok", kind="agent", timing=timing)
    detail = msgspec.convert(
        {"run": {"runId": "r", "durationMs": 2590, "startedAt": timing["startedAt"]}, "root": {}},
        RunDetail,
    )
    plain = " ".join(render_detail(root, detail, NOW).plain.split())
    assert "duration 2.58s (run 2.59s)" in plain
    assert "children total 4.20s (children overlap: their sum exceeds the duration)" in plain
    other = node(id="span:x", spanId="x", status="ok", kind="agent", timing=timing)
    assert "(run " not in render_detail(other, detail, NOW).plain


def test_a_rolled_up_status_says_where_it_comes_from() -> None:
    wait = node(id="span:w", spanId="w", status="suspended", kind="suspension",
                display={"kind": "suspension", "label": "plan-approval"})  # fmt: skip
    flow = node(id="span:f", spanId="f", status="suspended", kind="flow", children=[wait])
    chat = node(id="span:c", spanId="c", status="ok", kind="agent")
    root = node(id="run:r", spanId="r", status="suspended", kind="operation", children=[chat, flow])
    plain = " ".join(render_detail(root, None, NOW).plain.split())
    assert "rolled up from plan-approval (suspension)" in plain
    assert "rolled up from" not in render_detail(wait, None, NOW).plain
    assert "rolled up from" not in render_detail(chat, None, NOW).plain
