"""Metric roll-ups (§4): own/children/details/total buckets with aliases and merge rules."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import MetricBuckets

from .common import number

ALIASES = {"cost": "costUsd", "totalCost": "costUsd", "cachedInputTokens": "cacheReadTokens"}
PREVIEW_KEYS = ("usage", "metrics", "streaming", "meta")
#: Hostile-input guard: at most this many numeric keys are taken from one metrics object.
MAX_KEYS = 64


def _non_additive(key: str) -> bool:
    low = key.lower()
    return "score" in low or "confidence" in low


def normalize(raw: Any) -> dict[str, float]:
    """Numeric entries of a metrics object, aliases mapped (canonical key wins)."""
    out: dict[str, float] = {}
    if not isinstance(raw, dict):
        return out
    aliased: dict[str, float] = {}
    for key, value in raw.items():
        if len(out) + len(aliased) >= MAX_KEYS:
            break
        v = number(value)
        if v is None or type(key) is not str:
            continue
        target = ALIASES.get(key)
        if target:
            aliased.setdefault(target, v)
        else:
            out[key] = v
    for key, v in aliased.items():
        if not out.get(key):
            out[key] = v
    return out


def fill_missing(into: dict[str, float], source: Any) -> None:
    """Fill missing or zero keys of ``into`` from another metrics-like object."""
    for key, v in normalize(source).items():
        if not into.get(key):
            into[key] = v


def own_metrics(span: Any, events: list[Any], artifacts: list[Any]) -> dict[str, float]:
    own = normalize(span.metrics)
    for ev in events:
        if ev.name == "usage.observed":
            fill_missing(own, ev.attributes)
    for art in artifacts:
        preview = art.preview
        if isinstance(preview, dict):
            for key in PREVIEW_KEYS:
                fill_missing(own, preview.get(key))
    _total_tokens(own)
    return own


def _total_tokens(m: dict[str, float]) -> None:
    if "inputTokens" in m or "outputTokens" in m:
        parts = m.get("inputTokens", 0) + m.get("outputTokens", 0)
        if m.get("totalTokens", 0) < parts:
            m["totalTokens"] = parts


def add(into: dict[str, float], other: dict[str, float] | None) -> None:
    """Roll ``other`` into ``into``: sums; ttftMs = min positive; tokensPerSecond/scores = first."""
    if not other:
        return
    for key, v in other.items():
        if key not in into:
            into[key] = v
        elif key == "ttftMs":
            cur = into[key]
            if v > 0 and (cur <= 0 or v < cur):
                into[key] = v
        elif key == "tokensPerSecond" or _non_additive(key):
            continue
        else:
            into[key] = into[key] + v
    _total_tokens(into)


def combined(*parts: dict[str, float] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        add(out, part)
    return out


def roll_up_node(
    node: Any,
    own: dict[str, float],
    details: dict[str, float],
    children: dict[str, float],
    run_metrics: Any,
) -> dict[str, float]:
    """Set a node's ``metricBuckets`` and return its total (§4): a virtual run root totals
    its children and details, gaps filled from its run's metrics; any other node adds its
    own figures."""
    if node.virtual:
        own = {}
        total = combined(children, details)
        fill_missing(total, run_metrics)
    else:
        total = combined(own, details, children)
    if own or children or details or total:
        node.metricBuckets = MetricBuckets(
            own=own or None,
            children=children or None,
            details=details or None,
            total=total or None,
        )
    return total
