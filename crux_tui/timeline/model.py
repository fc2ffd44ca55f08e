"""The span index of one RunDetail: every visible node and every folded detail.

:func:`build_model` walks the presentation tree once (explicit stack, no recursion,
so hostile 10k-deep trees are fine) and precomputes everything the layout needs per
span: cleaned label, status/severity, run-relative timing, canonical and presentation
parents, search haystack, error flag, tokens/cost. Entries are addressed by an integer
index; per-span data lives in parallel lists so the layout loops stay cheap.

An operation's RunDetail (``crux-v5.md`` C.4) mounts each child run's root as a
``run:<runId>`` node; such a *member run* entry's canonical parent is the span that
started it (``memberRuns[].triggeredBySpanId``), and a span of a member run with no
canonical parent of its own hangs from that member's root, not the operation's.

No Textual imports here.
"""

from __future__ import annotations

import math
from typing import Any

from crux_tui.contract.models import (
    MemberRun,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    items,
)
from crux_tui.contract.statuses import ERROR_STATUSES, RUNNING, severity_of
from crux_tui.contract.vocabulary import LABEL_FIELDS, is_infrastructure_primitive
from crux_tui.perf import mark_bulk, no_gc
from crux_tui.sanitize import clean
from crux_tui.timestamps import epoch_ms
from crux_tui.values import metric, number

# --------------------------------------------------------------------------- time

#: RFC3339 -> epoch milliseconds (shared with the rest of the app).
parse_ms = epoch_ms


def _tokens(metrics: Any) -> float | None:
    if not metrics or not isinstance(metrics, dict):
        return None
    total = metric(metrics, "totalTokens")
    if total:
        return total
    parts = [metric(metrics, "inputTokens"), metric(metrics, "outputTokens")]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


# --------------------------------------------------------------------------- entries


class SpanEntry:
    """Precomputed, immutable per-span data (a node or a folded detail)."""

    __slots__ = (
        "canonical_parent",
        "cost",
        "default_expanded",
        "display_kind",
        "duration_ms",
        "error_start",
        "haystack",
        "index",
        "infrastructure",
        "is_detail",
        "is_error",
        "key",
        "kind",
        "label",
        "member_run",
        "model",
        "node_id",
        "open_ended",
        "owner",
        "placement_reason",
        "presentation_depth",
        "presentation_parent",
        "primitive",
        "reparented",
        "role",
        "run_root",
        "severity",
        "source",
        "span_id",
        "start_ms",
        "start_offset_ms",
        "status",
        "tokens",
    )

    index: int
    key: str
    span_id: str
    node_id: str
    source: RunDetailNode | RunDetailDetail
    is_detail: bool
    label: str
    kind: str
    display_kind: str
    primitive: str
    status: str
    severity: str
    role: str
    placement_reason: str
    infrastructure: bool
    is_error: bool
    #: an error starts here (see :func:`_mark_error_starts`), not one that rolled up to it
    error_start: bool
    start_ms: float | None
    start_offset_ms: float | None
    duration_ms: float
    open_ended: bool
    tokens: float | None
    cost: float | None
    model: str
    haystack: str
    #: entry index of the presentation parent (nodes) or owner node (details); -1 for root
    presentation_parent: int
    #: owner node index for details, -1 for nodes
    owner: int
    #: entry index of the canonical parent span; -1 when none/unknown
    canonical_parent: int
    presentation_depth: int
    default_expanded: bool
    reparented: bool
    #: run id when this entry is a member run mounted in an operation (``run:<id>``), else ""
    member_run: str
    #: entry index of the root of the member run this entry belongs to (the operation root
    #: for spans of the root run)
    run_root: int

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"SpanEntry({self.key!r}, {self.label!r}, detail={self.is_detail})"


def _label_of(span: Any, explicit: str) -> str:
    if explicit:
        return explicit
    for attr in LABEL_FIELDS:
        value = getattr(span, attr, "")
        if value:
            return value
    return ""


