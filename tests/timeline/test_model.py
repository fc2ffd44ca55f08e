"""The timeline's span index (``timeline.model``), pure: what each entry says of its span
(timing, kind, error), the window of the run, and where spans of member runs belong."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import msgspec
from gocrux import fixtures as fx

from crux_tui.contract.models import RunDetail, Timing
from crux_tui.timeline import TimelineOptions, build_model, expand_all, layout
from crux_tui.timeline.model import error_evidence, parse_ms
from tests.timeline.builders import convex_run, detail, node, run_detail, ts

NOW = datetime(2026, 5, 16, 18, 0, 30, tzinfo=UTC)


def test_a_span_without_a_duration_lasts_from_its_start_to_its_end() -> None:
    """No ``durationMs`` (neither in its timing nor on the span): its end minus its start."""
    span = node("s", start=100, duration=0)
    span.timing = Timing(startedAt=ts(100), endedAt=ts(350))
    span.durationMs = None
    model = build_model(run_detail(node("a", start=0, duration=1000, children=[span])))
    entry = model.entry("s")
    assert entry is not None and entry.duration_ms == 250


def test_the_window_starts_at_the_run_start_when_that_is_before_the_first_span() -> None:
    """A run that started before its first span: the window starts with the run, and span
    offsets count from there; a run still going lasts at least its ``durationMs``."""
    root = node("a", start=100, duration=50, ended=False, status="running")
    running = run_detail(root, ended=False, duration=2000)
    running.run = msgspec.structs.replace(running.run, startedAt=ts(0))
    model = build_model(running)
    assert model.window_start_ms == parse_ms(ts(0))
    assert model.window_end_ms == parse_ms(ts(2000))
    entry = model.entry("a")
    assert entry is not None and entry.start_offset_ms == 100


def test_a_folded_detail_shows_its_family_else_its_kind_else_its_role() -> None:
    details = [
        detail("by_family", family="prompt", kind="tool", role="input"),
        detail("by_kind", family="", primitive="x.y", kind="tool", role="input"),
        detail("by_role", family="", primitive="x.y", kind="", role="input"),
        detail("plain", family="", primitive="x.y", kind="", role=""),
    ]
    model = build_model(run_detail(node("a", details=details)))
    kinds = {key: model.entry(key).display_kind for key in ("by_family", "by_kind", "by_role")}
    assert kinds == {"by_family": "prompt", "by_kind": "tool", "by_role": "input"}
    plain = model.entry("plain")
    assert plain is not None and plain.display_kind == "detail"


def test_error_evidence_is_the_message_else_the_name_of_the_error() -> None:
    assert error_evidence(node("m", error={"message": "boom", "name": "TypeError"})) == "boom"
    assert error_evidence(node("n", error={"name": "TypeError"})) == "TypeError"
    assert error_evidence(node("t", error="timed out")) == "timed out"
    assert error_evidence(node("none")) is None


def test_infrastructure_spans_are_counted_once_each() -> None:
    """The folded ``runtime.convex.*`` boundaries (B and b2 of the convex run)."""
    model = build_model(convex_run())
    assert model.infrastructure_count == 2
    assert sorted(e.key for e in model.entries if e.infrastructure) == ["B", "b2"]


def test_a_member_runs_detail_without_a_parent_hangs_from_that_member_run() -> None:
    """A folded detail of a member run's span that names no parent span of its own belongs,
    canonically, to that member run's root (not to the operation's)."""
    body = copy.deepcopy(fx.chat_operation(NOW).detail)
    summarize = body["root"]["children"][1]["children"][0]["children"][0]
    assert summarize["spanId"] == "sp_sum_gen"
    prompt = copy.deepcopy(body["root"]["children"][2]["details"][0])
    prompt.update(
        spanId="sp_sum_prompt",
        runId=fx.CHILD_SUM,
        parentSpanId="",
        family="prompt",
        primitive="prompt.resolve",
        name="summary prompt",
        label="summary prompt",
        id="detail:sp_sum_prompt",
        kind="detail",
        role="input",
        source={"placementReason": "chronology", "ownerSpanId": "sp_sum_gen"},
    )
    summarize["details"] = [prompt]
    operation = msgspec.json.decode(msgspec.json.encode(body), type=RunDetail)
    options = expand_all(TimelineOptions(show_details=True, canonical_parents=True))
    rows = [
        (row.depth, row.label, row.member_run) for row in layout(build_model(operation), options)
    ]
    labels = [label for _, label, _ in rows]
    at = labels.index("summary prompt")
    assert rows[at - 2 : at + 1] == [
        (2, "summarize:thread", fx.CHILD_SUM),
        (3, "summarize", ""),
        (3, "summary prompt", ""),  # under the member run's root, beside its owner
    ]


def test_error_evidence_of_an_error_artifact_is_its_message() -> None:
    """Without an error object, an error artifact speaks: its text preview's first line
    (past the exception name), or its object preview's message; else it says nothing."""
    from crux_tui.contract.models import ArtifactSummary

    def with_artifact(preview: object) -> str | None:
        span = node("s")
        span.artifacts = [ArtifactSummary(kind="error.stack", preview=preview)]
        return error_evidence(span)

    assert with_artifact("TypeError: boom\n  at f()") == "boom"
    assert with_artifact({"message": "disk full"}) == "disk full"
    assert with_artifact({"name": "IOError"}) == ""


