"""Pure formatting helpers for the TUI: durations, times, tokens, cost and statuses (their
glyphs and sets are :mod:`crux_tui.contract.statuses`, their styles ``app/theme.py``).

Nothing here imports Textual; every function is a total function of its input and is
safe to call with ``None``/garbage (the backend may omit fields).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from crux_tui import values
from crux_tui.contract.statuses import (
    ERROR,
    SEVERITY_GLYPHS,
    SEVERITY_INFO,
    STATUS_GLYPHS,
    UNKNOWN_GLYPH,
)
from crux_tui.sanitize import clean
from crux_tui.timestamps import parse_datetime
from crux_tui.values import number

DASH = "—"

#: status -> (glyph, style name). The styles are named; ``app/theme.py`` defines them.
STATUS_MARKS: dict[str, tuple[str, str]] = {
    status: (glyph, f"crux.status.{status}") for status, glyph in STATUS_GLYPHS.items()
}
UNKNOWN_STATUS = (UNKNOWN_GLYPH, "crux.status.unknown")

SEVERITY_STYLES = {
    "error": "crux.severity.error",
    "warn": "crux.severity.warn",
    "warning": "crux.severity.warn",
    "info": "crux.severity.info",
}
#: a problem worth attention (a reconciled status, a note, a degraded delivery)
WARN_STYLE = SEVERITY_STYLES["warn"]
#: an error's name and message
ERROR_STYLE = STATUS_MARKS[ERROR][1]
#: an instrumentation symptom's mark (``⚑``: runs list, status line, D list, detail pane)
SYMPTOM_STYLE = "crux.symptom"


def status_glyph(status: str | None) -> str:
    return STATUS_MARKS.get((status or "").lower(), UNKNOWN_STATUS)[0]


def status_style(status: str | None) -> str:
    return STATUS_MARKS.get((status or "").lower(), UNKNOWN_STATUS)[1]


def status_text(status: str | None, *, with_label: bool = True) -> Text:
    """Glyph (and label) for a status, styled; the glyph alone is enough without colour."""
    value = clean(status or "unknown")
    glyph, style = STATUS_MARKS.get(value.lower(), UNKNOWN_STATUS)
    text = Text(glyph, style=style)
    if with_label:
        text.append(" ")
        text.append(value, style=style)
    return text


def severity_text(severity: str | None) -> Text:
    value = clean(severity or SEVERITY_INFO).lower()
    glyph = SEVERITY_GLYPHS.get(value, UNKNOWN_GLYPH)
    return Text(f"{glyph} {value}", style=SEVERITY_STYLES.get(value, ""))


def count(value: int) -> str:
    """A whole number as the app writes every count: ``20,000``."""
    return f"{value:,}"


def plural(value: int, word: str, many: str = "") -> str:
    """``1 span``, ``2 spans``, ``20,000 spans`` (``many`` for irregular plurals)."""
    return f"{count(value)} {word if value == 1 else many or word + 's'}"


def value_text(value: Any) -> str:
    """A scalar from a record as the record spells it (``false``, ``null``, ``3``), cleaned."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    return clean(value)


def _number(value: Any) -> float | None:
    return number(value, from_text=True)


def duration(ms: Any) -> str:
    """``456ms``, ``4.73s``, ``2m 05s``, ``1h 02m``; ``—`` when unknown. The one format of
    the app (at most 7 cells: it fits the timeline's column too)."""
    value = _number(ms)
    if value is None or value < 0:
        return DASH
    if value < 999.5:
        return f"{value:.0f}ms"
    seconds = round(value / 1000, 2)
    if seconds < 60:
        return f"{seconds:.2f}s"
    if seconds < 3600:
        minutes, secs = divmod(int(seconds), 60)
        return f"{minutes}m {secs:02d}s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m"


#: RFC3339 -> aware UTC datetime, ``None`` when unparseable.
parse_time = parse_datetime


def relative_time(value: Any, now: datetime | None = None) -> str:
    """``just now``, ``12s ago``, ``5m ago``, ``3h ago``, ``2d ago`` (or ``in 5s``)."""
    when = parse_time(value)
    if when is None:
        return DASH
    now = now or datetime.now(UTC)
    delta = (now - when).total_seconds()
    future = delta < 0
    delta = abs(delta)
    if delta < 5:
        return "just now"
    if delta < 60:
        amount = f"{int(delta)}s"
    elif delta < 3600:
        amount = f"{int(delta // 60)}m"
    elif delta < 86400:
        amount = f"{int(delta // 3600)}h"
    else:
        amount = f"{int(delta // 86400)}d"
    return f"in {amount}" if future else f"{amount} ago"


def clock_time(value: Any) -> str:
    """``18:00:00.123`` (UTC) for a timestamp, ``—`` when absent."""
    when = parse_time(value)
    if when is None:
        return DASH if not value else clean(value)
    return when.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def offset(value: Any, origin: Any) -> str:
    """Time of ``value`` relative to ``origin`` as ``+1.23s``."""
    when, start = parse_time(value), parse_time(origin)
    if when is None or start is None:
        return DASH
    ms = (when - start).total_seconds() * 1000
    return ("+" if ms >= 0 else "-") + duration(abs(ms))


def tokens(value: Any) -> str:
    """``512``, ``1.2k``, ``3.4M``; ``—`` when unknown or zero."""
    number = _number(value)
    if number is None or number <= 0:
        return DASH
    if number < 1000:
        return f"{number:.0f}"
    if number < 1_000_000:
        return f"{number / 1000:.1f}k"
    return f"{number / 1_000_000:.1f}M"


def cost(value: Any) -> str:
    """``$0.0042``, ``$1.25``; ``—`` when unknown or zero."""
    number = _number(value)
    if number is None or number <= 0:
        return DASH
    if number < 1:
        return f"${number:.4f}"
    return f"${number:.2f}"


def size(value: Any) -> str:
    number = _number(value)
    if number is None or number < 0:
        return DASH
    if number < 1024:
        return f"{number:.0f} B"
    if number < 1024 * 1024:
        return f"{number / 1024:.1f} KiB"
    return f"{number / (1024 * 1024):.1f} MiB"


def metric(metrics: dict[str, Any] | None, *keys: str) -> float | None:
    """First numeric value among ``keys`` in ``metrics``."""
    return values.metric(metrics, *keys, from_text=True)


def total_tokens(metrics: dict[str, Any] | None) -> float | None:
    total = metric(metrics, "totalTokens")
    if total:
        return total
    parts = [metric(metrics, "inputTokens"), metric(metrics, "outputTokens")]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def total_cost(metrics: dict[str, Any] | None) -> float | None:
    return metric(metrics, "costUsd", "cost", "totalCost")