class TimelineModel:
    """Index of every span of one RunDetail. Build with :func:`build_model`."""

    def __init__(self, detail: RunDetail) -> None:
        self.detail = detail
        self.entries: list[SpanEntry] = []
        #: entry index by key (span id, else node/detail id; unique)
        self.by_key: dict[str, int] = {}
        #: entry index by span id (first occurrence)
        self.by_span_id: dict[str, int] = {}
        #: presentation children (entry indices) of each node, in backend order
        self.children: dict[int, list[int]] = {}
        #: folded details (entry indices) of each owner node, in backend order
        self.details: dict[int, list[int]] = {}
        self.root = 0
        self.window_start_ms = 0.0
        self.window_end_ms = 0.0
        #: entry indices ordered by (startedAt, spanId) -- the canonical sibling order
        self.rank: list[int] = []
        self.node_count = 0
        self.detail_count = 0
        #: member run id -> entry index of its mounted ``run:<id>`` node (operations only)
        self.member_runs: dict[str, int] = {}
        #: member run id -> its ``memberRuns`` entry (summary, parent, trigger, diagnostics)
        self.members: dict[str, MemberRun] = {}
        #: infrastructure-only spans (folded unless the ``i`` toggle is on)
        self.infrastructure_count = 0
        # caches, filled lazily (see layout.py); safe to race: last write wins
        self.structures: dict[tuple[bool, bool, bool], Any] = {}
        self.search_cache: dict[str, frozenset[int]] = {}

    @property
    def span_count(self) -> int:
        return len(self.entries)

    def entry(self, key: str) -> SpanEntry | None:
        index = self.by_key.get(key)
        if index is None:
            index = self.by_span_id.get(key)
        return self.entries[index] if index is not None else None


def _unique_key(model: TimelineModel, key: str) -> str:
    if key not in model.by_key:
        return key
    n = 2
    while f"{key}#{n}" in model.by_key:
        n += 1
    return f"{key}#{n}"


def _new_entry(
    model: TimelineModel,
    span: RunDetailNode | RunDetailDetail,
    *,
    is_detail: bool,
    parent: int,
    depth: int,
) -> SpanEntry:
    e = SpanEntry()
    e.index = len(model.entries)
    e.span_id = span.spanId or ""
    e.node_id = span.id or ""
    fallback = e.node_id or f"#{e.index}"
    e.key = _unique_key(model, e.span_id or fallback)
    e.source = span
    e.is_detail = is_detail
    e.primitive = span.primitive or ""
    status = (span.status or "").lower()
    e.status = status
    if is_detail:
        assert isinstance(span, RunDetailDetail)
        e.label = clean(_label_of(span, span.label))
        e.kind = span.kind or "detail"
        e.display_kind = clean(span.family or span.kind or span.role or "detail")
        e.role = clean(span.role or "")
        e.severity = severity_of(status)
        metrics = span.metrics
    else:
        assert isinstance(span, RunDetailNode)
        display = span.display
        e.label = clean(_label_of(span, display.label if display else ""))
        e.kind = span.kind or "operation"
        e.display_kind = clean((display.kind if display else "") or span.kind or "operation")
        e.role = ""
        e.severity = (display.severity if display else "") or severity_of(status)
        buckets = span.metricBuckets
        metrics = (buckets.total if buckets else None) or span.metrics
    e.placement_reason = span.source.placementReason if span.source else ""
    # infrastructure-only: a runtime.convex.* span the backend folded (a primary Convex
    # action, such as the run's root, is an operation in its own right)
    e.infrastructure = is_detail and is_infrastructure_primitive(e.primitive)
    e.is_error = status in ERROR_STATUSES or bool(span.error)
    e.error_start = False
    timing = span.timing
    started = (timing.startedAt if timing else "") or span.startedAt
    ended = (timing.endedAt if timing else "") or span.endedAt
    e.start_ms = parse_ms(started)
    duration = number(timing.durationMs if timing else None) or number(span.durationMs) or 0.0
    if duration <= 0 and ended and e.start_ms is not None:
        end_ms = parse_ms(ended)
        if end_ms is not None:
            duration = max(0.0, end_ms - e.start_ms)
    e.duration_ms = max(0.0, duration)
    e.open_ended = status == RUNNING and not ended
    e.start_offset_ms = None
    if metrics:
        e.tokens = _tokens(metrics)
        e.cost = metric(metrics, "costUsd", "cost", "totalCost")
    else:
        e.tokens = e.cost = None
    e.model = clean(span.model or "")
    e.haystack = "\x00".join(
        (e.label, span.name, e.primitive, span.toolName, span.model, e.span_id)
    ).lower()
    e.presentation_parent = parent
    e.owner = parent if is_detail else -1
    e.canonical_parent = -1
    e.presentation_depth = depth
    e.default_expanded = True if is_detail else depth < 2
    e.reparented = False
    e.member_run = ""
    e.run_root = 0  # the operation's root run (see _note_member)
    model.entries.append(e)
    model.by_key[e.key] = e.index
    if e.span_id and e.span_id not in model.by_span_id:
        model.by_span_id[e.span_id] = e.index
    return e


