"""Run-level diagnostics (§6) and hostile input."""

from __future__ import annotations

import sys

from crux_tui.backend.projection import presented_run_status
from crux_tui.contract.models import SpanSummary

from .builders import at, diag_codes, event, graph, node_by_span, project, span, ts


def test_missing_parent_span_and_cross_trace_and_alias_conflict():
    g = graph(
        [
            span("a", "", "agent.run", start=0, end=1, traceId="t1"),
            span("b", "ghost", "tool.call", start=0, end=1, traceId="t2"),
            span("c", "", "tool.call", start=0, end=1, traceId="t3"),
        ],
        traceId="t1",
        traceAliasConflict=True,
    )
    d = project(g, now=2)
    codes = diag_codes(d.diagnostics)
    assert codes == ["cross-trace-run", "missing-parent-span", "trace-alias-conflict"]
    assert d.diagnostics[0].spanIds == ["b"]  # reported once, first offender
    assert d.diagnostics[1].spanIds == ["b", "ghost"]
    assert all(x.severity == "warn" and x.suggestedFix for x in d.diagnostics)
    assert d.spanIndex["b"].placement == "node"  # orphans become roots


def test_presented_run_status_reason():
    g = graph([span("t", "", "tool.call", start=0)])
    assert presented_run_status(g, at(61)) == ("incomplete", "stale-boundary")
    done = graph([span("t", "", "tool.call", start=0, end=1)])
    assert presented_run_status(done, at(61)) == ("ok", "presentation-reconciled")


def test_hostile_input_never_raises():
    deep: dict = {}
    cur = deep
    for _ in range(500):
        cur["x"] = {}
        cur = cur["x"]
    spans_ = [
        span("a", "b", "agent.run"),
        span("b", "a", "agent.run"),  # cycle a -> b -> a
        span("self", "self", "tool.call"),  # self parent
        span("dup", "", "tool.call"),
        span("dup", "", "generation.call"),  # duplicate id
        SpanSummary(spanId="nots", parentSpanId="a", startedAt="garbage"),
        SpanSummary(spanId="weird", attributes=[1, 2], metrics="x"),  # type: ignore[arg-type]
        span(
            "big",
            "",
            "tool.call",
            attributes={"presentation": "detail", "blob": deep, "toolCallId": 5, "timeoutMs": "x"},
        ),
        SpanSummary(spanId=""),
    ]
    g = graph(spans_)
    d = project(g, now=1000)
    assert set(d.spanIndex) == {"a", "b", "self", "dup", "nots", "weird", "big"}
    codes = diag_codes(d.diagnostics)
    assert "cyclic-parent-span" in codes and "duplicate-span-id" in codes
    assert sys.getrecursionlimit()  # no recursion used in the projection


def test_deep_chain_is_iterative():
    n = 3000  # deeper than the default recursion limit
    spans_ = [span(f"s{i}", f"s{i - 1}" if i else "", "agent.run", start=0) for i in range(n)]
    d = project(graph(spans_), now=1)
    assert len(d.rows) == n + 1 and len(d.spanIndex) == n


def test_hostile_input_diagnostics_name_the_spans_they_are_about():
    spans_ = [
        span("a", "b", "agent.run", start=0, end=1),
        span("b", "a", "agent.run", start=0, end=1),  # cycle a -> b -> a
        span("dup", "", "tool.call", start=0, end=1),
        span("dup", "", "generation.call", start=0, end=1),  # duplicate id
    ]
    d = project(graph(spans_), now=2)
    named = {(x.code, tuple(x.spanIds or ())) for x in d.diagnostics or ()}
    assert ("duplicate-span-id", ("dup",)) in named
    assert any(code == "cyclic-parent-span" and len(ids) == 2 for code, ids in named)


def test_a_missing_span_end_is_reported_when_the_runs_last_activity_is_stale():
    """Like R7: an open span is reported from the run's last activity, not its own start."""
    g = graph([span("t", "", "tool.call", start=0)], lastActivityAt=ts(100))
    assert "missing-span-end" not in diag_codes(project(g, now=150).diagnostics)
    assert "missing-span-end" in diag_codes(project(g, now=161).diagnostics)


def test_every_span_diagnostic_names_its_span_and_says_what_happened():
    g = graph(
        [
            span("b", "", "runtime.convex.action", start=0),  # its lease expires (R2)
            span("a", "", "agent.run", start=0),  # above a deadline (R5)
            span("g", "a", "generation.call", start=0, attributes={"timeoutMs": 1000}),  # R4
            span("t", "", "tool.call", start=0),  # left open (R7)
        ],
        events=[event("b", "runtime.convex.boundary.requested", 0, leaseExpiresAt=ts(5))],
    )
    d = project(g, now=100)
    expected = {
        "b": "convex-boundary-lease-expired",
        "a": "descendant-operation-deadline-exceeded",
        "g": "operation-deadline-exceeded",
        "t": "missing-span-end",
    }
    for sid, code in expected.items():
        (diag,) = node_by_span(d, sid).diagnostics or ()
        assert (diag.code, diag.spanIds) == (code, [sid]), sid
        assert diag.severity == "warn" and diag.message and diag.suggestedFix, sid
    (missing,) = [x for x in d.diagnostics or () if x.code == "missing-span-end"]
    assert missing.spanIds == ["t"] and missing.message
    # the run itself, closed by the deadline below it (R5), says so first
    assert (d.run.status, d.diagnostics[0].code) == (
        "incomplete",
        "descendant-operation-deadline-exceeded",
    )
    assert d.diagnostics[0].spanIds is None and d.diagnostics[0].message
