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
