"""The one RFC3339 parser of display, ordering and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crux_tui.timestamps import epoch_ms, parse_datetime

BASE = datetime(2026, 5, 16, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("2026-05-16T18:00:00Z", 0),
        ("2026-05-16T18:00:00z", 0),
        ("2026-05-16T18:00:00.5Z", 500_000),
        ("2026-05-16T18:00:00.123456789Z", 123_456),
        ("2026-05-16T20:00:00.25+02:00", 250_000),
        ("2026-05-16T18:00:00", 0),  # naive: taken as UTC
        (" 2026-05-16T18:00:00Z ", 0),
    ],
)
def test_parse_variants(text: str, micro: int) -> None:
    parsed = parse_datetime(text)
    assert parsed == BASE.replace(microsecond=micro)
    assert parsed is not None and parsed.tzinfo is UTC
    assert epoch_ms(text.strip()) == pytest.approx(BASE.timestamp() * 1000 + micro / 1000)


@pytest.mark.parametrize(
    "junk", ["", "yesterday", "2026-13-01T00:00:00Z", None, 17, "2026-05-16T25"]
)
def test_junk_is_none(junk: object) -> None:
    assert parse_datetime(junk) is None
    assert epoch_ms(junk) is None
