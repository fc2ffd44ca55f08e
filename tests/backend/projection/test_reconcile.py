"""One test per reconciliation rule R1-R7 (presentation.md §2)."""

from __future__ import annotations

import msgspec

from .builders import (
    artifact,
    event,
    graph,
    node_by_span,
    project,
    reconciled_from,
    span,
    ts,
)

BOUNDARY_HINT = {"boundary": "convex.action", "presentation": {"display": "detail"}}


def _detail_of(detail, sid):
    placement = detail.spanIndex[sid]
    owner = placement.ownerNodeId
    for node in [detail.root, *_all(detail.root)]:
        if node.id == owner:
            return next(d for d in node.details if d.spanId == sid)
    raise KeyError(sid)


def _all(root):
    out, stack = [], list(root.children or [])
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(n.children or [])
    return out


def test_r1_completed_ack_closes_open_boundary_span():
    g = graph(
        [
            span("act", primitive="agent.run", start=0),
            span("b", "act", "runtime.convex.action", start=1, attributes=dict(BOUNDARY_HINT)),
        ],
        events=[
            event("b", "runtime.convex.boundary.completed", 2.5, status="ok"),
            event("b", "runtime.convex.boundary.completed", 3, status="cancelled"),
        ],
    )
    d = project(g, now=4)
    b = _detail_of(d, "b")
    assert b.status == "cancelled"  # latest ack wins, its status is taken
    assert b.endedAt == "2026-05-16T18:00:03Z"  # Go RFC3339Nano re-format
    assert b.durationMs == 2000
    assert reconciled_from(b) == "runtime.convex.boundary"
    assert b.attributes["diagnostics"]["boundaryEvent"] == "runtime.convex.boundary.completed"
    assert b.attributes["boundary"] == "convex.action"  # nothing else in attributes changes


def test_r1_failed_ack_means_error():
    g = graph(
        [span("b", "", "runtime.convex.schedule", start=1)],
        events=[event("b", "runtime.convex.boundary.failed", 2, status="ok")],
    )
    d = project(g, now=3)
    assert node_by_span(d, "b").status == "error"


def test_r2_expired_lease_marks_boundary_stale():
    g = graph(
        [span("b", "", "runtime.convex.action", start=0)],
        events=[
            event("b", "runtime.convex.boundary.requested", 0, leaseExpiresAt=ts(90)),
            event("b", "runtime.convex.boundary.received", 1, leaseExpiresAt=ts(50)),
        ],
    )
    live = project(g, now=89)
    assert node_by_span(live, "b").status == "running"  # live lease protects the branch
    d = project(g, now=90)  # now >= leaseExpiresAt
    b = node_by_span(d, "b")
    assert b.status == "stale"
    assert b.endedAt == "2026-05-16T18:01:30Z"
    diag = b.attributes["diagnostics"]
    assert diag["reconciledFrom"] == "runtime.convex.boundary.lease"
    assert diag["boundaryEvent"] == "runtime.convex.boundary.requested"
    assert diag["leaseExpiresAt"] == ts(90)
    assert [x.code for x in b.diagnostics] == ["convex-boundary-lease-expired"]


def test_r2_lease_ignored_once_any_ack_exists_or_unparseable():
    g = graph(
        [span("b", "", "runtime.convex.action", start=0), span("c", "", "runtime.convex.action")],
        events=[
            event("b", "runtime.convex.boundary.requested", 0, leaseExpiresAt="not a time"),
            event("c", "runtime.convex.boundary.requested", 0, leaseExpiresAt=ts(5)),
            event("c", "runtime.convex.boundary.failed", 1),
        ],
    )
    d = project(g, now=30)
    assert node_by_span(d, "b").status == "running"
    assert node_by_span(d, "c").status == "error"  # R1 closed it before R2


