"""RFC3339 parsing/formatting with nanosecond precision (Go ``time.RFC3339Nano`` semantics).

Times are handled as ``(epoch_ns, offset_seconds)`` pairs so that reconciled end times can be
re-formatted exactly like the Go backend does (trailing fractional zeros trimmed, ``Z`` for UTC).
Unparseable or missing timestamps yield ``None``; nothing in here raises on bad input.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))$"
)

#: Freshness window of the Go backend (``isStaleTimestampAt``): strictly more than 60 s.
FRESHNESS_NS = 60 * 1_000_000_000

_cache: dict[str, tuple[int, int] | None] = {}


def parse(value: object) -> tuple[int, int] | None:
    """Parse an RFC3339(Nano) string into ``(epoch_ns, offset_s)``; ``None`` when unusable."""
    if type(value) is not str or not value:
        return None
    hit = _cache.get(value, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    result = _parse(value)
    if len(_cache) > 200_000:
        _cache.clear()
    _cache[value] = result
    return result


def _parse(value: str) -> tuple[int, int] | None:
    m = _RFC3339.match(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    try:
        days_ok = day <= calendar.monthrange(year, month)[1]
    except (ValueError, OverflowError):
        return None
    if not days_ok:
        return None
    frac = m.group(7) or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    offset = 0
    if m.group(9):
        offset = int(m.group(10)) * 3600 + int(m.group(11)) * 60
        if m.group(9) == "-":
            offset = -offset
    epoch = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    return epoch * 1_000_000_000 + nanos, offset


def ns(value: object) -> int | None:
    """Epoch nanoseconds of an RFC3339 string, or ``None``."""
    parsed = parse(value)
    return None if parsed is None else parsed[0]


def from_datetime(value: datetime) -> int:
    """Epoch nanoseconds of an aware datetime (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def format_ns(epoch_ns: int, offset: int = 0) -> str:
    """Format like Go ``time.RFC3339Nano`` (``2026-05-16T18:01:30Z``, ``...:30.5Z``)."""
    local = epoch_ns + offset * 1_000_000_000
    secs, nanos = divmod(local, 1_000_000_000)
    try:
        tm = datetime(1970, 1, 1) + timedelta(seconds=secs)
    except (OverflowError, ValueError):
        return ""
    text = tm.strftime("%Y-%m-%dT%H:%M:%S")
    if len(text) < 19:  # years < 1000 are not zero padded on every platform
        text = f"{tm.year:04d}" + text[text.index("-") :]
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    if offset == 0:
        return text + "Z"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def reformat(value: str) -> str:
    """Re-format a timestamp Go-style; unparseable text is returned unchanged."""
    parsed = parse(value)
    return value if parsed is None else format_ns(*parsed)


def duration_ms(started: object, ended: object) -> float:
    """Whole milliseconds between two timestamps, floored and clamped at 0 (0 if unparseable)."""
    a, b = ns(started), ns(ended)
    if a is None or b is None or b <= a:
        return 0
    return (b - a) // 1_000_000


def elapsed_ms(started: object, now_ns: int) -> float:
    a = ns(started)
    if a is None or now_ns <= a:
        return 0
    return (now_ns - a) // 1_000_000


def is_stale(anchor: object, now_ns: int) -> bool:
    """``now - anchor > 60 s``; unparseable anchors are never stale."""
    a = ns(anchor)
    return a is not None and now_ns - a > FRESHNESS_NS


def before_or_equal(a: str, b: str) -> bool:
    """``a <= b`` as times; string compare if either fails to parse; empty -> False."""
    if not a or not b:
        return False
    pa, pb = ns(a), ns(b)
    if pa is None or pb is None:
        return a <= b
    return pa <= pb


def sort_key(value: str) -> tuple[int, int, str]:
    """Total order key: parsed times first by instant, then unparseable text, empty last."""
    parsed = ns(value)
    if parsed is not None:
        return (0, parsed, value)
    if value:
        return (1, 0, value)
    return (2, 0, "")


def sort_key_latest(value: str) -> tuple[int, int, str]:
    """Key for "latest" selection: parsed times rank above unparseable text, which ranks above ""."""
    parsed = ns(value)
    if parsed is not None:
        return (2, parsed, value)
    return (1, 0, value) if value else (0, 0, "")