def test_a_span_costs_what_its_metrics_say_under_any_cost_name() -> None:
    spans = [
        node("usd", metrics={"costUsd": 0.25}),
        node("plain", metrics={"cost": 0.5}),
        node("total", metrics={"totalCost": 0.75}),
    ]
    model = build_model(run_detail(node("a", children=spans)))
    costs = {key: model.entry(key).cost for key in ("usd", "plain", "total")}
    assert costs == {"usd": 0.25, "plain": 0.5, "total": 0.75}


def test_a_root_without_ids_or_label_is_keyed_and_named_by_its_run() -> None:
    """A virtual root (no span id, no node id) is keyed ``run:<runId>``; a root without a
    label shows the run's name (else its id); a detail without ids is keyed by its index."""
    anonymous = detail("", label="")
    anonymous.id = ""
    root = node("", label="", details=[anonymous])
    root.primitive = ""  # nothing of its own to be named by
    operation = run_detail(root, run_id="run_v", name="virtual run")
    root.id = ""
    model = build_model(operation)
    entry = model.entries[0]
    assert entry.key == "run:run_v" and model.by_key["run:run_v"] == 0
    assert entry.label == "virtual run"
    folded = model.entries[1]
    assert (folded.node_id, folded.key) == ("", "#1")
    unnamed = msgspec.structs.replace(
        operation, run=msgspec.structs.replace(operation.run, name="")
    )
    assert build_model(unnamed).entries[0].label == "run_v"


def test_the_node_count_leaves_out_folded_details() -> None:
    """``node_count`` (what decides whether a run opens fully expanded) counts the tree's
    nodes; folded details are counted apart."""
    model = build_model(convex_run())
    details = sum(1 for e in model.entries if e.is_detail)
    assert details > 0 and model.detail_count == details
    assert model.node_count == len(model.entries) - details


def test_a_span_known_only_by_its_end_has_no_start_and_no_duration() -> None:
    """A ``span:end`` without its ``span:start`` (presentation §0: empty family/primitive, a
    detail) has an end but no start: it is indexed with no start and no duration, not one
    measured from a missing start."""
    ended_only = detail("end_only", family="", primitive="", start=None, duration=0)
    ended_only.endedAt = ts(300)
    ended_only.timing = Timing(endedAt=ts(300))
    model = build_model(run_detail(node("a", start=0, duration=1000, details=[ended_only])))
    entry = model.entry("end_only")
    assert entry is not None
    assert (entry.start_ms, entry.start_offset_ms, entry.duration_ms) == (None, None, 0.0)


def test_an_ended_runs_window_ends_at_its_last_timestamp_not_its_duration_later() -> None:
    """The timestamps draw the window; the run's ``durationMs`` stands in only for an end they
    do not give (none, or one before the start). A run that started and ended at one instant,
    with only instant spans, keeps a zero-wide window even if its ``durationMs`` says more."""
    instant = run_detail(node("a", start=0, duration=0), duration=0)
    instant.run = msgspec.structs.replace(instant.run, durationMs=1200)
    model = build_model(instant)
    assert model.window_start_ms == model.window_end_ms == parse_ms(ts(0))


def test_a_folded_detail_has_the_severity_of_its_status() -> None:
    """presentation.md §4 ``display.severity`` for a folded detail (which has no display of
    its own): error|cancelled|blocked -> error, stale|incomplete|suspended -> warn,
    ok|success|skipped -> ok, any other status -> info."""
    statuses = {"e": "error", "c": "Cancelled", "w": "incomplete", "o": "ok", "r": "running"}
    details = [detail(key, status=status) for key, status in statuses.items()]
    model = build_model(run_detail(node("a", details=details)))
    severity = {key: model.entries[model.by_key[key]].severity for key in statuses}
    assert severity == {"e": "error", "c": "error", "w": "warn", "o": "ok", "r": "info"}