def test_r3_open_descendant_closes_with_terminal_ancestor():
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="suspended"),
            span("gen", "flow", "generation.call", start=1),
            span("late", "flow", "generation.call", start=6),  # started after the end: untouched
            span("done", "flow", "tool.call", start=2),
        ],
        artifacts=[artifact("done", "tool.result", 3)],
    )
    d = project(g, now=10)
    gen = node_by_span(d, "gen")
    assert (gen.status, gen.endedAt) == ("suspended", ts(5))
    assert gen.attributes["diagnostics"] == {
        "reconciledFrom": "terminal.ancestor",
        "ancestorSpanId": "flow",
    }
    assert node_by_span(d, "done").status == "ok"  # completion evidence
    assert node_by_span(d, "late").status == "running"


def test_r3_beats_expired_deadline():
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="suspended"),
            span("gen", "flow", "generation.call", start=1, attributes={"timeoutMs": 1000}),
        ]
    )
    d = project(g, now=10)
    assert node_by_span(d, "gen").status == "suspended"


def test_r4_deadline_from_attributes_and_events():
    g = graph(
        [
            span("a", "", "generation.call", start=0, attributes={"timeoutMs": 2000}),
            span("b", "", "generation.call", start=0, attributes={"deadlineAt": ts(3)}),
            span("c", "", "generation.call", start=0, attributes={"timeoutMs": 1000}),
        ],
        events=[event("c", "operation.deadline", 0, deadlineAt=ts(20), timeoutMs=20000)],
    )
    d = project(g, now=5)
    a = node_by_span(d, "a")
    assert (a.status, a.endedAt, a.durationMs) == ("incomplete", "2026-05-16T18:00:02Z", 2000)
    assert a.attributes["diagnostics"] == {
        "reconciledFrom": "operation.deadline",
        "deadlineAt": "2026-05-16T18:00:02Z",
        "timeoutMs": 2000,
    }
    assert [x.code for x in a.diagnostics] == ["operation-deadline-exceeded"]
    assert node_by_span(d, "b").status == "incomplete"
    assert node_by_span(d, "c").status == "running"  # later event deadline overrides, not expired


def test_r5_incompleteness_propagates_to_open_ancestors_and_run():
    g = graph(
        [
            span("agent", "", "agent.run", start=0),
            span("done", "agent", "flow.run", start=0, end=1),
            span("stream", "agent", "generation.stream", start=1, attributes={"timeoutMs": 2000}),
            span("gen", "stream", "generation.call", start=1, attributes={"timeoutMs": 3000}),
        ]
    )
    d = project(g, now=10)
    agent = node_by_span(d, "agent") if d.root.virtual else d.root
    assert agent.status == "incomplete"
    diag = agent.attributes["diagnostics"]
    assert diag["reconciledFrom"] == "descendant.operation.deadline"
    # deterministic: the latest-ending cause wins for every ancestor (and for the run)
    assert diag["causeSpanId"] == "gen"
    assert agent.endedAt == "2026-05-16T18:00:04Z"
    assert d.run.status == "incomplete"
    assert d.run.endedAt == "2026-05-16T18:00:04Z"
    assert reconciled_from(d.run) == "descendant.operation.deadline"
    assert d.diagnostics[0].code == "descendant-operation-deadline-exceeded"


def test_r6_terminal_children_close_parent_with_worst_status():
    g = graph(
        [
            span("p", "", "agent.run", start=0),
            span("a", "p", "tool.call", start=0, end=1, status="ok"),
            span("b", "p", "tool.call", start=0, end=2, status="cancelled"),
            span("c", "p", "tool.call", start=0, end=1.5, status="blocked"),
        ]
    )
    d = project(g, now=3)
    p = node_by_span(d, "p")
    assert (p.endedAt, reconciled_from(p)) == (ts(2), "terminal.children")
    # run: same test over top-level spans (R6 aggregate: cancelled); the run is presented
    # with its root's roll-up, where blocked outranks cancelled (one status per run)
    assert d.run.status == d.root.status == "blocked"
    assert reconciled_from(d.run) == "terminal.children"


def test_r6_fixed_point_through_levels():
    g = graph(
        [
            span("a", "", "agent.run", start=0),
            span("b", "a", "flow.run", start=0),
            span("c", "b", "flow.step", start=0, end=1, status="error"),
        ]
    )
    d = project(g, now=2)
    assert node_by_span(d, "b").status == "error"
    assert d.run.status == "error"