#: Models from this many entries on are promoted past the young GC generations.
BULK_ENTRIES = 5000


def build_model(detail: RunDetail) -> TimelineModel:
    """Index every span of ``detail`` (O(n), iterative)."""
    with no_gc():
        model = _build_model(detail)
        if len(model.entries) >= BULK_ENTRIES:
            mark_bulk()
        return model


def operation_id(detail: RunDetail) -> str:
    """The operation a RunDetail shows (a v2 run is its own operation)."""
    run = detail.run
    return run.operationId or run.rootRunId or run.runId


def _member_run_of(node: RunDetailNode, operation: str) -> str:
    """The run id of a mounted member run root (``run:<id>`` other than the operation)."""
    node_id = node.id
    if node_id.startswith("run:") and node_id[4:] and node_id[4:] != operation:
        return node_id[4:]
    return ""


def _note_member(
    model: TimelineModel, e: SpanEntry, node: RunDetailNode, operation: str, parent_run: int
) -> None:
    """Mark ``e`` as a mounted member run root, or let it inherit its parent's run."""
    member = _member_run_of(node, operation)
    if member and member not in model.member_runs:
        e.member_run = member
        e.run_root = e.index
        model.member_runs[member] = e.index
        model.by_key.setdefault(e.node_id, e.index)  # findable as run:<id>
    else:
        e.run_root = parent_run


def _build_model(detail: RunDetail) -> TimelineModel:
    model = TimelineModel(detail)
    operation = operation_id(detail)
    model.members = {m.run.runId: m for m in items(detail.memberRuns) if m.run.runId}
    root = detail.root
    root_entry = _new_entry(model, root, is_detail=False, parent=-1, depth=0)
    if not root_entry.label:
        root_entry.label = clean(detail.run.name or detail.run.runId or "run")
    if not root.spanId and not root.id:
        # virtual root without ids: key it by the run
        del model.by_key[root_entry.key]
        root_entry.key = _unique_key(model, f"run:{detail.run.runId}")
        model.by_key[root_entry.key] = 0
    model.root = 0
    stack: list[tuple[RunDetailNode, int]] = [(root, 0)]
    entries = model.entries
    # an operation with child runs (a v2 run, or a lone one, takes the plain path)
    operation_members = any(run != operation for run in model.members)
    while stack:
        node, index = stack.pop()
        depth = entries[index].presentation_depth
        dets = items(node.details)
        if dets:
            indices = [
                _new_entry(model, d, is_detail=True, parent=index, depth=depth + 1).index
                for d in dets
            ]
            model.details[index] = indices
            if operation_members:
                for i in indices:
                    entries[i].run_root = entries[index].run_root
        kids = items(node.children)
        if kids:
            child_indices = [
                _new_entry(model, c, is_detail=False, parent=index, depth=depth + 1).index
                for c in kids
            ]
            model.children[index] = child_indices
            if operation_members:
                for i, c in zip(child_indices, kids, strict=True):
                    _note_member(model, entries[i], c, operation, entries[index].run_root)
            stack.extend(zip(reversed(kids), reversed(child_indices), strict=True))
    model.detail_count = sum(1 for e in entries if e.is_detail)
    model.node_count = len(entries) - model.detail_count
    model.infrastructure_count = sum(1 for e in entries if e.infrastructure)

    # canonical parents (resolved to entry indices) and the reparented marker
    by_span = model.by_span_id
    root_index = model.root
    for e in entries:
        if e.index == root_index:
            continue
        if e.member_run:
            e.canonical_parent = _trigger_entry(model, e)
            continue
        src = e.source
        cp = (src.source.canonicalParentSpanId if src.source else "") or src.parentSpanId
        home = e.run_root if e.run_root != e.index else root_index
        if cp:
            target = by_span.get(cp, home)
            e.canonical_parent = home if target == e.index else target
        else:
            e.canonical_parent = home
        if not e.is_detail:
            e.reparented = e.canonical_parent != e.presentation_parent

    _mark_error_starts(model)
    _compute_window(model)
    model.rank = sorted(
        range(len(entries)),
        key=lambda i: (
            entries[i].start_ms if entries[i].start_ms is not None else math.inf,
            entries[i].span_id,
        ),
    )
    return model


