"""Incremental RunSummary roll-up.

:class:`RunState` absorbs a run's records one at a time (in arrival order, duplicates
already removed) and keeps every counter the summary needs, so ingest never rescans a
run. The same code rebuilds a state from stored records after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crux_tui.backend.timeutil import millis_between, sort_key
from crux_tui.backend.wire import PROJECTED_TYPES, WireRecord, decode_payloads
from crux_tui.contract.models import DeliveryHealth, RunSummary
from crux_tui.contract.statuses import RUNNING
from crux_tui.contract.vocabulary import DEPLOYMENT_SCHEMA_VERSION, OPERATION_SCHEMA_VERSION

ADDITIVE_METRICS = (
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "cacheReadTokens",
    "cacheWriteTokens",
    "reasoningTokens",
    "costUsd",
)
_ALIASES = {"cost": "costUsd", "totalCost": "costUsd", "cachedInputTokens": "cacheReadTokens"}


def additive_metrics(source: dict[str, Any] | None) -> dict[str, float]:
    """The token/cost part of a metrics object, with aliases resolved."""
    out: dict[str, float] = {}
    if not source:
        return out
    for key, value in source.items():
        key = _ALIASES.get(key, key)
        if (
            key in ADDITIVE_METRICS
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            out[key] = out.get(key, 0) + value
    return out


class SpanState:
    """What the roll-up remembers about one span."""

    __slots__ = ("counted", "has_metrics", "recorded", "usage")

    def __init__(self) -> None:
        self.counted = False  # parent/root accounting done (a start was seen)
        self.recorded = False  # a span record (start, end or complete) named it
        self.has_metrics = False
        self.usage: dict[str, float] | None = None


class RunState:
    """Running aggregates of one run."""

    def __init__(self, run_id: str, operation_id: str = "") -> None:
        self.run_id = run_id
        #: The run's operation ("" until a record said; the store fixes it on first sight).
        self.operation_id = operation_id
        #: From a v4+ ``run:start``: the parent run and the span of it that started this run.
        self.parent_run_id = ""
        self.triggered_by_span_id = ""
        self.has_start = False
        self.deployment: dict[str, Any] | None = None
        self.trace_id = ""
        self.session_id = ""
        self.user_id = ""
        self.name = ""
        self.root_primitive = ""
        self.started_at = ""
        self.first_span_start = ""
        self.first_span_key = ""
        self.ended_at = ""
        self.duration_ms: float | None = None
        self.status = ""
        self.error: Any = None
        self.attributes: dict[str, Any] | None = None
        self.end_metrics: dict[str, Any] | None = None
        self.model = ""
        self.provider = ""
        self.prompt_id = ""
        self.record_count = 0
        self.event_count = 0
        self.artifact_count = 0
        self.edge_count = 0
        self.segments: dict[str, list[int]] = {}  # segmentId -> [maxSeq, count]
        self.closed_segments: set[str] = set()
        self.broken_chain = 0
        self.spans: dict[str, SpanState] = {}
        self.waiting: dict[str, int] = {}
        self.missing_parents = 0
        self.roots = 0
        self.metrics: dict[str, float] = {}
        self.last_activity = ""
        self.last_activity_key = ""
        self.health: DeliveryHealth | None = None

    # -- absorbing records -------------------------------------------------------------

    def apply_raw(self, segment_id: str, segment_seq: int) -> None:
        """Count a record of any type (its segment identity only)."""
        self.record_count += 1
        seg = self.segments.get(segment_id)
        if seg is None:
            self.segments[segment_id] = [segment_seq, 1]
        else:
            seg[0] = max(seg[0], segment_seq)
            seg[1] += 1

    def apply(self, w: WireRecord) -> None:
        """Absorb one projected record (call :meth:`apply_raw` for it as well)."""
        if w.traceId and not self.trace_id:
            self.trace_id = w.traceId
        if w.sessionId and not self.session_id:
            self.session_id = w.sessionId
        if w.userId and not self.user_id:
            self.user_id = w.userId
        activity = w.activity_at()
        if activity:
            key = sort_key(activity)
            if key > self.last_activity_key:
                self.last_activity_key, self.last_activity = key, activity
        if not self.operation_id:
            self.operation_id = operation_id_of(w.schemaVersion, w.operationId, w.runId)
        if (
            self.deployment is None
            and isinstance(w.deployment, dict)
            and w.schemaVersion >= DEPLOYMENT_SCHEMA_VERSION
        ):
            self.deployment = w.deployment
        rtype = w.type
        if rtype in ("span:start", "span", "span:end"):
            self._apply_span(w)
        elif rtype == "span:event":
            self.event_count += 1
            if w.name == "usage.observed" and w.spanId:
                self._apply_usage(w.spanId, w.attributes)
        elif rtype == "artifact":
            self.artifact_count += 1
        elif rtype == "edge":
            self.edge_count += 1
        elif rtype == "run:start":
            if not self.has_start and w.schemaVersion >= OPERATION_SCHEMA_VERSION:
                # immutable: the first run:start says where the run belongs
                self.parent_run_id = w.parentRunId if isinstance(w.parentRunId, str) else ""
                trigger = w.triggeredBySpanId
                self.triggered_by_span_id = trigger if isinstance(trigger, str) else ""
            self.has_start = True
            self.name = w.name or self.name
            self.root_primitive = w.rootPrimitive or self.root_primitive
            self.started_at = w.startedAt or self.started_at
            if not self.status:
                self.status = w.status or RUNNING
            if w.attributes:
                self.attributes = {**(self.attributes or {}), **w.attributes}
            if w.traceId:
                self.trace_id = w.traceId
        elif rtype == "run:end":
            self.status = w.status or "ok"
            self.ended_at = w.endedAt or self.ended_at
            self.duration_ms = w.durationMs if w.durationMs is not None else self.duration_ms
            if w.error is not None:
                self.error = w.error
            if w.metrics:
                self.end_metrics = w.metrics
            if w.attributes:
                self.attributes = {**(self.attributes or {}), **w.attributes}
            self.closed_segments.update(self.segments)
        elif rtype == "run:suspend":
            self.closed_segments.add(w.segmentId)
        elif (
            rtype == "run:resume"
            and w.previousSegmentId
            and w.previousSegmentId not in self.segments
        ):
            self.broken_chain += 1

    def _span(self, span_id: str) -> SpanState:
        state = self.spans.get(span_id)
        if state is None:
            state = self.spans[span_id] = SpanState()
            waiting = self.waiting.pop(span_id, 0)
            self.missing_parents -= waiting
        return state

    def _apply_span(self, w: WireRecord) -> None:
        span_id = w.spanId or ""
        state = self._span(span_id)
        state.recorded = True
        if w.type != "span:end" and not state.counted:
            state.counted = True
            parent = w.parentSpanId or ""
            if not parent:
                self.roots += 1
            elif parent not in self.spans:
                self.waiting[parent] = self.waiting.get(parent, 0) + 1
                self.missing_parents += 1
            start_key = sort_key(w.startedAt)
            if w.startedAt and (not self.first_span_key or start_key < self.first_span_key):
                self.first_span_key, self.first_span_start = start_key, w.startedAt
            if w.model and not self.model:
                self.model = w.model
                self.provider = w.provider or self.provider
            if w.provider and not self.provider:
                self.provider = w.provider
            if w.promptId and not self.prompt_id:
                self.prompt_id = w.promptId
        if w.type != "span:start" and w.metrics and not state.has_metrics:
            own = additive_metrics(w.metrics)
            if own:
                state.has_metrics = True
                self._add(own, 1)
                if state.usage:
                    self._add(state.usage, -1)
                    state.usage = None

    def _apply_usage(self, span_id: str, attributes: dict[str, Any] | None) -> None:
        state = self._span(span_id)
        if state.has_metrics:
            return
        usage = additive_metrics(attributes)
        if not usage:
            return
        self._add(usage, 1)
        merged = state.usage or {}
        for key, value in usage.items():
            merged[key] = merged.get(key, 0) + value
        state.usage = merged

    def _add(self, values: dict[str, float], sign: int) -> None:
        for key, value in values.items():
            self.metrics[key] = self.metrics.get(key, 0) + sign * value

    # -- output ------------------------------------------------------------------------

    @property
    def stored_status(self) -> str:
        return self.status or RUNNING

    @property
    def start(self) -> str:
        return self.started_at or self.first_span_start

    def has_span(self, span_id: str) -> bool:
        """Whether a span record of this run named ``span_id``."""
        state = self.spans.get(span_id)
        return state is not None and state.recorded

    def gap_count(self) -> int:
        missing_seqs = sum(max(0, seg[0] - seg[1]) for seg in self.segments.values())
        return missing_seqs + self.missing_parents + self.broken_chain

    def summary(self, revision: int = 0) -> RunSummary:
        """The canonical RunSummary (stored status, not the presented one)."""
        gaps = self.gap_count()
        partial = gaps > 0 or self.roots > 1
        live = [s for s in self.segments if s not in self.closed_segments]
        duration = self.duration_ms
        if duration is None:
            duration = millis_between(self.start, self.ended_at) or 0
        metrics: dict[str, Any] | None = None
        if self.metrics:
            metrics = {k: _tidy(v) for k, v in self.metrics.items()}
        if self.end_metrics:
            extra = {k: v for k, v in self.end_metrics.items() if not metrics or k not in metrics}
            metrics = {**(metrics or {}), **extra} if extra else metrics
        return RunSummary(
            runId=self.run_id,
            traceId=self.trace_id,
            sessionId=self.session_id,
            userId=self.user_id,
            name=self.name,
            rootPrimitive=self.root_primitive,
            status=self.stored_status,
            startedAt=self.start,
            endedAt=self.ended_at,
            durationMs=duration,
            model=self.model,
            provider=self.provider,
            promptId=self.prompt_id,
            recordCount=self.record_count,
            spanCount=len(self.spans),
            eventCount=self.event_count,
            artifactCount=self.artifact_count,
            edgeCount=self.edge_count,
            segmentCount=len(self.segments),
            activeSegmentId=live[0] if len(live) == 1 and self.stored_status == RUNNING else "",
            orderingConfidence="partial" if partial else "causal",
            gapCount=gaps,
            lastActivityAt=self.last_activity,
            revision=revision,
            deliveryHealth=self.health,
            attributes=self.attributes,
            metrics=metrics,
            error=self.error,
            operationId=self.operation_id or self.run_id,
            rootRunId=self.operation_id or self.run_id,
            rootPresent=self.has_start,
            deployment=self.deployment,
        )


def operation_id_of(version: int, operation_id: Any, run_id: str) -> str:
    """The operation of a record: ``operationId`` from schema v4 on, else (v2/v3) the
    operation named by the record's ``runId``."""
    if version >= OPERATION_SCHEMA_VERSION and isinstance(operation_id, str) and operation_id:
        return operation_id
    return run_id