def test_r7_stale_after_sixty_seconds_unless_protected():
    spans_ = [
        span("a", "", "agent.run", start=0),
        span("g", "a", "generation.call", start=0, attributes={"deadlineAt": ts(500)}),
        span("t", "", "tool.call", start=0),
    ]
    d60 = project(graph(spans_), now=60)
    assert node_by_span(d60, "t").status == "running"  # threshold is strictly > 60 s
    d = project(graph(spans_), now=61)
    t = node_by_span(d, "t")
    assert t.status == "stale" and t.endedAt == "" and t.durationMs == 61000
    assert reconciled_from(t) == "freshness"
    assert [x.code for x in t.diagnostics] == ["missing-span-end"]
    # a future deadline protects the span and all its ancestors ... and the run
    assert node_by_span(d, "a").status == "running"
    assert node_by_span(d, "g").status == "running"
    assert d.run.status == "running"


def test_r7_run_goes_incomplete_when_nothing_is_protected():
    g = graph([span("t", "", "tool.call", start=0)], lastActivityAt=ts(10))
    assert project(g, now=70).run.status == "running"  # anchor = lastActivityAt
    d = project(g, now=71)
    assert d.run.status == "incomplete" and d.run.endedAt == "" and d.run.durationMs == 71000
    assert d.diagnostics[0].code == "stale-boundary"
    assert "missing-span-end" in [x.code for x in d.diagnostics]


def test_input_graph_is_never_mutated():
    g = graph(
        [
            span("p", "", "agent.run", start=0, attributes={"x": 1}),
            span("c", "p", "generation.call", start=0, attributes={"timeoutMs": 10}),
        ],
        events=[event("c", "usage.observed", 0.1, inputTokens=1)],
    )
    before = msgspec.json.encode(g)
    project(g, now=500)
    assert msgspec.json.encode(g) == before


def test_r4_deadline_expires_at_its_exact_instant():
    """R4 closes an operation when now >= its deadline: at the deadline itself, not after."""
    g = graph(
        [
            span("a", "", "generation.call", start=0, attributes={"deadlineAt": ts(2)}),
            span("e", "", "generation.call", start=0),
        ],
        events=[event("e", "operation.deadline", 0, deadlineAt=ts(3))],
    )
    before = project(g, now=1.999)
    assert node_by_span(before, "a").status == "running"
    assert node_by_span(before, "e").status == "running"
    at_deadline = project(g, now=2)
    a = node_by_span(at_deadline, "a")
    assert (a.status, a.endedAt) == ("incomplete", "2026-05-16T18:00:02Z")
    assert node_by_span(project(g, now=3), "e").status == "incomplete"  # an event's deadline too


def test_r6_suspended_outranks_cancelled_among_terminal_children():
    """R6 rank (presentation.md §9): suspended decides over cancelled, whatever their order.
    The roll-up ranks them the same way, so the child named by ``decidedBy`` shows it."""
    for order in (("c", "s"), ("s", "c")):
        kids = {
            "c": span("c", "p", "tool.call", start=0, end=2, status="cancelled"),
            "s": span("s", "p", "tool.call", start=0, end=1, status="suspended"),
        }
        g = graph([span("p", "", "agent.run", start=0), *(kids[k] for k in order)])
        p = node_by_span(project(g, now=3), "p")
        assert p.attributes["diagnostics"]["decidedBy"] == "s", order
        assert p.endedAt == ts(2)  # the latest end, whoever decided


def test_r6_skipped_outranks_ok_and_every_ok_child_decides_nothing():
    g = graph(
        [
            span("p", "", "agent.run", start=0),
            span("a", "p", "tool.call", start=0, end=1, status="ok"),
            span("b", "p", "tool.call", start=0, end=1, status="skipped"),
        ]
    )
    p = node_by_span(project(g, now=3), "p")
    assert p.status == "skipped"
    assert p.attributes["diagnostics"]["decidedBy"] == "b"
    g = graph([span("p", "", "agent.run", start=0), span("a", "p", "tool.call", start=0, end=1)])
    p = node_by_span(project(g, now=3), "p")
    assert p.status == "ok"
    assert p.attributes["diagnostics"] == {"reconciledFrom": "terminal.children"}


