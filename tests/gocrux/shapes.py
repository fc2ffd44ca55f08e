"""Go-shaped JSON bodies of `crux dev` v5 (``crux-v5.md`` B.2, C.2-C.4, D.1, D.3-D.4).

Plain dicts with the Go field names and Go habits (``null`` for empty slices, ``""`` and
``0`` for absent scalars), built the way the Go read model builds them: each member run is
projected on its own, then child run roots are mounted under their trigger span as
``run:<childRunId>`` nodes, and ``rows`` / ``spanIndex`` are flattened over the mounted tree.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

JSON = dict[str, Any]

NODE_KINDS = {
    "agent.run": "agent",
    "generation.call": "generation",
    "generation.stream": "generation",
    "tool.call": "tool",
    "flow.run": "flow",
}
SEVERITY = {
    "ok": "ok",
    "error": "error",
    "cancelled": "error",
    "blocked": "error",
    "stale": "warn",
    "incomplete": "warn",
    "suspended": "warn",
}
TOPOLOGY_FIX = (
    "Inspect immutable run:start operationId, parentRunId, triggeredBySpanId, and traceId fields."
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ago(seconds: float, now: datetime | None = None) -> str:
    return iso((now or datetime.now(UTC)) - timedelta(seconds=seconds))


def summary(
    run_id: str,
    name: str,
    *,
    operation_id: str | None = None,
    status: str = "ok",
    root_primitive: str = "agent.run",
    started: str = "",
    ended: str = "",
    duration_ms: float = 0,
    first_seen: str = "",
    span_count: int = 1,
    revision: int = 1,
    root_present: bool = True,
    **extra: Any,
) -> JSON:
    """A Go ``RunSummary`` (every field present, Go zero values for the absent ones)."""
    operation = operation_id or run_id
    body: JSON = {
        "runId": run_id,
        "traceId": f"trace_{operation}",
        "sessionId": "",
        "userId": "",
        "name": name,
        "rootPrimitive": root_primitive,
        "status": status,
        "startedAt": started,
        "endedAt": ended,
        "durationMs": duration_ms,
        "model": "",
        "provider": "",
        "promptId": "",
        "recordCount": span_count * 2 + 2,
        "spanCount": span_count,
        "eventCount": 0,
        "artifactCount": 0,
        "edgeCount": 0,
        "segmentCount": 1,
        "orderingConfidence": "causal",
        "gapCount": 0,
        "lastActivityAt": ended or started,
        "revision": revision,
        "deliveryHealth": {"status": "healthy" if ended else "unknown", "rejected": 0},
        "attributes": None,
        "error": None,
        "metrics": None,
        "operationId": operation,
        "rootRunId": operation,
        "rootPresent": root_present,
        "firstSeenAt": first_seen or started,
        "childRunCount": 0,
        "activeChildCount": 0,
        "suspendedChildCount": 0,
        "failedChildCount": 0,
        "topologyHealth": "healthy",
    }
    body.update(extra)
    return body


def node(
    span_id: str,
    primitive: str,
    label: str,
    *,
    run_id: str,
    status: str = "ok",
    started: str = "",
    ended: str = "",
    duration_ms: float = 0,
    node_id: str | None = None,
    kind: str | None = None,
    children: list[JSON] | None = None,
    details: list[JSON] | None = None,
    virtual: bool = False,
    parent_span: str = "",
    **extra: Any,
) -> JSON:
    """A Go ``RunDetailNode`` (``children``/``details`` are ``null`` when empty)."""
    kind = kind or NODE_KINDS.get(primitive, "operation")
    body: JSON = {
        "spanId": span_id,
        "runId": run_id,
        "traceId": "",
        "parentSpanId": parent_span,
        "family": primitive.split(".", 1)[0] if primitive else "",
        "primitive": primitive,
        "name": label,
        "status": status,
        "startedAt": started,
        "endedAt": ended,
        "durationMs": duration_ms,
        "id": node_id or f"span:{span_id}",
        "virtual": virtual,
        "parentId": "",
        "path": None,
        "kind": kind,
        "display": {"kind": kind, "label": label, "severity": SEVERITY.get(status, "info")},
        "timing": {"startedAt": started, "endedAt": ended, "durationMs": duration_ms},
        "source": {"placementReason": "", "ownerSpanId": "", "canonicalParentSpanId": ""},
        "details": details or None,
        "artifacts": None,
        "events": None,
        "relations": None,
        "diagnostics": None,
        "children": children or None,
    }
    body.update(extra)
    return body


def folded(
    span_id: str,
    primitive: str,
    label: str,
    *,
    run_id: str,
    owner: str,
    status: str = "ok",
    started: str = "",
    ended: str = "",
    duration_ms: float = 0,
) -> JSON:
    """A Go ``RunDetailDetail``: a folded span (here an infrastructure boundary)."""
    return {
        "spanId": span_id,
        "runId": run_id,
        "parentSpanId": owner,
        "family": primitive.split(".", 1)[0],
        "primitive": primitive,
        "name": label,
        "status": status,
        "startedAt": started,
        "endedAt": ended,
        "durationMs": duration_ms,
        "id": f"detail:{span_id}",
        "kind": "operation",
        "role": "",
        "label": label,
        "display": "detail",
        "timing": {"startedAt": started, "endedAt": ended, "durationMs": duration_ms},
        "source": {
            "placementReason": "presentation.display",
            "ownerSpanId": owner,
            "canonicalParentSpanId": owner,
        },
        "attributes": {"presentation": {"display": "detail"}},
        "events": None,
        "artifacts": None,
        "relations": None,
        "diagnostics": None,
    }


def topology_diagnostic(code: str, message: str) -> JSON:
    return {
        "code": code,
        "severity": "warn",
        "message": message,
        "recordIds": None,
        "spanIds": None,
        "suggestedFix": TOPOLOGY_FIX,
    }


def member(
    run: JSON, root: JSON, *, parent: str = "", trigger: str = "", diags: Any = None
) -> JSON:
    """One ``memberRuns[]`` entry (C.3): the member's own summary, full tree, diagnostics."""
    entry: JSON = {"run": run, "root": copy.deepcopy(root), "diagnostics": diags}
    if parent:
        entry["parentRunId"] = parent
    if trigger:
        entry["triggeredBySpanId"] = trigger
    return entry


