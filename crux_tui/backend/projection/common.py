"""Small shared helpers: tolerant attribute access and span predicates."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.inspection import tool_call_id as tool_call_id  # one rule, shared
from crux_tui.contract.models import SpanSummary
from crux_tui.contract.statuses import RUNNING

_EMPTY: dict[str, Any] = {}

BOUNDARY_PRIMITIVES = frozenset({"runtime.convex.action", "runtime.convex.schedule"})
TERMINAL_ACK_EVENTS = ("runtime.convex.boundary.completed", "runtime.convex.boundary.failed")
LEASE_EVENTS = ("runtime.convex.boundary.requested", "runtime.convex.boundary.received")


def attrs(obj: Any) -> dict[str, Any]:
    """``obj.attributes`` when it is a dict, else an empty (shared, read-only) dict."""
    value = getattr(obj, "attributes", None)
    return value if isinstance(value, dict) else _EMPTY


def sub(mapping: Any, key: str) -> dict[str, Any]:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, dict) else _EMPTY


def text(mapping: Any, key: str) -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if type(value) is str else ""


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def is_open(span: Any) -> bool:
    """Open (presentation.md §0): no end and still running."""
    return not span.endedAt and span.status == RUNNING


def is_terminal(span: Any) -> bool:
    """Terminal (presentation.md §0): an end and a status other than running."""
    return bool(span.endedAt) and span.status not in ("", RUNNING)


def reconciled_from(obj: Any) -> str:
    return text(sub(attrs(obj), "diagnostics"), "reconciledFrom")


def merge_diagnostics(obj: Any, values: dict[str, Any]) -> None:
    """Set ``obj.attributes.diagnostics`` += values on a *copy* of the attributes dict."""
    current = attrs(obj)
    new_attrs = dict(current)
    diag = dict(sub(current, "diagnostics"))
    diag.update(values)
    new_attrs["diagnostics"] = diag
    obj.attributes = new_attrs


def presentation(span: SpanSummary) -> dict[str, Any]:
    return sub(attrs(span), "presentation")