def test_r7_span_freshness_is_anchored_on_the_runs_last_activity():
    """An open span is stale 60 s after the run's last activity (any record of the run),
    not 60 s after its own start: a long tool call in an active run stays running."""
    g = graph([span("t", "", "tool.call", start=0)], lastActivityAt=ts(50))
    d = project(g, now=70)
    assert node_by_span(d, "t").status == "running"
    assert d.run.status == "running"
    d = project(g, now=111)
    assert node_by_span(d, "t").status == "stale"
    assert d.run.status == "incomplete"


def test_r1_an_event_without_a_string_name_or_timestamp_counts_as_absent():
    """The projection takes any Graph (one built in-process is not validated): an event
    whose name or timestamp is not a string is no ack, and never the latest one."""
    g = graph(
        [
            span("b", "", "runtime.convex.action", start=1),
            span("n", "", "runtime.convex.action"),
            span("f", "", "flow.run", start=0, end=2, status="cancelled"),
            span("m", "f", "generation.call", start=1),
        ],
        events=[
            msgspec.structs.replace(
                event("b", "runtime.convex.boundary.completed", 9, status="ok"), timestamp=None
            ),
            event("b", "runtime.convex.boundary.completed", 2, status="cancelled"),
            msgspec.structs.replace(event("n", "x", 1), name=["runtime.convex.boundary.failed"]),
            msgspec.structs.replace(event("m", "x", 1), name=["usage.observed"]),
        ],
    )
    d = project(g, now=3)
    b = node_by_span(d, "b")
    assert (b.status, b.endedAt) == ("cancelled", "2026-05-16T18:00:02Z")
    assert node_by_span(d, "n").status == "running"
    assert node_by_span(d, "m").status == "cancelled"  # no completion evidence


def test_r2_of_two_leases_that_expire_together_the_first_event_is_named():
    g = graph(
        [span("b", "", "runtime.convex.action", start=0)],
        events=[
            event("b", "runtime.convex.boundary.requested", 0, leaseExpiresAt=ts(5)),
            event("b", "runtime.convex.boundary.received", 1, leaseExpiresAt=ts(5)),
        ],
    )
    diag = node_by_span(project(g, now=6), "b").attributes["diagnostics"]
    assert diag["boundaryEvent"] == "runtime.convex.boundary.requested"


def test_r3_a_completion_event_is_evidence_that_a_span_finished_and_other_events_are_not():
    """R3: an open span under a terminal ancestor ends ok when it shows it completed (a
    ``usage.observed`` / ``generation.finished`` / ``tool.result`` event, or an output
    artifact); else it takes the ancestor's status."""
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="cancelled"),
            span("used", "flow", "generation.call", start=1),
            span("chunk", "flow", "generation.call", start=1),
            span("bare", "flow", "generation.call", start=1),
        ],
        events=[
            event("used", "usage.observed", 2, inputTokens=3),
            event("chunk", "token.chunk", 2),
        ],
    )
    d = project(g, now=10)
    assert node_by_span(d, "used").status == "ok"
    assert node_by_span(d, "chunk").status == "cancelled"
    assert node_by_span(d, "bare").status == "cancelled"


def test_r6_blocked_ranks_like_ok_the_first_of_them_gives_the_status():
    """R6 rank (presentation.md §9): ``blocked`` ranks like ``ok`` (the roll-up shows a
    blocked child anyway); among equals the first child gives the status, and a status
    ranked like ok names no deciding child."""
    for first, second in (("ok", "blocked"), ("blocked", "ok")):
        g = graph(
            [
                span("p", "", "agent.run", start=0),
                span("a", "p", "tool.call", start=0, end=1, status=first),
                span("b", "p", "tool.call", start=0, end=2, status=second),
            ]
        )
        d = project(g, now=3)
        assert node_by_span(d, "p").attributes["diagnostics"] == {
            "reconciledFrom": "terminal.children"
        }, first
        assert d.run.status == "blocked"  # the roll-up: blocked outranks ok