def mount(operation_root: JSON, members: list[JSON]) -> JSON:
    """``mountOperationMemberRuns`` (C.4): each child root goes under the node whose
    ``spanId`` is its trigger span in its parent run, else under the parent's node."""
    root = copy.deepcopy(operation_root)
    operation_id = root["runId"]

    def find(tree: JSON, want: Any) -> JSON | None:
        stack = [tree]
        while stack:
            current = stack.pop()
            if want(current):
                return current
            stack.extend(current.get("children") or [])
        return None

    for entry in members:
        parent_run = entry.get("parentRunId", "")
        if not parent_run:
            continue
        child = copy.deepcopy(entry["root"])
        child["id"] = f"run:{entry['run']['runId']}"
        if parent_run == operation_id:
            parent = root
        else:
            parent = find(root, lambda n, p=parent_run: n["id"] == f"run:{p}") or root
        trigger = entry.get("triggeredBySpanId", "")
        target = None
        if trigger:
            target = find(
                parent, lambda n, t=trigger, p=parent_run: n["spanId"] == t and n["runId"] == p
            )
        target = target or parent
        target["children"] = [*(target.get("children") or []), child]
    return root


def flatten(root: JSON) -> tuple[list[JSON], JSON]:
    """``rows`` and ``spanIndex`` over the mounted tree (sets ``parentId``/``path``)."""
    rows: list[JSON] = []
    index: JSON = {}
    stack: list[tuple[JSON, str, list[str], int]] = [(root, "", [], 0)]
    while stack:
        current, parent_id, parent_path, depth = stack.pop()
        path = [*parent_path, current["id"]]
        current["parentId"] = parent_id
        current["path"] = path
        kids = current.get("children") or []
        rows.append(
            {
                "nodeId": current["id"],
                "spanId": current["spanId"],
                "parentId": parent_id,
                "depth": depth,
                "path": path,
                "hasChildren": bool(kids),
                "expandedDefault": depth < 2,
                "display": current["display"],
                "status": current["status"],
                "model": "",
                "provider": "",
                "timing": current["timing"],
                "match": False,
            }
        )
        if current["spanId"]:
            index[current["spanId"]] = {
                "placement": "node",
                "nodeId": current["id"],
                "path": path,
            }
        for det in current.get("details") or []:
            index[det["spanId"]] = {
                "placement": "detail",
                "nodeId": det["id"],
                "ownerNodeId": current["id"],
                "path": path,
                "reason": "presentation.display",
            }
        for kid in reversed(kids):
            stack.append((kid, current["id"], path, depth + 1))
    return rows, index


