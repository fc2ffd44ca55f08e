from datetime import UTC, datetime, timedelta

from crux_tui.app import format as fmt
from crux_tui.contract.statuses import is_terminal_status


def test_durations() -> None:
    assert fmt.duration(456) == "456ms"
    assert fmt.duration(1234) == "1.23s"
    assert fmt.duration(125_000) == "2m 05s"
    assert fmt.duration(3_720_000) == "1h 02m"
    assert fmt.duration(None) == fmt.DASH
    assert fmt.duration("nope") == fmt.DASH
    # one format everywhere (the timeline's column too), one rounding
    assert fmt.duration(90_000) == "1m 30s"
    assert fmt.duration(999.6) == "1.00s" and fmt.duration(4726) == "4.73s"


def test_counts_and_plurals() -> None:
    assert fmt.plural(1, "span") == "1 span"
    assert fmt.plural(20_002, "span") == "20,002 spans"
    assert fmt.plural(2, "match", "matches") == "2 matches"
    assert fmt.value_text(False) == "false" and fmt.value_text(None) == "null"
    assert fmt.value_text(3) == "3" and fmt.value_text("x") == "x"


def test_tokens_and_cost() -> None:
    assert fmt.tokens(512) == "512"
    assert fmt.tokens(1234) == "1.2k"
    assert fmt.tokens(3_400_000) == "3.4M"
    assert fmt.tokens(0) == fmt.DASH
    assert fmt.cost(0.0042) == "$0.0042"
    assert fmt.cost(1.5) == "$1.50"
    assert fmt.cost(None) == fmt.DASH
    assert fmt.total_tokens({"inputTokens": 3, "outputTokens": 4}) == 7
    assert fmt.total_cost({"totalCost": 0.5}) == 0.5


def test_relative_and_clock_time() -> None:
    now = datetime(2026, 5, 16, 18, 0, 0, tzinfo=UTC)
    assert fmt.relative_time("2026-05-16T17:59:58Z", now) == "just now"
    assert fmt.relative_time("2026-05-16T17:59:30.123456789Z", now) == "29s ago"
    assert fmt.relative_time("2026-05-16T17:55:00Z", now) == "5m ago"
    assert fmt.relative_time("2026-05-14T18:00:00Z", now) == "2d ago"
    assert fmt.relative_time((now + timedelta(seconds=30)).isoformat(), now) == "in 30s"
    assert fmt.relative_time("", now) == fmt.DASH
    assert fmt.clock_time("2026-05-16T18:00:00.010Z") == "18:00:00.010"
    assert fmt.offset("2026-05-16T18:00:01.500Z", "2026-05-16T18:00:00Z") == "+1.50s"


def test_status_glyphs_distinct_without_colour() -> None:
    statuses = [
        "running",
        "ok",
        "error",
        "blocked",
        "cancelled",
        "suspended",
        "incomplete",
        "stale",
        "skipped",
    ]
    glyphs = [fmt.status_glyph(s) for s in statuses]
    assert len(set(glyphs)) == len(glyphs)
    assert fmt.status_text("stale").plain == "◇ stale"
    assert not is_terminal_status("running")
    assert not is_terminal_status("stale")
    assert is_terminal_status("incomplete")