def test_r6_a_status_it_does_not_rank_ranks_like_ok():
    """``success`` (or any status R6 does not rank) ranks like ``ok``: the first child's
    status is the parent's, which the roll-up keeps (both rank as ok there too)."""
    for first, second in (("ok", "success"), ("success", "ok")):
        g = graph(
            [
                span("p", "", "agent.run", start=0),
                span("a", "p", "tool.call", start=0, end=1, status=first),
                span("b", "p", "tool.call", start=0, end=2, status=second),
            ]
        )
        assert node_by_span(project(g, now=3), "p").status == first


def test_r6_a_parent_ends_at_its_latest_child_end_as_a_time_not_as_text():
    """``...:02Z`` sorts after ``...:02.500Z`` as text; the later instant is 02.5."""
    g = graph(
        [
            span("p", "", "agent.run", start=0),
            msgspec.structs.replace(
                span("a", "p", "tool.call", start=0, end=2), endedAt="2026-05-16T18:00:02Z"
            ),
            span("b", "p", "tool.call", start=0, end=2.5),
        ]
    )
    p = node_by_span(project(g, now=3), "p")
    assert p.endedAt == ts(2.5)


def test_r6_names_the_span_that_caused_the_status_through_levels():
    """``decidedBy`` is the child; ``causeSpanId`` follows the chain of spans R6 closed
    down to the one whose status it is."""
    g = graph(
        [
            span("p", "", "agent.run", start=0),
            span("a", "p", "flow.run", start=0),
            span("b", "a", "flow.step", start=0),
            span("c", "b", "tool.call", start=0, end=1, status="error"),
            span("ok", "p", "tool.call", start=0, end=1),
        ]
    )
    d = project(g, now=3)
    assert node_by_span(d, "b").attributes["diagnostics"] == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "c",
    }
    assert node_by_span(d, "a").attributes["diagnostics"]["causeSpanId"] == "c"
    assert node_by_span(d, "p").attributes["diagnostics"] == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "a",
        "causeSpanId": "c",
    }


def test_r6_reads_how_a_child_was_reconciled_from_its_diagnostics():
    """A child closed because a descendant's deadline expired names that descendant as
    the cause (reason ``operation.deadline``); a cause id next to any other reason is not
    followed. (R5 closes every open ancestor of such a child, so here the diagnostics
    arrive with the records.)"""
    cases = {
        "descendant.operation.deadline": ("gone", "operation.deadline"),
        "freshness": ("k", "freshness"),
    }
    for how, (cause, reason) in cases.items():
        diag = {"reconciledFrom": how, "causeSpanId": "gone"}
        g = graph(
            [
                span("p", "", "agent.run", start=0),
                span(
                    "k",
                    "p",
                    "tool.call",
                    start=0,
                    end=1,
                    status="incomplete",
                    attributes={"diagnostics": diag},
                ),
            ]
        )
        got = node_by_span(project(g, now=3), "p").attributes["diagnostics"]
        assert got.get("causeSpanId", "k") == cause, how
        assert got["decidedByReason"] == reason, how


def test_r4_only_a_positive_timeout_sets_a_deadline():
    g = graph(
        [
            span("zero", "", "generation.call", start=0, attributes={"timeoutMs": 0}),
            span("half", "", "generation.call", start=0, attributes={"timeoutMs": 0.5}),
        ]
    )
    d = project(g, now=1)
    assert node_by_span(d, "zero").status == "running"
    half = node_by_span(d, "half")
    assert (half.status, half.endedAt) == ("incomplete", "2026-05-16T18:00:00.0005Z")


def test_r4_a_deadline_from_a_timeout_keeps_the_start_times_offset():
    """Like Go's time.Add: startedAt + timeoutMs is written in the start's own offset."""
    started = "2026-05-16T20:00:00+02:00"
    g = graph(
        [
            msgspec.structs.replace(
                span("a", "", "generation.call", attributes={"timeoutMs": 2000}),
                startedAt=started,
            )
        ]
    )
    a = node_by_span(project(g, now=5), "a")
    assert a.endedAt == "2026-05-16T20:00:02+02:00"
    assert a.attributes["diagnostics"]["deadlineAt"] == "2026-05-16T20:00:02+02:00"


