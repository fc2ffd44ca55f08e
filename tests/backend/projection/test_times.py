"""RFC3339 times as the Go backend reads them (``time.RFC3339Nano``): every valid calendar
day is a time, an offset counts its hours and minutes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crux_tui.backend.projection import times

from .builders import graph, node_by_span, project, span, ts


def test_the_first_and_last_day_of_a_month_are_times():
    for value in ("2026-06-01T00:00:00Z", "2026-01-01T12:00:00Z", "2026-02-28T00:00:00Z"):
        assert times.ns(value) is not None, value
    assert times.ns("2026-06-00T00:00:00Z") is None
    assert times.ns("2026-02-29T00:00:00Z") is None  # not a leap year
    day = 86_400 * 10**9
    assert times.ns("2026-06-01T00:00:00Z") == times.ns("2026-05-31T00:00:00Z") + day


def test_an_offset_counts_its_hours_and_its_minutes():
    utc = times.ns("2026-05-16T18:00:00Z")
    assert times.ns("2026-05-16T23:30:00+05:30") == utc
    assert times.ns("2026-05-16T14:15:00-03:45") == utc
    assert times.ns("2026-05-16T23:30:00+0530") == utc


def test_freshness_reads_an_offset_time_as_the_instant_it_names():
    """R7: a span last active 30 s ago, written in +05:30, is not stale yet."""
    g = graph([span("t", "", "tool.call", start=0)], lastActivityAt="2026-05-16T23:30:30+05:30")
    assert node_by_span(project(g, now=89), "t").status == "running"
    assert node_by_span(project(g, now=91), "t").status == "stale"


def test_seconds_stop_at_a_leap_second():
    assert times.ns("2026-12-31T23:59:60Z") is not None
    assert times.ns("2026-05-16T18:00:61Z") is None


def test_years_before_1000_are_written_with_four_digits():
    assert times.reformat("0999-05-16T18:00:00.500Z") == "0999-05-16T18:00:00.5Z"
    assert times.reformat("0042-01-01T00:00:00+01:00") == "0042-01-01T00:00:00+01:00"


def test_now_is_read_to_the_microsecond():
    """A deadline 0.4 ms after ``now`` (which has microseconds) has not passed yet."""
    g = graph(
        [
            span(
                "g",
                "",
                "generation.call",
                start=0,
                attributes={"deadlineAt": "2026-05-16T18:00:00.5004Z"},
            ),
            span("h", "", "generation.call", start=0, attributes={"deadlineAt": ts(0.5)}),
        ]
    )
    d = project(g, now=0.5)
    assert node_by_span(d, "g").status == "running"
    assert node_by_span(d, "h").status == "incomplete"  # at its exact instant


def test_before_or_equal_compares_unparseable_times_as_text_including_equal_ones():
    """presentation.md R3 `span.startedAt <= ancestor.endedAt`: string compare if either fails
    to parse, so the same unparseable text is <= itself; empty is never."""
    assert times.before_or_equal("unknown", "unknown")
    assert times.before_or_equal("later", "unknown") and not times.before_or_equal("x", "unknown")
    assert not times.before_or_equal("", "") and not times.before_or_equal("", "unknown")


def test_hour_24_is_not_a_time():
    """RFC3339 hours run 00-23 (Go rejects ``T24:00:00``); no rolling over to the next day."""
    assert times.ns("2026-05-16T24:00:00Z") is None
    assert times.ns("2026-05-16T23:00:00Z") is not None


def test_a_duration_is_zero_when_the_end_is_before_the_start_or_either_does_not_parse():
    """``durationMs`` = end - start in whole ms, clamped at 0; an unparseable end gives 0."""
    start, end = "2026-05-16T18:00:00Z", "2026-05-16T18:00:01.5Z"
    assert times.duration_ms(start, end) == 1500
    assert times.duration_ms(end, start) == 0
    assert times.duration_ms(start, start) == 0
    assert times.duration_ms(start, "not a time") == 0
    assert times.duration_ms("not a time", end) == 0


def test_now_as_a_datetime_is_read_at_its_own_offset_and_naive_means_utc():
    """The projection clock: an aware ``now`` names its instant; a naive one is UTC."""
    utc = times.ns("2026-05-16T18:00:00.000001Z")
    aware = datetime(2026, 5, 16, 23, 30, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert times.from_datetime(aware) == utc
    assert times.from_datetime(datetime(2026, 5, 16, 18, 0, 0, 1)) == utc


def test_minute_60_is_not_a_time():
    """RFC3339 minutes run 00-59 (Go rejects ``:60:``); only seconds may reach 60."""
    assert times.ns("2026-05-16T18:60:00Z") is None
    assert times.ns("2026-05-16T18:59:00Z") is not None


def test_before_or_equal_compares_two_parseable_times_as_instants_not_text():
    """Ancestor rule ``startedAt <= endedAt`` is a time compare when both parse (§2)."""
    assert times.before_or_equal("2026-05-16T18:00:00+02:00", "2026-05-16T17:00:00Z")
    assert not times.before_or_equal("2026-05-16T18:00:30.5Z", "2026-05-16T18:00:30Z")


def test_a_positive_offset_under_a_minute_is_written_with_a_plus_sign():
    """Go ``RFC3339Nano``: any offset other than 0 east of UTC is signed ``+`` (``+00:00``)."""
    assert times.format_ns(0, 1) == "1970-01-01T00:00:01+00:00"


def test_sort_key_orders_times_then_unparseable_text_then_empty():
    """Total order: parsed times first by instant, then unparseable text, empty last."""
    values = ["", "garbage", "2026-05-16T18:01:30Z", "2026-05-16T18:01:29Z"]
    assert sorted(values, key=times.sort_key) == [
        "2026-05-16T18:01:29Z",
        "2026-05-16T18:01:30Z",
        "garbage",
        "",
    ]
