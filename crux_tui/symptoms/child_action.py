"""*Child action appears as a separate run* (needs the runs around the one looked at).

The records show it two ways, both about a ``runtime.convex.action`` boundary span that
``ctx.crux.runAction()`` opened in a run P for a Convex function F (``functionRef``):

* an operation root R with no parent link, whose root is a Convex action for F, started
  inside P's boundary (between its start and its end, or its lease when it has no end):
  the child ran, but as an operation of its own;
* P's boundary was requested and never acknowledged (``…boundary.received`` /
  ``completed`` / ``failed``) by any child, while a run for F exists outside P's operation.

Both sides say it: P names its boundary span, R its root span. What is compared is small
(:class:`RunFacts`), so a list screen can keep it for many runs; a runs-list row gives the
facts of its root without a RunDetail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crux_tui.contract.models import RunDetail, RunSummary, items
from crux_tui.contract.statuses import STALE
from crux_tui.timestamps import epoch_ms

from .catalog import CHILD_ACTION_SEPARATE_RUN, Symptom
from .tree import (
    ACKNOWLEDGEMENTS,
    ACTION_BOUNDARY,
    REQUESTED,
    Tree,
    attrs,
    clock_ms,
    event_names,
    label,
    short,
    text,
)
from .tree import function_ref as function_of

#: Clocks of different Convex workers disagree a little: a child may seem to start this much
#: before its boundary, or end after it.
SKEW_MS = 1_000.0


@dataclass(frozen=True, slots=True)
class Boundary:
    """A ``ctx.crux.runAction()`` crossing recorded by the caller."""

    operation_id: str
    run_id: str
    span_id: str
    label: str
    function: str
    started_ms: float
    #: its end, else the lease it was given, else ``None`` (open-ended)
    until_ms: float | None
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class ActionRoot:
    """An operation root whose root is a Convex action, with no parent run."""

    operation_id: str
    run_id: str
    span_id: str
    name: str
    function: str
    started_ms: float


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the cross-run rule compares, for one operation."""

    operation_id: str
    boundaries: tuple[Boundary, ...] = ()
    roots: tuple[ActionRoot, ...] = ()
    #: functions whose runs are members of this operation (proper children)
    member_functions: frozenset[str] = frozenset()


def _lease_ms(subject: object) -> float | None:
    leases = [
        epoch_ms(text(e.attributes, "leaseExpiresAt"))
        for e in items(getattr(subject, "events", None))
        if e.name in (REQUESTED, "runtime.convex.boundary.received")
    ]
    known = [lease for lease in leases if lease is not None]
    return max(known) if known else None


def facts_of(detail: RunDetail) -> RunFacts:
    """The boundaries and the action root of an operation's RunDetail."""
    tree = Tree(detail)
    op = detail.run.operationId or detail.run.runId
    boundaries = []
    for item in tree.items:
        s = item.subject
        if s.primitive != ACTION_BOUNDARY:
            continue
        names = event_names(s)
        if REQUESTED not in names and text(attrs(s), "boundary") != "convex.action":
            continue
        started = epoch_ms(s.startedAt)
        function = function_of(s)
        if started is None or not function:
            continue
        ended = epoch_ms(s.endedAt) if s.endedAt and s.status != STALE else None
        boundaries.append(
            Boundary(
                op,
                s.runId or op,
                s.spanId,
                label(s),
                function,
                started,
                ended if ended is not None else _lease_ms(s),
                bool(names & ACKNOWLEDGEMENTS),
            )
        )
    members = [m for m in items(detail.memberRuns) if m.run.runId != op]
    member_functions = frozenset(
        f for m in members for f in (text(attrs(m.run), "functionRef"), m.run.name) if f
    )
    roots: tuple[ActionRoot, ...] = ()
    run = detail.run
    node = tree.root.subject
    if run.rootPresent and ACTION_BOUNDARY in (run.rootPrimitive, node.primitive):
        function = text(attrs(run), "functionRef") or function_of(node) or run.name
        started = epoch_ms(run.startedAt or node.startedAt)
        root_member = next((m for m in items(detail.memberRuns) if m.run.runId == op), None)
        has_parent = root_member is not None and bool(root_member.parentRunId)
        if function and started is not None and not has_parent:
            roots = (ActionRoot(op, op, node.spanId, run.name, function, started),)
    return RunFacts(op, tuple(boundaries), roots, member_functions)


def facts_of_row(row: RunSummary) -> RunFacts:
    """The action root of a runs-list row (no boundaries: those need the RunDetail)."""
    op = row.operationId or row.runId
    started = epoch_ms(row.startedAt)
    function = text(row.attributes, "functionRef") or row.name
    if row.rootPresent and row.rootPrimitive == ACTION_BOUNDARY and started is not None:
        return RunFacts(op, roots=(ActionRoot(op, op, "", row.name, function, started),))
    return RunFacts(op)


def _inside(root: ActionRoot, boundary: Boundary) -> bool:
    if root.started_ms < boundary.started_ms - SKEW_MS:
        return False
    return boundary.until_ms is None or root.started_ms <= boundary.until_ms + SKEW_MS


def separate_child_runs(facts: RunFacts, around: Iterable[RunFacts]) -> list[Symptom]:
    """The symptoms of ``facts``' operation, given the facts of other operations."""
    others = [o for o in around if o.operation_id != facts.operation_id]
    found: list[Symptom] = []
    kind = CHILD_ACTION_SEPARATE_RUN
    # the caller's side: its boundaries
    for b in facts.boundaries:
        if b.function in facts.member_functions and b.acknowledged:
            continue
        runs = [r for o in others for r in o.roots if r.function == b.function]
        inside = [r for r in runs if _inside(r, b)]
        if inside:
            r = inside[0]
            evidence = (
                f"boundary “{short(b.label)}” for {short(b.function)} started at "
                f"{clock_ms(b.started_ms)}; run {short(r.run_id)} for the same function started "
                f"inside it, at {clock_ms(r.started_ms)}, as an operation of its own"
            )
        elif runs and not b.acknowledged:
            r = runs[0]
            evidence = (
                f"boundary “{short(b.label)}” for {short(b.function)} was requested and no child "
                f"acknowledged it, while run {short(r.run_id)} for that function exists on its own"
            )
        else:
            continue
        found.append(kind.found([b.span_id], evidence, b.run_id))
    # the child's side: its root
    for r in facts.roots:
        for o in others:
            host = next(
                (
                    b
                    for b in o.boundaries
                    if b.function == r.function
                    and _inside(r, b)
                    and not (b.acknowledged and b.function in o.member_functions)
                ),
                None,
            )
            if host is None:
                continue
            evidence = (
                f"this run's root is the Convex action {short(r.function)}, with no parent run; "
                f"it started at {clock_ms(r.started_ms)}, inside boundary “{short(host.label)}” "
                f"of run {short(host.run_id)} for the same function"
            )
            found.append(kind.found([r.span_id], evidence, r.run_id))
            break
    return found