def test_r2_closes_only_open_boundary_spans():
    """An expired lease closes an open boundary span; a boundary span that ended, or an
    open span that is no boundary, keeps its status whatever lease events it has."""
    lease = {"leaseExpiresAt": ts(5)}
    g = graph(
        [
            span("ended", "", "runtime.convex.action", start=0, end=6, status="ok"),
            span("tool", "", "tool.call", start=0),
            span("open", "", "runtime.convex.action", start=0),
        ],
        events=[
            event(sid, "runtime.convex.boundary.requested", 0, **lease)
            for sid in ("ended", "tool", "open")
        ],
        lastActivityAt=ts(9),
    )
    d = project(g, now=10)
    assert node_by_span(d, "ended").status == "ok"
    assert node_by_span(d, "tool").status == "running"
    assert node_by_span(d, "open").status == "stale"


def test_r3_reaches_through_a_span_that_is_neither_open_nor_ended():
    """The nearest terminal ancestor is looked for above a parent that is not terminal
    (here one with a status but no end, which R3 does not close either)."""
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="cancelled"),
            span("mid", "flow", "flow.step", start=1, status="pending"),
            span("leaf", "mid", "tool.call", start=2),
        ]
    )
    leaf = node_by_span(project(g, now=6), "leaf")
    assert (leaf.status, leaf.endedAt) == ("cancelled", ts(5))
    assert leaf.attributes["diagnostics"]["ancestorSpanId"] == "flow"


def test_r4_reads_every_deadline_event_and_keeps_the_first_of_equal_deadlines():
    g = graph(
        [
            span("a", "", "generation.call", start=0),
            span(
                "b",
                "",
                "generation.call",
                start=0,
                attributes={"deadlineAt": ts(3), "timeoutMs": 3000},
            ),
        ],
        events=[
            event("a", "usage.observed", 0.5, inputTokens=1),
            event("a", "operation.deadline", 1, deadlineAt=ts(2), timeoutMs=2000),
            event("b", "operation.deadline", 1, deadlineAt=ts(3), timeoutMs=1234),
        ],
    )
    d = project(g, now=4)
    a = node_by_span(d, "a")
    assert (a.status, a.endedAt) == ("incomplete", "2026-05-16T18:00:02Z")
    assert a.attributes["diagnostics"]["timeoutMs"] == 2000  # the event's own timeout
    assert node_by_span(d, "b").attributes["diagnostics"]["timeoutMs"] == 3000


def test_r3_compares_a_start_that_does_not_parse_with_the_ancestors_end_as_text():
    """Times that do not parse are compared as text: R3 still decides, the projection answers."""
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="error"),
            span("early", "flow", "generation.call", start=1),
            span("late", "flow", "generation.call", start=2),
        ]
    )
    g.spans[1].startedAt = "0000 unknown"  # sorts before the parent's end as text
    g.spans[2].startedAt = "unknown"  # sorts after it
    d = project(g, now=10)
    early, late = node_by_span(d, "early"), node_by_span(d, "late")
    assert (early.status, early.endedAt) == ("error", ts(5))
    assert reconciled_from(early) == "terminal.ancestor"
    assert (late.status, late.endedAt) == ("running", "")


def test_r7_a_stale_run_and_span_without_a_start_time_have_no_elapsed_duration():
    """A stale span or run counts its elapsed time from its start; none known: 0 ms."""
    g = graph([span("t", "", "tool.call", start=0)], lastActivityAt=ts(10))
    g.run.startedAt = ""
    g.spans[0].startedAt = ""
    d = project(g, now=100)
    assert (d.run.status, d.run.durationMs) == ("incomplete", 0)
    t = node_by_span(d, "t")
    assert (t.status, t.durationMs) == ("stale", 0)


