"""Inspection sections of RunDetail nodes and details (``presentation.md`` §4, ``crux-api.md`` 5.2).

One place for what goes where, used by both sides: the embedded backend's projection builds
``inspection`` with it, and the viewer rebuilds the same items from ``artifacts`` when a backend
sends no ``inspection`` -- so both backends show the same thing.

An item is ``{type, id, label?, kind?, role?, sourceSpanId?, data?}`` (plain JSON):

* ``span.error`` -- ``id "error:<spanId>"``, ``data`` the span's error object;
* ``artifact`` -- the artifact's id and kind, ``data {preview}`` (``sourceSpanId`` when the
  artifact hangs on another span, e.g. the ``tool.request`` a tool call pulls in);
* ``detail`` -- a folded detail of the node (``id "detail:<spanId>"``, label, kind, role);
* ``event``, ``relation``, ``diagnostic``, ``attributes``, ``metrics`` -- an id and a label
  that refer to what the same node carries (its events, relations, diagnostics, attributes
  and metric buckets), so the body does not hold those values twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crux_tui.contract.models import ArtifactSummary

#: Section names in the order a client shows them.
SECTIONS = (
    "errors",
    "input",
    "output",
    "messages",
    "context",
    "tools",
    "retrieval",
    "memory",
    "safety",
    "scores",
    "citations",
    "events",
    "relations",
    "diagnostics",
    "raw",
    "metrics",
)

#: Artifact kinds per section. §4 names errors, input, output, messages, context and tools; the
#: other kinds of the closed list go where their subject belongs; unknown kinds go to ``raw``.
ARTIFACT_SECTIONS: dict[str, str] = {
    "error.stack": "errors",
    "error.raw": "errors",
    "input": "input",
    "prompt": "input",
    "system": "input",
    "output": "output",
    "handoff.payload": "output",
    "delegate.report": "output",
    "messages": "messages",
    "context": "context",
    "context.contribution": "context",
    "prompt.budget": "context",
    "routing.report": "context",
    "cache.report": "context",
    "compaction.report": "context",
    "tool.args": "tools",
    "tool.request": "tools",
    "tool.result": "tools",
    "approval.request": "tools",
    "retrieval.hits": "retrieval",
    "embedding.report": "retrieval",
    "indexing.report": "retrieval",
    "ingest.report": "retrieval",
    "corpus.report": "retrieval",
    "memory.snapshot": "memory",
    "memory.recall": "memory",
    "memory.diff": "memory",
    "memory.write": "memory",
    "constraint.report": "safety",
    "guardrail.report": "safety",
    "security.report": "safety",
    "validation.feedback": "safety",
    "score.report": "scores",
    "comparison.report": "scores",
    "baseline.promotion": "scores",
    "citation.report": "citations",
    "composition.report": "events",
    "stream.timeline": "events",
}

#: The section a folded detail is listed under, by its span family.
FAMILY_SECTIONS: dict[str, str] = {
    "prompt": "input",
    "context": "context",
    "routing": "context",
    "cache": "context",
    "compaction": "context",
    "tool": "tools",
    "generation": "output",
    "retrieval": "retrieval",
    "embedding": "retrieval",
    "memory": "memory",
    "constraint": "safety",
    "guardrail": "safety",
    "security": "safety",
    "scoring": "scores",
    "eval": "scores",
    "citation": "citations",
    "cost": "metrics",
}

ERROR_ITEM = "span.error"
ARTIFACT_ITEM = "artifact"


def artifact_section(kind: str) -> str:
    """The section an artifact of ``kind`` belongs to (``raw`` for kinds we do not know)."""
    return ARTIFACT_SECTIONS.get(kind, "raw")


def family_section(family: str) -> str:
    """The section a folded detail of ``family`` is listed under."""
    return FAMILY_SECTIONS.get(family, "raw")


def error_data(error: Any) -> dict[str, Any] | None:
    """A span's ``error`` (object or bare string) as item data; ``None`` when there is none."""
    if error is None or error == "" or error == {}:
        return None
    if isinstance(error, dict):
        return error
    return {"message": error if isinstance(error, str) else str(error)}