def _trigger_entry(model: TimelineModel, e: SpanEntry) -> int:
    """The entry of the span that started member run ``e`` (in its parent run), else
    where the backend mounted it."""
    member = model.members.get(e.member_run)
    trigger = member.triggeredBySpanId if member is not None else ""
    index = model.by_span_id.get(trigger) if trigger else None
    if index is None or index == e.index:
        return e.presentation_parent
    parent_run = member.parentRunId if member is not None else ""
    found_run = model.entries[index].source.runId
    if parent_run and found_run and found_run != parent_run:
        return e.presentation_parent  # a span of that id, but not the parent run's
    return index


ERROR_ARTIFACTS = ("error.stack", "error.raw")
_NO_KEYS: frozenset[str] = frozenset()


def error_evidence(span: RunDetailNode | RunDetailDetail) -> str | None:
    """What a span's own error says (its message, else its stack's first line); ``""`` when
    it carries only an error artifact without text, ``None`` when it carries no error."""
    error = span.error
    if isinstance(error, dict):
        message = error.get("message") or error.get("name")
        if message:
            return clean(message)
    elif error:
        return clean(error)
    for artifact in items(span.artifacts):
        if artifact.kind in ERROR_ARTIFACTS:
            preview = artifact.preview
            if isinstance(preview, str) and preview.strip():
                first = preview.strip().splitlines()[0]
                return clean(first.partition(": ")[2] or first)
            if isinstance(preview, dict) and preview.get("message"):
                return clean(preview["message"])
            return ""
    return None


def _mark_error_starts(model: TimelineModel) -> None:
    """Set ``error_start`` on the spans where an error starts, children before parents.

    A span's status is rolled up from its children, so an error status alone does not
    say the span failed. An error starts at a span that carries its own error (object or
    error artifact) whose message no descendant carried first, or, without such evidence,
    at an error status that no child explains (no child in an error status).
    """
    entries = model.entries
    below: list[frozenset[str]] = [_NO_KEYS] * len(entries)
    for e in reversed(entries):  # a child's index is always greater than its parent's
        i = e.index
        kids = [*model.children.get(i, ()), *model.details.get(i, ())]
        keys = _NO_KEYS
        for k in kids:
            if below[k]:
                keys = keys | below[k]
        evidence = error_evidence(e.source)
        if evidence is not None:
            e.error_start = evidence not in keys
            keys = keys | {evidence}
        elif e.status in ERROR_STATUSES:
            e.error_start = not any(
                entries[k].status in ERROR_STATUSES for k in model.children.get(i, ())
            )
        below[i] = keys


def _compute_window(model: TimelineModel) -> None:
    run = model.detail.run
    run_start = parse_ms(run.startedAt)
    run_end = parse_ms(run.endedAt)
    lo = run_start
    hi = run_end
    for e in model.entries:
        s = e.start_ms
        if s is None:
            continue
        if lo is None or s < lo:
            lo = s
        end = s + e.duration_ms
        if hi is None or end > hi:
            hi = end
    if lo is None:
        lo = 0.0
    if hi is None or hi < lo:
        run_duration = number(run.durationMs) or 0.0
        hi = lo + run_duration
    if run_start is not None and run_end is None:
        hi = max(hi, run_start + (number(run.durationMs) or 0.0))
    model.window_start_ms = lo
    model.window_end_ms = hi
    for e in model.entries:
        if e.start_ms is not None:
            e.start_offset_ms = e.start_ms - lo