def test_r4_a_deadline_at_that_is_not_text_is_no_deadline_and_the_timeout_still_sets_one():
    g = graph(
        [
            span(
                "n", "", "generation.call", start=0, attributes={"deadlineAt": 5, "timeoutMs": 1000}
            ),
            span("x", "", "generation.call", start=0, attributes={"deadlineAt": {"at": ts(1)}}),
        ]
    )
    d = project(g, now=2)
    n = node_by_span(d, "n")
    assert (n.status, n.endedAt) == ("incomplete", "2026-05-16T18:00:01Z")
    assert n.attributes["diagnostics"]["deadlineAt"] == "2026-05-16T18:00:01Z"
    assert node_by_span(d, "x").status == "running"


def test_r6_carries_how_the_cause_was_reconciled_up_through_levels():
    """The reason found at the bottom of the chain (here R1's failed ack) stays the reason
    at every level above it that R6 closed."""
    g = graph(
        [
            span("p", "", "agent.run", start=0),
            span("a", "p", "flow.run", start=0),
            span("b", "a", "runtime.convex.action", start=0, attributes=dict(BOUNDARY_HINT)),
        ],
        events=[event("b", "runtime.convex.boundary.failed", 1)],
    )
    d = project(g, now=3)
    assert node_by_span(d, "a").attributes["diagnostics"] == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "b",
        "decidedByReason": "runtime.convex.boundary",
    }
    assert node_by_span(d, "p").attributes["diagnostics"] == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "a",
        "causeSpanId": "b",
        "decidedByReason": "runtime.convex.boundary",
    }


def test_r7_two_live_deadlines_under_one_parent_protect_it_and_the_run():
    g = graph(
        [
            span("a", "", "agent.run", start=0),
            span("g1", "a", "generation.call", start=0, attributes={"deadlineAt": ts(500)}),
            span("g2", "a", "generation.call", start=0, attributes={"deadlineAt": ts(600)}),
            span("t", "", "tool.call", start=0),
        ]
    )
    d = project(g, now=100)
    assert [node_by_span(d, s).status for s in ("a", "g1", "g2")] == ["running"] * 3
    assert d.run.status == "running"
    t = node_by_span(d, "t")
    assert t.status == "stale"
    assert t.attributes["diagnostics"] == {"reconciledFrom": "freshness", "staleAfterMs": 60_000}


def test_reconciliation_adds_to_the_diagnostics_a_span_already_carries():
    """What the producer put in ``attributes.diagnostics`` stays next to how it was closed."""
    g = graph(
        [
            span("flow", "", "flow.run", start=0, end=5, status="error"),
            span(
                "gen", "flow", "generation.call", start=1, attributes={"diagnostics": {"retry": 2}}
            ),
        ]
    )
    gen = node_by_span(project(g, now=10), "gen")
    assert gen.attributes["diagnostics"] == {
        "retry": 2,
        "reconciledFrom": "terminal.ancestor",
        "ancestorSpanId": "flow",
    }


def test_r6_a_child_with_an_end_but_no_status_is_not_terminal_and_closes_no_parent():
    """Terminal (§0) needs a status other than "" and running: an ended child without one
    leaves its open parent (and the run) open."""
    g = graph(
        [
            span("p", "", "agent.run", start=0),
            span("c", "p", "tool.call", start=0, end=1, status=""),
        ]
    )
    d = project(g, now=2)
    p = node_by_span(d, "p")
    assert (p.endedAt, reconciled_from(p)) == ("", "")
    assert (d.run.endedAt, reconciled_from(d.run)) == ("", "")


def test_r7_a_stale_run_says_the_freshness_window_it_went_stale_after():
    """R7 (run): an open run, nothing protected, past the 60 s window: its diagnostics say
    ``reconciledFrom: "freshness"`` and the window, ``staleAfterMs: 60000``, as a span's do."""
    g = graph([span("t", "", "tool.call", start=0)], lastActivityAt=ts(10))
    d = project(g, now=71)
    assert d.run.status == "incomplete" and d.run.attributes is not None
    assert d.run.attributes["diagnostics"] == {
        "reconciledFrom": "freshness",
        "staleAfterMs": 60_000,
    }