def test_a_span_of_the_operations_run_without_a_parent_hangs_from_the_operation() -> None:
    """In an operation, only the mounted ``run:<id>`` nodes are member runs: a span of the
    operation's own run that names no parent span belongs, canonically, to the operation's
    root, wherever the backend presented it (here under ``generate reply``)."""
    body = copy.deepcopy(fx.chat_operation(NOW).detail)
    generate = body["root"]["children"][0]
    assert generate["spanId"] == "sp_gen"
    orphan = copy.deepcopy(generate)
    orphan.update(spanId="sp_orphan", id="span:sp_orphan", name="orphan", parentSpanId="")
    orphan["display"]["label"] = "orphan"
    generate["children"] = [orphan]
    model = build_model(msgspec.json.decode(msgspec.json.encode(body), type=RunDetail))
    assert sorted(model.member_runs) == sorted([fx.CHILD_SUM, fx.CHILD_NOTIFY])
    options = expand_all(TimelineOptions(canonical_parents=True))
    depth = {row.label: row.depth for row in layout(model, options)}
    assert depth["generate reply"] == depth["orphan"] == 1


def test_a_span_lasts_its_timing_duration_before_its_own() -> None:
    """``timing.durationMs`` (presentation.md §4 Node timing) is the span's duration; the
    span's own ``durationMs`` counts only when the timing has none."""
    span = node("s", start=100, duration=250)
    span.durationMs = 40
    model = build_model(run_detail(node("a", start=0, duration=1000, children=[span])))
    entry = model.entry("s")
    assert entry is not None and entry.duration_ms == 250


def test_a_span_without_a_label_is_named_by_its_first_label_field() -> None:
    """No ``display.label``: the label is the first non-empty of toolName, agentId, ...,
    name, primitive, spanId (presentation.md §4 Node display.label)."""
    tool = node("t", "", kind="tool", tool_name="searchDocs", name="tool.call")
    step = node("s", "", kind="step", name="plan")
    model = build_model(run_detail(node("a", duration=100, children=[tool, step])))
    assert [model.entries[model.by_key[k]].label for k in ("t", "s")] == ["searchDocs", "plan"]


def test_the_window_starts_at_the_earliest_start_of_the_run_or_any_span() -> None:
    """The window spans the run and every span: it starts at the earliest of the run's
    start and the spans' starts (a run without a start begins with its first span)."""
    spans = [node("late", start=80, duration=10), node("early", start=50, duration=10)]
    unstarted = run_detail(node("a", start=100, duration=50, children=spans))
    unstarted.run = msgspec.structs.replace(unstarted.run, startedAt="")
    assert build_model(unstarted).window_start_ms == parse_ms(ts(50))
    before_run = run_detail(node("a", start=100, duration=50, children=spans))
    model = build_model(before_run)  # the run starts with its root, after "early"
    assert model.window_start_ms == parse_ms(ts(50))
    entry = model.entry("late")
    assert entry is not None and entry.start_offset_ms == 30


def test_a_node_with_neither_a_display_kind_nor_a_kind_shows_as_an_operation() -> None:
    """presentation.md §4 Node ``kind``: a node that says no kind (neither ``display.kind``
    nor ``kind``) is an operation."""
    bare = node("b")
    bare.kind = ""
    bare.display = msgspec.structs.replace(bare.display, kind="")
    model = build_model(run_detail(node("a", children=[bare])))
    entry = model.entry("b")
    assert entry is not None and (entry.kind, entry.display_kind) == ("operation", "operation")


def test_a_span_without_total_tokens_counts_its_input_and_output_tokens() -> None:
    """Without ``totalTokens`` a span's tokens are its ``inputTokens`` plus its
    ``outputTokens`` (presentation.md metric roll-ups: total >= input + output), either
    one alone when the other is missing."""
    spans = [
        node("both", metrics={"inputTokens": 100, "outputTokens": 20}),
        node("input", metrics={"inputTokens": 7}),
        node("output", metrics={"outputTokens": 5}),
    ]
    model = build_model(run_detail(node("a", children=spans)))
    tokens = {key: model.entries[model.by_key[key]].tokens for key in ("both", "input", "output")}
    assert tokens == {"both": 120, "input": 7, "output": 5}
