"""Operation topology rules (crux-v5.md B.4, C.6) as a pure function: the cases ingest cannot
produce (a root that names a parent) and the precedence of the health words."""

from __future__ import annotations

from crux_tui.backend.projection.topology import MemberLink, operation_topology

SPANS = {("op", "s1"), ("a", "sa")}


def topology(members: list[MemberLink], root_present: bool = True, foreign=None):
    return operation_topology(
        "op",
        root_present,
        members,
        lambda run, span: (run, span) in SPANS,
        (foreign or {}).get,
    )


def test_a_whole_family_is_healthy() -> None:
    health, diagnostics = topology(
        [
            MemberLink("op", trace_id="t"),
            MemberLink("a", "op", "s1", "t"),
            MemberLink("b", "a", "sa"),
        ]
    )
    assert (health, diagnostics) == ("healthy", [])


def test_a_root_that_names_a_parent_is_conflicted() -> None:
    health, diagnostics = topology([MemberLink("op", parent_run_id="elsewhere")])
    assert health == "conflicted"
    assert [d.code for d in diagnostics] == ["root-has-parent"]


def test_conflicted_outranks_incomplete() -> None:
    health, diagnostics = topology(
        [MemberLink("a", "op", "missing"), MemberLink("b", "b", "x")], root_present=False
    )
    assert health == "conflicted"
    assert [d.code for d in diagnostics] == [
        "incomplete-operation-root",
        "missing-parent-run",  # its parent, the root, has not arrived
        "self-parent-run",
    ]


def test_cycles_are_found_once_with_every_member_named() -> None:
    health, diagnostics = topology(
        [
            MemberLink("op"),
            MemberLink("a", "c", "x"),
            MemberLink("b", "a", "x"),
            MemberLink("c", "b", "x"),
            MemberLink("d", "a", "x"),  # hangs off the cycle, is not on it
        ]
    )
    cycles = [d for d in diagnostics if d.code == "parent-run-cycle"]
    assert health == "conflicted" and len(cycles) == 1
    assert "a, b, c" in cycles[0].message and "d" not in cycles[0].message.split("runs ")[1]


def test_a_parent_in_another_operation_is_foreign() -> None:
    health, diagnostics = topology(
        [MemberLink("op"), MemberLink("a", "z", "s")], foreign={"z": "other_op"}
    )
    assert health == "conflicted"
    assert [d.code for d in diagnostics] == ["foreign-parent-run"]
    assert "other_op" in diagnostics[0].message


def test_every_topology_diagnostic_says_which_runs_and_spans_it_is_about() -> None:
    """One warning per problem, each naming the runs (and the span) concerned, in member order,
    the operation's root first when it has not arrived; a member with no problem says nothing."""
    health, diagnostics = topology(
        [
            MemberLink("op", parent_run_id="up"),
            MemberLink("ok", "op", "s1", "t"),
            MemberLink("orphan"),
            MemberLink("selfish", "selfish", "x"),
            MemberLink("abroad", "z", "s"),
            MemberLink("waiting", "late", "s"),
            MemberLink("traced", "ok", "s1", "t2"),
            MemberLink("untold", "op"),
            MemberLink("lost", "op", "nowhere"),
            MemberLink("c1", "c2", "x"),
            MemberLink("c2", "c1", "x"),
        ],
        root_present=False,
        foreign={"z": "other_op"},
    )
    assert health == "conflicted"
    got = [(d.code, d.message) for d in diagnostics]
    assert got[:9] == [
        (
            "incomplete-operation-root",
            "the run:start of the root run op of this operation has not arrived",
        ),
        ("root-has-parent", "the root run op names a parent run up"),
        ("missing-parent-run", "child run orphan names no parent run"),
        ("self-parent-run", "child run selfish names itself as parent"),
        ("foreign-parent-run", "the parent z of child run abroad belongs to operation other_op"),
        ("missing-parent-run", "the parent run late of child run waiting has not arrived"),
        ("parent-trace-conflict", "child run traced and its parent ok carry different trace ids"),
        (
            "missing-trigger-span",
            "span s1 of parent run ok, which started child run traced, is not recorded",
        ),
        ("missing-trigger-span", "child run untold does not name the span of op that started it"),
    ]
    assert got[9:] == [
        (
            "missing-trigger-span",
            "span nowhere of parent run op, which started child run lost, is not recorded",
        ),
        (
            "missing-trigger-span",
            "span x of parent run c2, which started child run c1, is not recorded",
        ),
        (
            "missing-trigger-span",
            "span x of parent run c1, which started child run c2, is not recorded",
        ),
        ("parent-run-cycle", "the parent links of runs c1, c2 form a cycle"),
    ]
    for d in diagnostics:
        assert d.severity == "warn" and d.suggestedFix.startswith("Inspect immutable run:start")


def test_the_root_ends_every_parent_chain_even_when_it_names_a_member_as_parent() -> None:
    health, diagnostics = topology(
        [MemberLink("op", parent_run_id="a"), MemberLink("a", "op", "s1")]
    )
    assert health == "conflicted"
    assert [d.code for d in diagnostics] == ["root-has-parent"]  # not a cycle