def span_error_item(span_id: str, error: Any) -> dict[str, Any] | None:
    data = error_data(error)
    if data is None:
        return None
    return {"type": ERROR_ITEM, "id": f"error:{span_id}", "sourceSpanId": span_id, "data": data}


def artifact_item(artifact: ArtifactSummary, owner_span_id: str = "") -> dict[str, Any]:
    """The item of one artifact: its id, kind and preview (``sourceSpanId`` when it hangs on
    another span than ``owner_span_id``, the span being inspected)."""
    item: dict[str, Any] = {"type": ARTIFACT_ITEM, "id": artifact.artifactId, "kind": artifact.kind}
    if artifact.spanId and artifact.spanId != owner_span_id:
        item["sourceSpanId"] = artifact.spanId
    item["data"] = {"preview": artifact.preview}
    return item


def artifact_of_item(item: Any, owner_span_id: str = "") -> ArtifactSummary | None:
    """Rebuild the artifact an ``artifact`` item stands for (``None`` for other items)."""
    if not isinstance(item, dict) or item.get("type") != ARTIFACT_ITEM:
        return None
    data = item.get("data")
    data = data if isinstance(data, dict) else {}
    return ArtifactSummary(
        artifactId=_str(item.get("id")),
        spanId=_str(item.get("sourceSpanId")) or owner_span_id,
        kind=_str(item.get("kind")),
        preview=data.get("preview"),
    )


def section_items(inspection: Any, section: str) -> list[dict[str, Any]]:
    """The items of one section of a (possibly malformed) ``inspection`` value."""
    if not isinstance(inspection, dict):
        return []
    found = inspection.get(section)
    if not isinstance(found, list):
        return []
    return [item for item in found if isinstance(item, dict)]


def artifact_sections(
    span_id: str, error: Any, artifacts: list[ArtifactSummary]
) -> dict[str, list[dict[str, Any]]]:
    """The sections made of a span's own error and artifacts, errors first (span error, then
    ``error.stack`` artifacts, then ``error.raw``), each other section in artifact order."""
    sections: dict[str, list[dict[str, Any]]] = {}
    error_item = span_error_item(span_id, error)
    errors = [error_item] if error_item is not None else []
    raws: list[dict[str, Any]] = []
    for artifact in artifacts:
        kind = artifact.kind
        if kind == "error.stack":
            errors.append(artifact_item(artifact, span_id))
        elif kind == "error.raw":
            raws.append(artifact_item(artifact, span_id))
        else:
            item = artifact_item(artifact, span_id)
            section = ARTIFACT_SECTIONS.get(kind, "raw")
            found = sections.get(section)
            if found is None:
                sections[section] = [item]
            else:
                found.append(item)
    errors.extend(raws)
    if errors:
        sections["errors"] = errors
    return sections


def tool_call_id(mapping: Any) -> str:
    """The ``toolCallId`` (or ``tool_call_id``) of an attributes or preview object, else ""."""
    if not isinstance(mapping, dict):
        return ""
    return _str(mapping.get("toolCallId")) or _str(mapping.get("tool_call_id"))


def tool_requests_by_call(artifacts: Iterable[ArtifactSummary]) -> dict[str, list[ArtifactSummary]]:
    """toolCallId -> every ``tool.request`` artifact that carries it (attributes or preview)."""
    found: dict[str, list[ArtifactSummary]] = {}
    for art in artifacts:
        if art.kind != "tool.request":
            continue
        call_id = tool_call_id(art.attributes) or tool_call_id(art.preview)
        if call_id:
            found.setdefault(call_id, []).append(art)
    return found


def pull_tool_requests(
    sections: dict[str, list[dict[str, Any]]],
    span_id: str,
    call_id: str,
    own: list[ArtifactSummary],
    requests: dict[str, list[ArtifactSummary]],
) -> None:
    """A ``tool.call`` also lists the run's ``tool.request`` artifacts with its call id (the
    generation that asked owns them), ahead of its own tool artifacts."""
    if not call_id:
        return
    mine = {a.artifactId for a in own}
    pulled = [
        artifact_item(a, span_id) for a in requests.get(call_id, ()) if a.artifactId not in mine
    ]
    if pulled:
        sections["tools"] = pulled + sections.get("tools", [])


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
