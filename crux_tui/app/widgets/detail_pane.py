"""Detail pane for the highlighted timeline row (a RunDetail node or a folded detail).

:func:`render_detail` is pure (subject + RunDetail -> ``rich.text.Text``) so it can be
tested without an app; :class:`DetailPane` composes it with the artifact list and a
JSON tree of the attributes. Every record string goes through :func:`clean`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crux_tui.app import format as fmt
from crux_tui.app import theme
from crux_tui.app.evidence import (
    Evidence,
    evidence_of,
    find_subject,
    reconciliation,
    run_tool_requests,
    stack_preview,
    status_cause,
)
from crux_tui.app.operation import member_of, member_run_text
from crux_tui.app.widgets.json_tree import JsonTree
from crux_tui.contract.inspection import ARTIFACT_ITEM, ERROR_ITEM
from crux_tui.contract.models import (
    ArtifactSummary,
    Diagnostic,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    SpanEventSummary,
    items,
)
from crux_tui.contract.statuses import OWN_STATUSES, RECONCILED_STATUSES
from crux_tui.contract.tolerant import dumps
from crux_tui.contract.vocabulary import (
    INFRASTRUCTURE_GLYPH,
    SYMPTOM_GLYPH,
    SYMPTOM_WORD,
    is_infrastructure_primitive,
)
from crux_tui.sanitize import clean, inert_json
from crux_tui.symptoms import Symptom

if TYPE_CHECKING:
    from textual import getters

    from crux_tui.app.app import CruxApp

Subject = RunDetailNode | RunDetailDetail

RECONCILED_REASONS = {
    "terminal.ancestor": "closed from its terminal ancestor (no end record of its own)",
    "terminal.children": "closed because all of its children finished",
    "operation.deadline": "its Crux operation deadline passed without a terminal record",
    "descendant.operation.deadline": "a descendant exceeded its Crux operation deadline",
    "runtime.convex.boundary": "closed from the child action's Convex boundary acknowledgement",
    "runtime.convex.boundary.lease": "Convex boundary lease expired with no terminal acknowledgement",
}

TRUNCATION_KEYS = ("truncated", "previewTruncated", "preview_truncated", "isTruncated")


# ----------------------------------------------------------------------------- helpers


def _s(value: Any) -> str:
    return clean(value) if value not in (None, "") else ""


def _compact(value: Any, limit: int = 80) -> str:
    """One-line JSON-ish preview of a value; says how much was elided."""
    if isinstance(value, str):
        text = clean(value)
    else:
        try:
            text = clean(dumps(value))
        except (TypeError, ValueError):
            text = clean(repr(value))
        except RecursionError:
            text = "<nested too deeply to show>"
    if len(text) > limit:
        return f"{text[:limit]}… (+{len(text) - limit} chars)"
    return text


def _section(text: Text, title: str) -> None:
    if text.plain:
        text.append("\n")
    text.append(title.upper(), style="bold underline")
    text.append("\n")


#: Width of the label column: the longest label ("canonical parent") and a space.
LABEL_WIDTH = 17
#: Style meta key of a row's label: the column its value (and the value's wrapped lines) start.
HANG = "crux-hang"


def _row(text: Text, key: str, value: Any, style: str = "") -> None:
    if value is None or (not isinstance(value, Text) and value in ("", [], {})):
        return
    label = f"  {key:<{LABEL_WIDTH - 1}} "  # a space after the longest label too
    text.append(label, style=Style(dim=True, meta={HANG: len(label)}))
    if isinstance(value, Text):
        text.append_text(value)
    else:
        text.append(clean(value), style=style)
    text.append("\n")


class HangingText:
    """Renders a :class:`Text` so that a wrapped line continues under its value: a row's
    under the value column (its label's ``HANG`` meta), any other line under its indent."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        for line in self.text.split("\n", allow_blank=True):
            hang = _hang(line)
            if line.cell_len <= width or not 0 < hang <= width // 2:
                yield line
                continue
            head = line[:hang]
            for index, part in enumerate(line[hang:].wrap(console, width - hang)):
                out = head.copy() if index == 0 else Text(" " * hang)
                out.append_text(part)
                yield out


def _hang(line: Text) -> int:
    for span in line.spans:
        if span.start == 0 and isinstance(span.style, Style):
            hang = span.style.meta.get(HANG)
            if isinstance(hang, int):
                return hang
    return len(line.plain) - len(line.plain.lstrip(" "))


def subject_label(subject: Subject) -> str:
    if isinstance(subject, RunDetailNode):
        label = subject.display.label if subject.display else ""
    else:
        label = subject.label
    return clean(label or subject.name or subject.primitive or subject.spanId or subject.id)


def subject_kind(subject: Subject) -> str:
    if isinstance(subject, RunDetailNode):
        return clean((subject.display.kind if subject.display else "") or subject.kind)
    return clean(subject.kind or "detail")


def error_fields(error: Any) -> dict[str, Any]:
    """Normalize a ``CruxErrorSummary`` (object or bare string) to a dict."""
    if error in (None, "", {}):
        return {}
    if isinstance(error, dict):
        return error
    return {"message": error}


def artifact_preview_size(artifact: ArtifactSummary) -> int:
    preview = artifact.preview
    if preview is None:
        return 0
    if isinstance(preview, str):
        return len(preview.encode("utf-8"))
    try:
        return len(dumps(preview, compact=True).encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        return 0


def truncation_note(artifact: ArtifactSummary) -> str:
    """Why the preview may not be the whole content ("" when it is)."""
    attrs = artifact.attributes or {}
    if any(attrs.get(key) for key in TRUNCATION_KEYS):
        return "preview truncated by producer"
    if artifact.preview is None and artifact.sizeBytes:
        return "no preview sent by producer"
    shown = artifact_preview_size(artifact)
    if artifact.sizeBytes and shown and artifact.sizeBytes > shown:
        return (
            f"preview {fmt.size(shown)} of {fmt.size(artifact.sizeBytes)}"
            " (may be truncated by producer)"
        )
    return ""


def artifact_text(artifact: ArtifactSummary) -> Text:
    text = Text()
    text.append(clean(artifact.kind or "artifact"), style="bold")
    meta = [clean(artifact.contentType) if artifact.contentType else ""]
    if artifact.sizeBytes:
        meta.append(fmt.size(artifact.sizeBytes))
    meta = [m for m in meta if m]
    if meta:
        text.append(" · " + " · ".join(meta), style="dim")
    note = truncation_note(artifact)
    if note:
        text.append(f" · {note}", style=fmt.WARN_STYLE)
    return text


def event_summary(event: SpanEventSummary, now: datetime | None = None) -> Text:
    """Readable one-liner for span events (Convex boundaries, generation steps, usage…)."""
    name = event.name or ""
    attrs = event.attributes or {}
    text = Text()
    if name.startswith("runtime.convex.boundary."):
        phase = name.rsplit(".", 1)[-1]
        style = {"failed": fmt.ERROR_STYLE, "completed": fmt.status_style("ok")}.get(phase, "")
        text.append(f"boundary {clean(phase)}", style=style)
        lease = attrs.get("leaseExpiresAt")
        if lease:
            when = fmt.parse_time(lease)
            now = now or datetime.now(UTC)
            expired = when is not None and when <= now
            text.append(f" · lease until {fmt.clock_time(lease)}")
            text.append(
                " (expired)" if expired else f" ({fmt.relative_time(lease, now)})",
                style=fmt.WARN_STYLE if expired else "dim",
            )
        if attrs.get("status"):
            text.append(" · status ")
            text.append_text(fmt.status_text(str(attrs.get("status"))))
        err = error_fields(attrs.get("error"))
        if err.get("message"):
            text.append(f" · {_compact(err.get('message'), 120)}", style=fmt.ERROR_STYLE)
        for key in ("boundaryId", "functionRef", "target"):
            if attrs.get(key):
                text.append(f" · {key} {_compact(attrs.get(key), 60)}", style="dim")
        return text
    if name == "generation.step":
        step = attrs.get("stepNumber", attrs.get("step", attrs.get("index")))
        text.append("generation step", style=theme.GENERATION)
        if step is not None:
            text.append(f" {clean(step)}")
        finish = attrs.get("finishReason") or attrs.get("finish_reason")
        if finish:
            style = (
                fmt.WARN_STYLE if finish in ("length", "content-filter", "content_filter") else ""
            )
            text.append(" · finish ")
            text.append(clean(finish), style=style)
        calls = attrs.get("toolCalls") or attrs.get("tool_calls") or attrs.get("toolNames")
        if isinstance(calls, list) and calls:
            names = []
            for call in calls:
                if isinstance(call, dict):
                    names.append(clean(call.get("toolName") or call.get("name") or "?"))
                else:
                    names.append(clean(call))
            text.append(f" · tool calls: {', '.join(names)}")
        elif isinstance(calls, int | float) and calls:
            text.append(f" · {int(calls)} tool calls")
        usage = attrs.get("usage")
        if isinstance(usage, dict) and fmt.total_tokens(usage):
            text.append(f" · {fmt.tokens(fmt.total_tokens(usage))} tok", style="dim")
        return text
    if name == "usage.observed":
        text.append("usage", style="bold")
        text.append(
            f" · in {fmt.tokens(attrs.get('inputTokens'))}"
            f" · out {fmt.tokens(attrs.get('outputTokens'))}"
            f" · total {fmt.tokens(fmt.total_tokens(attrs))}"
        )
        if fmt.total_cost(attrs):
            text.append(f" · {fmt.cost(fmt.total_cost(attrs))}")
        return text
    if name == "operation.deadline":
        text.append("operation deadline", style=fmt.WARN_STYLE)
        if attrs.get("deadlineAt"):
            text.append(f" · at {fmt.clock_time(attrs.get('deadlineAt'))}")
        if attrs.get("timeoutMs"):
            text.append(f" · timeout {fmt.duration(attrs.get('timeoutMs'))}")
        return text
    text.append(clean(name or "event"), style="bold")
    err = error_fields(attrs.get("error")) if "error" in attrs else {}
    if err.get("message"):
        text.append(f" · {_compact(err.get('message'), 120)}", style=fmt.ERROR_STYLE)
    elif attrs.get("message"):
        text.append(f" · {_compact(attrs.get('message'), 120)}")
    shown = 0
    for key, value in attrs.items():
        if key in ("error", "message"):
            continue
        if shown >= 4:
            text.append(f" · +{len(attrs) - shown} more attributes", style="dim")
            break
        text.append(f" · {clean(key)}={_compact(value, 40)}", style="dim")
        shown += 1
    return text


def diagnostic_text(
    diag: Diagnostic, *, include_spans: bool = True, include_fix: bool = True
) -> Text:
    text = fmt.severity_text(diag.severity)
    text.append(" ")
    text.append(clean(diag.code or "diagnostic"), style="bold")
    if diag.message:
        text.append(f" — {clean(diag.message)}")
    spans = items(diag.spanIds)
    if include_spans and spans:
        text.append(f"  spans: {', '.join(clean(s) for s in spans)}", style="dim")
    if include_fix and diag.suggestedFix:
        text.append(f"\n      fix: {clean(diag.suggestedFix)}", style="dim italic")
    return text


def symptom_text(symptom: Symptom, *, include_evidence: bool = True) -> Text:
    """``⚑ symptom  <title> — <what the records show>`` and the fix on its own line."""
    text = Text()
    text.append(f"{SYMPTOM_GLYPH} {SYMPTOM_WORD}", style=fmt.SYMPTOM_STYLE)
    text.append(f"  {clean(symptom.title)}", style="bold")
    if include_evidence and symptom.evidence:
        text.append(f" — {clean(symptom.evidence)}")
    if symptom.fix:
        text.append(f"\n      fix: {clean(symptom.fix)}", style="italic")
    return text


def span_json(subject: Subject, *, inert: bool = True) -> str:
    """The subject as pretty JSON, without its subtree (children are separate rows);
    ``inert=False`` leaves unsafe characters raw (the clipboard escapes and reports them)."""
    if isinstance(subject, RunDetailNode):
        subject = msgspec.structs.replace(subject, children=None)
    raw = msgspec.json.encode(subject)
    text = msgspec.json.format(raw, indent=2).decode("utf-8")
    return inert_json(text) if inert else text


# ----------------------------------------------------------------------------- rendering


#: Longest list (events, relations, folded details) the pane writes out; a run's root can
#: hold thousands of folded details, and the pane is re-rendered on every cursor move.
LIST_LIMIT = 100


def _more(text: Text, count: int, hint: str = "") -> None:
    if count > LIST_LIMIT:
        text.append(f"  … and {count - LIST_LIMIT:,} more", style="dim italic")
        text.append(f" ({hint})\n" if hint else "\n", style="dim italic")


#: The run screen's key that jumps to the span a reconciled status came from.
CAUSE_KEY = "w"
#: Diagnostics keys shown as sentences ("decided by …") rather than raw rows.
CAUSE_KEYS = frozenset({"decidedBy", "causeSpanId", "decidedByReason"})
ERROR_DETAIL_KEYS = ("category", "code", "statusCode", "retryable", "phase")
CAUSE_LABELS = {
    "terminal.children": "decided by",
    "descendant.operation.deadline": "caused by",
    "terminal.ancestor": "closed with",
}


def span_reference(target: Subject | None, span_id: str) -> Text:
    """``◇ stale ⚙ boundary rank citations`` (the id alone when it is not in the run)."""
    text = Text()
    if target is None:
        text.append(f"span {clean(span_id)}", style="bold")
        return text
    text.append_text(fmt.status_text(target.status))
    text.append(" ")
    if is_infrastructure_primitive(target.primitive):
        word = "schedule" if target.primitive.endswith(".schedule") else "boundary"
        text.append(f"{INFRASTRUCTURE_GLYPH} {word} ", style="bold")
    text.append(subject_label(target), style="bold")
    return text


def cause_reason(target: Subject | None, reason: str) -> str:
    """How the cause's status came about, in words ("" when there is nothing to add)."""
    diag = reconciliation(target)
    if reason == "runtime.convex.boundary.lease":
        lease = diag.get("leaseExpiresAt")
        when = f" at {fmt.clock_time(lease)}" if isinstance(lease, str) and lease else ""
        return f"lease expired{when} with no acknowledgement"
    if reason == "operation.deadline":
        deadline = diag.get("deadlineAt")
        when = f" at {fmt.clock_time(deadline)}" if isinstance(deadline, str) and deadline else ""
        return f"its Crux operation deadline passed{when}"
    if reason in RECONCILED_REASONS:
        return RECONCILED_REASONS[reason]
    if reason == "freshness":
        return "no end record and no activity for more than 60 s"
    if target is not None and target.status == "error":
        message = evidence_of(target).span_error.get("message")
        return f"failed: {_compact(message, 100)}" if message else "failed"
    return ""


def _cause_rows(text: Text, subject: Subject, detail: RunDetail | None) -> None:
    cause = status_cause(subject)
    if cause is None:
        return
    how = str(reconciliation(subject).get("reconciledFrom"))
    decided = find_subject(detail, cause.decided_by)
    rows = [(CAUSE_LABELS.get(how, "decided by"), decided, cause.decided_by)]
    if cause.cause != cause.decided_by:
        rows.append(("caused by", find_subject(detail, cause.cause), cause.cause))
    for index, (label, target, span_id) in enumerate(rows):
        value = span_reference(target, span_id)
        if index == len(rows) - 1:
            reason = cause_reason(target, cause.reason)
            if reason:
                value.append(f" — {clean(reason)}", style=fmt.WARN_STYLE)
            value.append(f"  ({CAUSE_KEY}: go there)", style="dim italic")
        _row(text, label, value)


def _symptom_rows(text: Text, subject: Subject, symptoms: list[Symptom] | None) -> None:
    """The symptoms this span is part of (``crux_tui.symptoms``)."""
    mine = [s for s in symptoms or () if subject.spanId and subject.spanId in s.spanIds]
    if not mine:
        return
    _section(text, f"part of {len(mine)} symptom{'s' if len(mine) != 1 else ''}")
    for symptom in mine:
        text.append(f"  {SYMPTOM_GLYPH}", style=fmt.SYMPTOM_STYLE)
        text.append(f" {clean(symptom.title)}", style="bold")
        text.append(f"  [{clean(symptom.code)}]\n", style="dim")
        _row(text, "seen", clean(symptom.evidence))
        _row(text, "fix", Text(clean(symptom.fix), style="italic"))
    text.append("  (D lists the run's symptoms and diagnostics)\n", style="dim italic")


def _error_rows(text: Text, evidence: Evidence) -> None:
    """The ERROR block: the span's error, then its stack and raw error (``inspection.errors``,
    or the same items rebuilt from the artifacts)."""
    if not evidence.errors:
        return
    _section(text, "error")
    for item in evidence.errors:
        kind = item.get("kind") if isinstance(item.get("kind"), str) else ""
        raw = item.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if item.get("type") == ERROR_ITEM:
            err = error_fields(data)
            _row(text, "error", Text(clean(err.get("name") or "Error"), style=fmt.ERROR_STYLE))
            _row(text, "message", Text(clean(err.get("message") or ""), style=fmt.ERROR_STYLE))
            for key in ERROR_DETAIL_KEYS:
                if key in err:
                    _row(text, key, _compact(err.get(key), 60))
        elif item.get("type") == ARTIFACT_ITEM and kind == "error.stack":
            value = Text(_compact(stack_preview(data.get("preview")), 160))
            value.append("  (a opens it)", style="dim italic")
            _row(text, "stack", value)
        elif item.get("type") == ARTIFACT_ITEM:
            label = "raw error" if kind == "error.raw" else clean(kind or "error")
            _row(text, label, _compact(data.get("preview"), 100))


def status_origin(node: RunDetailNode) -> RunDetailNode | None:
    """The deepest descendant a node's status rolled up from (first such path), if any:
    the suspended flow step of a run presented suspended, the tool that threw."""
    status = node.status
    if status in OWN_STATUSES:
        return None
    current = node
    while True:
        same = next((c for c in items(current.children) if c.status == status), None)
        if same is None:
            return current if current is not node else None
        current = same


def duration_text(subject: Subject, detail: RunDetail | None, duration_ms: Any) -> Text:
    """A span's duration; for the run's root span, the run's own when it differs (the run
    starts before and ends after its root span, so the header can say a little more)."""
    text = Text(fmt.duration(duration_ms))
    run = detail.run if detail is not None else None
    is_root = run is not None and subject.id == f"run:{run.runId}"
    if (
        is_root
        and run is not None
        and run.durationMs
        and fmt.duration(run.durationMs) != text.plain
    ):
        text.append(f"  (run {fmt.duration(run.durationMs)})", style="dim")
    return text


def render_detail(
    subject: Subject | None,
    detail: RunDetail | None,
    now: datetime | None = None,
    evidence: Evidence | None = None,
    symptoms: list[Symptom] | None = None,
) -> Text:
    """Everything the pane shows except the artifact list and attribute tree.

    ``evidence`` is :func:`evidence_of` the subject when the caller has it already;
    ``symptoms`` are the run's (those naming the subject's span are shown).
    """
    text = Text()
    if subject is None:
        text.append("Select a row to see its details.", style="dim")
        return text
    if evidence is None:
        evidence = evidence_of(subject, lambda: run_tool_requests(detail))
    run_start = detail.run.startedAt if detail is not None else ""
    status = subject.status or ""

    # Title
    text.append_text(fmt.status_text(status, with_label=False))
    text.append(f" {subject_label(subject)}", style="bold")
    text.append(f"  {subject_kind(subject)}", style="dim")
    if isinstance(subject, RunDetailDetail):
        text.append("  (folded detail)", style="dim italic")
    text.append("\n")
    member = member_of(subject, detail)
    if member is not None and detail is not None:  # a child run of the operation
        text.append("\n")
        text.append_text(member_run_text(member, detail))
    _symptom_rows(text, subject, symptoms)

    # Identity
    _section(text, "identity")
    _row(text, "span id", subject.spanId)
    _row(text, "node id", subject.id)
    prim = " / ".join(p for p in (_s(subject.primitive), _s(subject.family)) if p)
    _row(text, "primitive", prim)
    _row(text, "kind", subject_kind(subject))
    if isinstance(subject, RunDetailDetail):
        _row(text, "role", subject.role)
        _row(text, "display", subject.display)
    model = " / ".join(p for p in (_s(subject.model), _s(subject.provider)) if p)
    _row(text, "model", model)
    for key in ("toolName", "agentId", "flowId", "stepId", "promptId", "contextId", "memoryId"):
        _row(text, key, getattr(subject, key, ""))
    _row(text, "parent span", subject.parentSpanId)
    source = subject.source
    if source is not None:
        _row(text, "canonical parent", source.canonicalParentSpanId)
        _row(text, "placement", source.placementReason)
        _row(text, "owner span", source.ownerSpanId)

    # Timing
    _section(text, "timing")
    timing = subject.timing
    started = timing.startedAt or subject.startedAt
    ended = timing.endedAt or subject.endedAt
    if started:
        start_value = fmt.clock_time(started)
        if run_start:
            start_value += f"  ({fmt.offset(started, run_start)})"
        _row(text, "start", start_value)
    _row(text, "end", fmt.clock_time(ended) if ended else Text("— (no end record)", style="dim"))
    duration_ms = timing.durationMs or subject.durationMs
    if ended or duration_ms:
        _row(text, "duration", duration_text(subject, detail, duration_ms))
    if timing.selfMs is not None:
        _row(text, "self", fmt.duration(timing.selfMs))
    if timing.childrenMs is not None:
        children = Text(fmt.duration(timing.childrenMs))
        if duration_ms and timing.childrenMs > duration_ms:
            children.append("  (children overlap: their sum exceeds the duration)", style="dim")
        _row(text, "children total", children)
    if timing.detailsMs:
        _row(text, "details", fmt.duration(timing.detailsMs))

    # Status and error
    _section(text, "status")
    _row(text, "status", fmt.status_text(status))
    origin = status_origin(subject) if isinstance(subject, RunDetailNode) else None
    if origin is not None and status_cause(subject) is None:  # else "decided by" says it
        _row(text, "rolled up from", f"{subject_label(origin)} ({subject_kind(origin)})")
    recon = reconciliation(subject)
    reconciled_from = recon.get("reconciledFrom")
    if status in RECONCILED_STATUSES or reconciled_from:
        if status in RECONCILED_STATUSES:
            _row(
                text,
                "note",
                Text(
                    f"{status}: not running — the backend reconciled it without a terminal record",
                    style=fmt.WARN_STYLE,
                ),
            )
        if reconciled_from:
            reason = RECONCILED_REASONS.get(str(reconciled_from), "")
            _row(
                text,
                "reconciled",
                Text(
                    clean(reconciled_from) + (f" — {reason}" if reason else ""),
                    style=fmt.WARN_STYLE,
                ),
            )
            _cause_rows(text, subject, detail)
            for key, value in recon.items():
                if key != "reconciledFrom" and key not in CAUSE_KEYS:
                    _row(text, clean(key), _compact(value, 100))
        elif status == "stale":
            _row(text, "reason", "no end record and no activity for more than 60 s")
    node_diags = items(subject.diagnostics)
    for diag in node_diags:
        _row(text, "diagnostic", diagnostic_text(diag, include_spans=False, include_fix=False))
        if diag.suggestedFix:
            _row(text, "fix", Text(clean(diag.suggestedFix), style="dim italic"))
    _error_rows(text, evidence)

    # Metrics
    metrics: dict[str, Any] = {}
    own: dict[str, Any] = {}
    if isinstance(subject, RunDetailNode) and subject.metricBuckets is not None:
        metrics = subject.metricBuckets.total or subject.metricBuckets.own or {}
        own = subject.metricBuckets.own or {}
    metrics = metrics or subject.metrics or {}
    if metrics:
        _section(text, "metrics")
        tin, tout = metrics.get("inputTokens"), metrics.get("outputTokens")
        total = fmt.total_tokens(metrics)
        _row(
            text,
            "tokens",
            f"in {fmt.tokens(tin)} · out {fmt.tokens(tout)} · total {fmt.tokens(total)}",
        )
        if own and own is not metrics and fmt.total_tokens(own) != total:
            _row(text, "own tokens", fmt.tokens(fmt.total_tokens(own)))
        for key, label in (("cacheReadTokens", "cache read"), ("reasoningTokens", "reasoning")):
            if metrics.get(key):
                _row(text, label, fmt.tokens(metrics.get(key)))
        if fmt.total_cost(metrics):
            _row(text, "cost", fmt.cost(fmt.total_cost(metrics)))
        ttft = fmt.metric(metrics, "ttftMs", "gen.time_to_first_token_ms")
        if ttft:
            _row(text, "ttft", fmt.duration(ttft))
        tps = fmt.metric(metrics, "tokensPerSecond", "gen.output_tokens_per_second")
        if tps:
            _row(text, "tok/s", f"{tps:.1f}")

    # Events
    events = items(subject.events)
    if events:
        _section(text, f"events ({len(events)})")
        for event in events[:LIST_LIMIT]:
            text.append(f"  {fmt.offset(event.timestamp, started or run_start):>9} ", style="dim")
            text.append_text(event_summary(event, now))
            text.append("\n")
        _more(text, len(events))

    # Relations
    relations = items(subject.relations)
    if relations:
        _section(text, f"relations ({len(relations)})")
        for edge in relations[:LIST_LIMIT]:
            text.append(f"  {clean(edge.edgeType)}", style="bold")
            text.append(
                f"  {clean(edge.from_.kind)}:{clean(edge.from_.id)}"
                f" → {clean(edge.to.kind)}:{clean(edge.to.id)}\n"
            )
        _more(text, len(relations))

    # Folded details of a node
    if isinstance(subject, RunDetailNode):
        folded = items(subject.details)
        if folded:
            _section(text, f"folded details ({len(folded)})")
            for det in folded[:LIST_LIMIT]:
                text.append("  ")
                text.append_text(fmt.status_text(det.status, with_label=False))
                text.append(f" {subject_label(det)}", style="bold")
                meta = [p for p in (_s(det.kind), _s(det.role), _s(det.primitive)) if p]
                text.append(f"  {' · '.join(meta)}", style="dim")
                if det.source and det.source.placementReason:
                    text.append(f"  ({clean(det.source.placementReason)})", style="dim")
                text.append("\n")
            _more(text, len(folded), "press d to see every folded detail in the timeline")

    # Diagnostics naming this span at run level
    if detail is not None and subject.spanId:
        run_diags = [d for d in items(detail.diagnostics) if subject.spanId in items(d.spanIds)]
        if run_diags:
            _section(text, "run diagnostics naming this span")
            for diag in run_diags:
                text.append("  ")
                text.append_text(diagnostic_text(diag, include_spans=False))
                text.append("\n")
    return text


class DetailPane(VerticalScroll):
    """Shows :func:`render_detail`, the artifacts (Enter opens one) and the attributes."""

    DEFAULT_CSS = """
    DetailPane { padding: 0 1; }
    DetailPane > .section-title { text-style: bold underline; margin-top: 1; }
    DetailPane > OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    DetailPane > JsonTree { height: auto; }
    """

    if TYPE_CHECKING:  # the app, typed (the pane lives in CruxApp's run screen)
        app = getters.app(CruxApp)

    class ArtifactRequested(Message):
        """The user asked to open an artifact."""

        def __init__(self, pane: DetailPane, artifact: ArtifactSummary, subject: Subject) -> None:
            super().__init__()
            self.pane = pane
            self.artifact = artifact
            self.subject = subject

        @property
        def control(self) -> DetailPane:
            return self.pane

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.subject: Subject | None = None
        self.detail: RunDetail | None = None
        #: the run's node bodies are still loading (a preview is shown)
        self.loading = False
        self._artifacts: list[ArtifactSummary] = []
        self._evidence = Evidence()
        #: the run's tool requests by call id, for the RunDetail they were gathered from
        self._requests: tuple[RunDetail | None, dict[str, list[ArtifactSummary]]] = (None, {})
        #: the run's symptoms; the shown span's are listed
        self.symptoms: list[Symptom] = []
        #: the artifacts and attributes sections are mounted (``add_sections``)
        self._sections = False

    def compose(self) -> ComposeResult:
        yield Static(HangingText(render_detail(None, None)), id="detail-summary", markup=False)

    def add_sections(self) -> bool:
        """Mount the artifacts and attributes sections, hidden (``show`` reveals what has
        content), unless they are: the pane mounts without them, so that a run screen shows
        its rows first (they are four widgets, a tree among them); the screen adds them once
        its rows are painted, ``show`` as soon as a row has artifacts or attributes.

        Whether they are mounted: not into a pane being removed (its screen closed before
        they were added, while a highlight was still on its way)."""
        if self._sections:
            return True
        sections: list[Widget] = [
            Static("ARTIFACTS", classes="section-title", id="detail-artifacts-title"),
            OptionList(id="detail-artifacts"),
            Static("ATTRIBUTES", classes="section-title", id="detail-attributes-title"),
            JsonTree({}, label="attributes", id="detail-attributes"),
        ]
        for section in sections:
            section.display = False
        self.mount_all(sections)  # mounts nothing into a pane being removed
        self._sections = bool(self.query("#detail-artifacts"))
        return self._sections

    @property
    def artifacts(self) -> list[ArtifactSummary]:
        return list(self._artifacts)

    def show(
        self, subject: Subject | None, detail: RunDetail | None, *, loading: bool = False
    ) -> None:
        """Show ``subject``; ``loading`` says its attributes, events and artifacts are on the way."""
        previous = self.subject.id if self.subject is not None else None
        self.subject = subject
        self.detail = detail
        self.loading = loading
        # inspection when the backend sent it, else the same from the artifacts; errors first
        self._evidence = evidence_of(subject, self._run_requests)
        self.query_one("#detail-summary", Static).update(HangingText(self._summary()))
        self._artifacts = list(self._evidence.artifacts)
        attrs = (subject.attributes if subject is not None else None) or {}
        same = subject is not None and subject.id == previous
        if not same:
            self.scroll_home(animate=False)
        if not (self._artifacts or attrs or self._sections):
            return  # nothing for the sections to show, and none to hide
        if not self.add_sections():
            return  # the pane is going away with its screen
        options = self.query_one("#detail-artifacts", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            [Option(artifact_text(a), id=f"artifact-{i}") for i, a in enumerate(self._artifacts)]
        )
        if self._artifacts:
            options.highlighted = (
                min(highlighted, len(self._artifacts) - 1)
                if same and highlighted is not None
                else 0
            )
        tree = self.query_one("#detail-attributes", JsonTree)
        if not same or tree.value != attrs:
            tree.set_value(attrs, label=f"attributes ({len(attrs)})")
        self._sync_sections()

    def _run_requests(self) -> dict[str, list[ArtifactSummary]]:
        """The run's tool requests by call id, gathered once per RunDetail."""
        if self._requests[0] is not self.detail:
            self._requests = (self.detail, run_tool_requests(self.detail))
        return self._requests[1]

    @property
    def evidence(self) -> Evidence:
        """The shown subject's errors and artifacts (``inspection``, else ``artifacts``)."""
        return self._evidence

    def _sync_sections(self) -> None:
        has_artifacts = bool(self._artifacts)
        self.query_one("#detail-artifacts-title").display = has_artifacts
        self.query_one("#detail-artifacts").display = has_artifacts
        attrs = (self.subject.attributes if self.subject is not None else None) or {}
        self.query_one("#detail-attributes-title").display = bool(attrs)
        self.query_one("#detail-attributes").display = bool(attrs)

    def selected_artifact(self) -> ArtifactSummary | None:
        if not self._artifacts:
            return None
        index = self.query_one("#detail-artifacts", OptionList).highlighted
        if index is None or not 0 <= index < len(self._artifacts):
            index = 0
        return self._artifacts[index]

    def request_artifact(self, artifact: ArtifactSummary | None = None) -> bool:
        artifact = artifact or self.selected_artifact()
        if artifact is None or self.subject is None:
            return False
        self.post_message(self.ArtifactRequested(self, artifact, self.subject))
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        if 0 <= index < len(self._artifacts):
            self.request_artifact(self._artifacts[index])

    def set_symptoms(self, symptoms: list[Symptom]) -> None:
        """The run's symptoms changed: show the current span's again."""
        if symptoms != self.symptoms:
            self.symptoms = list(symptoms)
            self.query_one("#detail-summary", Static).update(HangingText(self._summary()))

    def _summary(self) -> Text:
        now = self.app.now()
        summary = render_detail(
            self.subject, self.detail, now, evidence=self._evidence, symptoms=self.symptoms
        )
        if self.loading and self.subject is not None:
            summary.append(
                "\nloading attributes, events and artifacts of the run…", style="dim italic"
            )
        return summary

    def plain_text(self) -> str:
        """Everything the pane shows as plain text (tests, copy)."""
        parts = [self._summary().plain]
        if self._artifacts:
            parts.append("ARTIFACTS")
            parts.extend(artifact_text(a).plain for a in self._artifacts)
        return "\n".join(parts)