def _tidy(value: float) -> float | int:
    if isinstance(value, float):
        rounded = round(value, 10)
        return rounded
    return value


def delivery_health(
    source_health: dict[str, Any] | None, rejected: int, now: str
) -> DeliveryHealth:
    """Delivery health of a batch from its ``sourceHealth`` and our own rejections."""
    dropped = 0
    last_error = False
    if source_health:
        for key in ("permanentlyRejected", "overflowDropped", "deadlineDropped"):
            value = source_health.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                dropped += value
        last_error = bool(source_health.get("lastError"))
    total = dropped + rejected
    status = "degraded" if total or last_error else "healthy"
    return DeliveryHealth(status=status, rejected=total, lastKnownAt=now)


def rebuild_state(
    run_id: str, operation_id: str, records: Iterable[tuple[str, str, int, str]]
) -> RunState:
    """A run's state from its stored records (``(type, segmentId, segmentSeq, payload)``
    in arrival order), as ingest would have rolled them up."""
    rows = list(records)
    projected = [payload for rtype, _, _, payload in rows if rtype in PROJECTED_TYPES]
    wires = iter(decode_payloads(projected))
    state = RunState(run_id, operation_id)
    for rtype, segment_id, segment_seq, _ in rows:
        state.apply_raw(segment_id, segment_seq)
        if rtype in PROJECTED_TYPES:
            state.apply(next(wires))
    return state
