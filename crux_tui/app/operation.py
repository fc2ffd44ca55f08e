"""How operations and their member runs read on screen (``crux-v5.md`` B, C.3): the marks
of an operation row, and the detail of a member run. Pure: ``rich.text.Text`` out."""

from __future__ import annotations

from rich.text import Text

from crux_tui.app import format as fmt
from crux_tui.app import theme
from crux_tui.contract.models import (
    MemberRun,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    RunSummary,
    items,
)
from crux_tui.contract.statuses import (
    CONFLICTED,
    HEALTHY,
    INCOMPLETE,
    OK,
    ROOT_MISSING,
    RUNNING,
    TOPOLOGY_HEALTH,
)
from crux_tui.contract.vocabulary import MEMBER_RUN_GLYPH
from crux_tui.sanitize import clean

TOPOLOGY_STYLES = {
    HEALTHY: fmt.status_style(OK),
    INCOMPLETE: fmt.WARN_STYLE,
    CONFLICTED: fmt.ERROR_STYLE,
}


def topology_text(run: RunSummary, *, healthy: bool = False) -> Text:
    """Glyph and word of an operation's topology health; nothing for a healthy one unless
    ``healthy``. A row whose root has not arrived says so."""
    if not run.rootPresent and (run.operationId or run.rootRunId):
        glyph, word = ROOT_MISSING
        return Text(f"{glyph} {word}", style=fmt.WARN_STYLE)
    health = (run.topologyHealth or "").lower()
    if not health or (health == HEALTHY and not healthy):
        return Text()
    glyph, word = TOPOLOGY_HEALTH.get(health, ("?", clean(health)))
    return Text(f"{glyph} {word}", style=TOPOLOGY_STYLES.get(health, fmt.WARN_STYLE))


def child_count_text(run: RunSummary) -> Text:
    """``↳2`` (child runs) and ``◐1`` (still running), or nothing for a lone run."""
    text = Text()
    if run.childRunCount:
        text.append(f"{MEMBER_RUN_GLYPH}{run.childRunCount}", style=theme.MEMBER)
    if run.activeChildCount:
        text.append(" " if text.plain else "")
        text.append(
            f"{fmt.status_glyph(RUNNING)}{run.activeChildCount}", style=fmt.status_style(RUNNING)
        )
    return text


def member_of(
    subject: RunDetailNode | RunDetailDetail | None, detail: RunDetail | None
) -> MemberRun | None:
    """The ``memberRuns`` entry of a mounted member run node (``run:<id>``), else ``None``."""
    if detail is None or not isinstance(subject, RunDetailNode) or subject is detail.root:
        return None
    if not subject.id.startswith("run:"):
        return None
    run_id = subject.id[4:]
    operation = detail.run.operationId or detail.run.rootRunId or detail.run.runId
    if not run_id or run_id == operation:
        return None
    return next((m for m in items(detail.memberRuns) if m.run.runId == run_id), None)


def span_label(detail: RunDetail, span_id: str) -> str:
    """The label of the node or folded detail with ``span_id`` ("" when not in the tree)."""
    if not span_id:
        return ""
    stack = [detail.root]
    while stack:
        node = stack.pop()
        if node.spanId == span_id:
            return clean(node.display.label or node.name or node.primitive)
        for det in items(node.details):
            if det.spanId == span_id:
                return clean(det.label or det.name or det.primitive)
        stack.extend(items(node.children))
    return ""


def run_label(detail: RunDetail, run_id: str) -> str:
    """The name of member run ``run_id`` of the operation ("" when unknown)."""
    for member in items(detail.memberRuns):
        if member.run.runId == run_id:
            return clean(member.run.name or member.run.rootPrimitive)
    return clean(detail.run.name) if run_id == detail.run.runId else ""


def member_run_text(member: MemberRun, detail: RunDetail, jump_key: str = "u") -> Text:
    """The MEMBER RUN section of the detail pane: the member's own summary (not the
    operation's), its parent run, the span that started it and its diagnostics."""
    run = member.run
    text = Text()
    text.append(f"MEMBER RUN {MEMBER_RUN_GLYPH}", style="bold underline")
    text.append("\n")

    def row(key: str, value: Text | str) -> None:
        text.append(f"  {key:<15}", style="dim")
        text.append_text(value if isinstance(value, Text) else Text(value))
        text.append("\n")

    row("run id", clean(run.runId))
    if run.name:
        row("name", clean(run.name))
    row("status", fmt.status_text(run.status))
    timing = [fmt.duration(run.durationMs if run.durationMs or run.endedAt else None)]
    if run.startedAt:
        timing.append(f"started {fmt.clock_time(run.startedAt)}")
    row("duration", " · ".join(timing))
    numbers = [f"{run.spanCount} span{'' if run.spanCount == 1 else 's'}"]
    tokens = fmt.total_tokens(run.metrics)
    if tokens:
        numbers.append(f"{fmt.tokens(tokens)} tok")
    if fmt.total_cost(run.metrics):
        numbers.append(fmt.cost(fmt.total_cost(run.metrics)))
    row("size", " · ".join(numbers))
    if run.error:
        message = run.error.get("message") if isinstance(run.error, dict) else run.error
        row("error", Text(clean(message or "error"), style=fmt.ERROR_STYLE))
    parent = member.parentRunId
    if parent:
        name = run_label(detail, parent)
        row("parent run", clean(parent) + (f"  ({name})" if name else ""))
    trigger = member.triggeredBySpanId
    if trigger:
        label = span_label(detail, trigger)
        value = Text(f"{label}  " if label else "")
        value.append(f"({clean(trigger)})", style="dim")
        if label:
            value.append(f" — press {jump_key} to jump there", style="dim italic")
        else:
            value.append(" — not in this operation's tree", style=fmt.WARN_STYLE)
        row("trigger span", value)
    else:
        row("trigger span", Text("— (none recorded)", style=fmt.WARN_STYLE))
    diagnostics = items(member.diagnostics)
    if diagnostics:
        text.append(f"  diagnostics ({len(diagnostics)})\n", style="dim")
        for diag in diagnostics:
            text.append("    ")
            text.append_text(fmt.severity_text(diag.severity))
            text.append(f" {clean(diag.code or 'diagnostic')}", style="bold")
            if diag.message:
                text.append(f" — {clean(diag.message)}")
            text.append("\n")
    return text
