"""What the viewer shows of a node or detail's errors and artifacts, and why its status is what
it is (pure: no Textual).

* :func:`evidence_of` reads ``inspection`` when the backend sent one (a Crux backend fills it),
  else rebuilds the same sections from ``error`` and ``artifacts`` with the rules both sides
  share (:mod:`crux_tui.contract.inspection`), so every backend shows the same thing.
* :func:`status_cause` follows ``attributes.diagnostics`` (``decidedBy``, ``causeSpanId``,
  ``ancestorSpanId``) to the span that decided a reconciled status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crux_tui.contract.inspection import (
    ARTIFACT_ITEM,
    ERROR_ITEM,
    SECTIONS,
    artifact_of_item,
    artifact_sections,
    error_data,
    pull_tool_requests,
    section_items,
    tool_call_id,
    tool_requests_by_call,
)
from crux_tui.contract.models import (
    ArtifactSummary,
    RunDetail,
    RunDetailDetail,
    RunDetailNode,
    items,
)

Subject = RunDetailNode | RunDetailDetail
Sections = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Evidence:
    """A subject's inspection sections and the artifacts they list (errors first)."""

    sections: Sections = field(default_factory=dict)
    artifacts: list[ArtifactSummary] = field(default_factory=list)
    #: the sections came from the backend's ``inspection`` (not rebuilt from ``artifacts``)
    from_inspection: bool = False

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.sections.get("errors", [])

    @property
    def span_error(self) -> dict[str, Any]:
        """The subject's own error (``span.error`` item data), ``{}`` when it has none."""
        for item in self.errors:
            if item.get("type") == ERROR_ITEM:
                data = error_data(item.get("data"))
                return data or {}
        return {}


def has_inspection(subject: Subject | None) -> bool:
    inspection = getattr(subject, "inspection", None)
    return isinstance(inspection, dict) and bool(inspection)


def evidence_of(
    subject: Subject | None,
    requests: Callable[[], dict[str, list[ArtifactSummary]]] | None = None,
) -> Evidence:
    """The evidence of ``subject``; ``requests`` gives the run's ``tool.request`` artifacts by
    call id (:func:`run_tool_requests`), asked for only when a tool call needs them."""
    if subject is None:
        return Evidence()
    own = items(subject.artifacts)
    if has_inspection(subject):
        inspection = subject.inspection or {}
        sections = {name: section_items(inspection, name) for name in inspection}
        sections = {name: found for name, found in sections.items() if found}
        from_inspection = True
    else:
        sections = artifact_sections(subject.spanId, subject.error, own)
        if subject.primitive == "tool.call" and requests is not None:
            call_id = tool_call_id(subject.attributes)
            if call_id:
                pull_tool_requests(sections, subject.spanId, call_id, own, requests())
        from_inspection = False
    return Evidence(sections, _artifacts(sections, own, subject.spanId), from_inspection)


def _artifacts(
    sections: Sections, own: list[ArtifactSummary], span_id: str
) -> list[ArtifactSummary]:
    """Every artifact the sections list, in section order (errors first); the subject's own
    artifact object when it has it (all its fields), and its artifacts no section lists."""
    by_id = {a.artifactId: a for a in own if a.artifactId}
    names = [*(s for s in SECTIONS if s in sections), *(s for s in sections if s not in SECTIONS)]
    found: list[ArtifactSummary] = []
    seen: set[str] = set()
    for name in names:
        for item in sections[name]:
            if item.get("type") != ARTIFACT_ITEM:
                continue
            item_id = item.get("id")
            known = by_id.get(item_id) if isinstance(item_id, str) else None
            artifact = known or artifact_of_item(item, span_id)
            if artifact is None or (artifact.artifactId and artifact.artifactId in seen):
                continue
            seen.add(artifact.artifactId)
            found.append(artifact)
    found.extend(a for a in own if not a.artifactId or a.artifactId not in seen)
    return found


def run_tool_requests(detail: RunDetail | None) -> dict[str, list[ArtifactSummary]]:
    """Every ``tool.request`` artifact of a RunDetail by call id (a walk of the whole tree)."""
    if detail is None:
        return {}
    found: list[ArtifactSummary] = []
    stack: list[RunDetailNode] = [detail.root]
    while stack:
        node = stack.pop()
        found.extend(items(node.artifacts))
        for det in items(node.details):
            found.extend(items(det.artifacts))
        stack.extend(reversed(items(node.children)))
    return tool_requests_by_call(found)


def stack_text(preview: Any) -> str:
    """The stack trace an ``error.stack`` preview holds (a string, or an object with one)."""
    if isinstance(preview, str):
        return preview
    if isinstance(preview, dict):
        for key in ("stack", "stackTrace", "text", "value"):
            if isinstance(preview.get(key), str):
                return preview[key]
    if preview is None:
        return ""
    from crux_tui.contract.tolerant import dumps

    return dumps(preview, indent=2)


def stack_preview(preview: Any, lines: int = 2) -> str:
    """The first ``lines`` non-empty lines of a stack, joined by `` | ``."""
    found = [line.strip() for line in stack_text(preview).splitlines() if line.strip()]
    return " | ".join(found[:lines])


# ----------------------------------------------------------------------------- status causes


def reconciliation(subject: Any) -> dict[str, Any]:
    """``attributes.diagnostics`` of a subject or run (``{}`` when absent)."""
    attrs = getattr(subject, "attributes", None) or {}
    diagnostics = attrs.get("diagnostics") if isinstance(attrs, dict) else None
    return diagnostics if isinstance(diagnostics, dict) else {}


@dataclass(frozen=True)
class StatusCause:
    """Why a reconciled status is what it is: the span that decided it, and the cause at the
    end of the chain (the same span when the chain is one step long)."""

    decided_by: str
    cause: str
    reason: str  # how the cause's status was reconciled ("" when it is its own)


def status_cause(subject: Any) -> StatusCause | None:
    """The span another span's (or the run's) reconciled status came from, if it names one."""
    diag = reconciliation(subject)
    how = _text(diag.get("reconciledFrom"))
    if how == "terminal.children":
        decided = _text(diag.get("decidedBy"))
        if not decided:
            return None
        cause = _text(diag.get("causeSpanId")) or decided
        return StatusCause(decided, cause, _text(diag.get("decidedByReason")))
    if how == "descendant.operation.deadline" and _text(diag.get("causeSpanId")):
        cause = _text(diag.get("causeSpanId"))
        return StatusCause(cause, cause, "operation.deadline")
    if how == "terminal.ancestor" and _text(diag.get("ancestorSpanId")):
        ancestor = _text(diag.get("ancestorSpanId"))
        return StatusCause(ancestor, ancestor, "")
    return None


def find_subject(detail: RunDetail | None, span_id: str) -> Subject | None:
    """The node or folded detail showing ``span_id``, through ``spanIndex`` paths (no walk of
    the whole tree); a tree walk when the index does not know it."""
    if detail is None or not span_id:
        return None
    placement = (detail.spanIndex or {}).get(span_id)
    path = items(placement.path) if placement is not None else []
    node = detail.root
    if path and path[0] == node.id:
        for step in path[1:]:
            if step.startswith("detail:"):
                return next((d for d in items(node.details) if d.id == step), None)
            child = next((c for c in items(node.children) if c.id == step), None)
            if child is None:
                break
            node = child
        else:
            if node.spanId == span_id:
                return node
    stack: list[RunDetailNode] = [detail.root]
    while stack:
        node = stack.pop()
        if node.spanId == span_id:
            return node
        for det in items(node.details):
            if det.spanId == span_id:
                return det
        stack.extend(items(node.children))
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