def run_detail(run: JSON, operation_root: JSON, members: list[JSON], diagnostics: Any) -> JSON:
    """A Go operation ``RunDetail`` (C.2) with ``memberRuns`` and the children mounted."""
    root = mount(operation_root, members)
    rows, index = flatten(root)
    spans = sum(m["run"]["spanCount"] for m in members)
    return {
        "schemaVersion": 5,
        "run": run,
        "root": root,
        "rows": rows,
        "spanIndex": index,
        "facets": {"status": {}},
        "diagnostics": diagnostics,
        "counts": {"primary": spans, "detail": 0, "metadata": 0, "attachedDetails": 0},
        "definitionRefs": [],
        "manifest": {"resolution": "manifest-unspecified", "definitions": []},
        "memberRuns": members,
    }


def observability_event(
    kind: str, action: str, ref: str, payload: JSON, *, severity: str = "info", event_id: str = ""
) -> JSON:
    """An ``ObservabilityEvent`` (D.4) as the Go encodes it."""
    stamp = int(datetime.now(UTC).timestamp() * 1000)
    return {
        "_tag": "ObservabilityEvent",
        "id": event_id if event_id else f"observability:{ref}:{stamp}",
        "timestamp": stamp,
        "kind": kind,
        "action": action,
        "severity": severity,
        "refId": ref,
        "payload": payload,
    }


def ingested_event(operation_id: str, revision: int) -> JSON:
    return observability_event(
        "observability.records",
        "ingested",
        operation_id,
        {"operationId": operation_id, "entity": "operation", "revision": revision},
    )


def deleted_event(operation_ids: list[str], revision: int) -> JSON:
    event = observability_event(
        "observability.records",
        "deleted",
        operation_ids[0],
        {"operationIds": operation_ids, "revision": revision},
    )
    event["id"], event["timestamp"] = "", 0  # as the Go sends it (D.4)
    return event


def lifecycle_event(run_id: str, status: str, reason: str = "inactive") -> JSON:
    return observability_event(
        "observability.lifecycle",
        "reconciled",
        run_id,
        {"runId": run_id, "status": status, "reason": reason},
        severity="error" if status in ("error", "cancelled") else "warn",
    )


def token_chunk_event(run_id: str, span_id: str, n: int, text: str = "tok ") -> JSON:
    stamp = int(datetime.now(UTC).timestamp() * 1000)
    return observability_event(
        "token.chunk",
        "appended",
        run_id,
        {
            "runId": run_id,
            "traceId": f"trace_{run_id}",
            "spanId": span_id,
            "eventId": f"evt_{n}",
            "timestamp": stamp,
            "attributes": {
                "text": text,
                "charCount": len(text),
                "firstDeltaAt": stamp,
                "lastDeltaAt": stamp,
            },
        },
        event_id=f"token:{run_id}:{span_id}:evt_{n}",
    )
