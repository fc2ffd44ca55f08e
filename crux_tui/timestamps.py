"""RFC3339 timestamps for display, ordering and the timeline (one parser for all of them).

The projection keeps its own nanosecond-exact arithmetic (``backend/projection/times.py``,
Go ``RFC3339Nano`` semantics); everything else reads timestamps through here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND_CACHE: dict[str, float] = {}


def parse_datetime(value: Any) -> datetime | None:
    """An RFC3339(Nano) string as an aware UTC datetime; ``None`` when empty or unparseable.

    Naive values are taken as UTC; digits beyond microseconds are dropped.
    """
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("z"):
        text = text[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def epoch_ms(value: Any) -> float | None:
    """An RFC3339(Nano) string as epoch milliseconds; ``None`` when empty or unparseable.

    The fast path caches the whole-second prefix, since the spans of one run share seconds.
    """
    if not isinstance(value, str) or len(value) < 19:
        return None
    head = value[:19]
    base = _SECOND_CACHE.get(head)
    if base is None:
        try:
            parsed = datetime.fromisoformat(head)
        except ValueError:
            return _slow_epoch_ms(value)
        base = (parsed.replace(tzinfo=UTC) - _EPOCH).total_seconds() * 1000.0
        if len(_SECOND_CACHE) > 100_000:
            _SECOND_CACHE.clear()
        _SECOND_CACHE[head] = base
    rest = value[19:]
    if rest in ("Z", "z", ""):
        return base
    frac = 0.0
    if rest[0] == ".":
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        digits = rest[1:end]
        if digits:
            frac = int(digits[:9]) / (10 ** min(len(digits), 9)) * 1000.0
        rest = rest[end:]
    if rest in ("Z", "z", ""):
        return base + frac
    if len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        try:
            offset = (int(rest[1:3]) * 60 + int(rest[4:6])) * 60_000.0
        except ValueError:
            return _slow_epoch_ms(value)
        return base + frac - offset if rest[0] == "+" else base + frac + offset
    return _slow_epoch_ms(value)


def _slow_epoch_ms(value: str) -> float | None:
    parsed = parse_datetime(value)
    return None if parsed is None else (parsed - _EPOCH).total_seconds() * 1000.0
