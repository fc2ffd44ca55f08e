"""Inspection sections of nodes and details (§4 "Inspection sections"; pure, no I/O).

Each node and detail gets ``inspection``: section -> items, empty sections omitted. What goes
where is :mod:`crux_tui.contract.inspection` (shared with the viewer). Items keep the body
small: an artifact item is its id, kind and preview; events, relations, diagnostics,
attributes and metrics are listed by id and label, their values stay where the node has them.
"""

from __future__ import annotations

from typing import Any

from crux_tui.contract.inspection import (
    SECTIONS,
    artifact_sections,
    family_section,
    pull_tool_requests,
    tool_call_id,
    tool_requests_by_call,
)
from crux_tui.contract.models import ArtifactSummary, RunDetailDetail, RunDetailNode

from .common import attrs
from .index import GraphIndex

Inspection = dict[str, list[dict[str, Any]]]


def run_tool_requests(idx: GraphIndex) -> dict[str, list[ArtifactSummary]]:
    """toolCallId -> the run's ``tool.request`` artifacts that carry it, in input order."""
    return tool_requests_by_call(idx.artifacts)


def inspection_of(
    key: str,
    subject: RunDetailNode | RunDetailDetail,
    metrics: dict[str, float],
    *,
    details: list[RunDetailDetail] | None = None,
    requests: dict[str, list[ArtifactSummary]] | None = None,
) -> Inspection | None:
    """The sections of one node or detail, from what it carries (``key``: its span id, or the
    root's node id for a virtual root; ``metrics``: its own metrics). ``None`` when every
    section is empty.

    ``requests`` is :func:`run_tool_requests`: a ``tool.call`` also lists the run's
    ``tool.request`` artifacts with its ``toolCallId`` (the generation that asked owns them).
    """
    artifacts = subject.artifacts or []
    events = subject.events or []
    relations = subject.relations or []
    diagnostics = subject.diagnostics or []
    error = subject.error
    sections = artifact_sections(key, error, artifacts) if artifacts or error else {}
    if requests and getattr(subject, "primitive", "") == "tool.call":
        pull_tool_requests(sections, key, tool_call_id(attrs(subject)), artifacts, requests)
    for det in details or ():
        item: dict[str, Any] = {"type": "detail", "id": det.id, "label": det.label}
        if det.kind:
            item["kind"] = det.kind
        if det.role:
            item["role"] = det.role
        item["sourceSpanId"] = det.spanId
        sections.setdefault(family_section(det.family), []).append(item)
    if events:
        listed = [{"type": "event", "id": ev.eventId, "label": ev.name} for ev in events]
        sections.setdefault("events", [])[:0] = listed
    if relations:
        sections["relations"] = [
            {"type": "relation", "id": edge.edgeId, "label": edge.edgeType} for edge in relations
        ]
    if diagnostics:
        sections["diagnostics"] = [
            {"type": "diagnostic", "id": f"diagnostic:{d.code}:{key}", "label": d.code}
            for d in diagnostics
        ]
    if attrs(subject):
        sections.setdefault("raw", []).insert(0, {"type": "attributes", "id": f"attributes:{key}"})
    if metrics:
        sections.setdefault("metrics", []).insert(0, {"type": "metrics", "id": f"metrics:{key}"})
    if not sections:
        return None
    return {name: sections[name] for name in SECTIONS if name in sections}
