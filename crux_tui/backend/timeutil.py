"""RFC3339 helpers shared by the backend modules."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from crux_tui.timestamps import parse_datetime


@lru_cache(maxsize=65536)
def sort_key(value: str | None) -> str:
    """Normalize an RFC3339 timestamp to a sortable UTC string ("" when unparsable)."""
    parsed = parse(value)
    if parsed is None:
        return ""
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: RFC3339 -> aware UTC datetime, ``None`` when unparseable.
parse = parse_datetime


def format_ts(moment: datetime) -> str:
    """Format ``moment`` as RFC3339 with milliseconds and a ``Z`` suffix."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def millis_between(start: str | None, end: str | None) -> float | None:
    """Whole milliseconds from ``start`` to ``end`` (floored, >= 0), ``None`` if either is missing."""
    a, b = parse(start), parse(end)
    if a is None or b is None:
        return None
    return float(max(0, int((b - a).total_seconds() * 1000)))
