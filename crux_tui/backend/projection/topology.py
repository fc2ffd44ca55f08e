"""Operation topology: is the family of member runs whole and consistent? (crux-v5.md B.4, C.6)

One function serves the runs list (the stored row's ``topologyHealth``) and the operation
RunDetail (``topologyHealth`` plus the topology diagnostics), so both say the same thing.
Pure: the caller says which spans a member run has and where a foreign run belongs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crux_tui.contract.models import Diagnostic
from crux_tui.contract.statuses import CONFLICTED, HEALTHY, INCOMPLETE, TOPOLOGY_RANK

FIX = "Inspect immutable run:start operationId, parentRunId, triggeredBySpanId, and traceId fields."


@dataclass(frozen=True, slots=True)
class MemberLink:
    """What a member run's ``run:start`` said about where it belongs."""

    run_id: str
    parent_run_id: str = ""
    triggered_by_span_id: str = ""
    trace_id: str = ""


def _diagnostic(code: str, message: str) -> Diagnostic:
    return Diagnostic(code=code, severity="warn", message=message, suggestedFix=FIX)


def operation_topology(
    operation_id: str,
    root_present: bool,
    members: Sequence[MemberLink],
    has_span: Callable[[str, str], bool],
    operation_of_run: Callable[[str], str | None] = lambda _run: None,
) -> tuple[str, list[Diagnostic]]:
    """``(topologyHealth, diagnostics)`` of an operation.

    ``members`` are the stored member runs (root included when stored); ``root_present``
    says whether the root's ``run:start`` arrived; ``has_span(run, span)`` whether a
    member run recorded that span; ``operation_of_run(run)`` the operation of a run
    outside the family (``None`` when unknown).
    """
    health = HEALTHY
    out: list[Diagnostic] = []

    def worse(level: str) -> None:
        nonlocal health
        if TOPOLOGY_RANK[level] > TOPOLOGY_RANK[health]:
            health = level

    if not root_present:
        worse(INCOMPLETE)
        out.append(
            _diagnostic(
                "incomplete-operation-root",
                f"the run:start of the root run {operation_id} of this operation has not arrived",
            )
        )
    by_id = {m.run_id: m for m in members}
    for member in members:
        run, parent = member.run_id, member.parent_run_id
        if run == operation_id:
            if parent:
                worse(CONFLICTED)
                out.append(
                    _diagnostic(
                        "root-has-parent", f"the root run {run} names a parent run {parent}"
                    )
                )
            continue
        if not parent:
            worse(INCOMPLETE)
            out.append(_diagnostic("missing-parent-run", f"child run {run} names no parent run"))
            continue
        if parent == run:
            worse(CONFLICTED)
            out.append(_diagnostic("self-parent-run", f"child run {run} names itself as parent"))
            continue
        known = by_id.get(parent)
        if known is None:
            foreign = operation_of_run(parent)
            if foreign is not None and foreign != operation_id:
                worse(CONFLICTED)
                out.append(
                    _diagnostic(
                        "foreign-parent-run",
                        f"the parent {parent} of child run {run} belongs to operation {foreign}",
                    )
                )
            else:
                worse(INCOMPLETE)
                out.append(
                    _diagnostic(
                        "missing-parent-run",
                        f"the parent run {parent} of child run {run} has not arrived",
                    )
                )
            continue
        if member.trace_id and known.trace_id and member.trace_id != known.trace_id:
            worse(CONFLICTED)
            out.append(
                _diagnostic(
                    "parent-trace-conflict",
                    f"child run {run} and its parent {parent} carry different trace ids",
                )
            )
        trigger = member.triggered_by_span_id
        if not trigger or not has_span(parent, trigger):
            worse(INCOMPLETE)
            message = (
                f"span {trigger} of parent run {parent}, which started child run {run},"
                " is not recorded"
                if trigger
                else f"child run {run} does not name the span of {parent} that started it"
            )
            out.append(_diagnostic("missing-trigger-span", message))
    cycle = _cycle_members(operation_id, by_id)
    if cycle:
        worse(CONFLICTED)
        out.append(
            _diagnostic(
                "parent-run-cycle",
                f"the parent links of runs {', '.join(cycle)} form a cycle",
            )
        )
    return health, out


def _cycle_members(operation_id: str, by_id: dict[str, MemberLink]) -> list[str]:
    """Member runs on a parent cycle inside the family (self-parents are reported apart)."""
    on_cycle: set[str] = set()
    done: set[str] = set()
    for start in by_id:
        path: list[str] = []
        seen: set[str] = set()
        cur = start
        while cur in by_id and cur not in done and cur not in seen and cur != operation_id:
            seen.add(cur)
            path.append(cur)
            parent = by_id[cur].parent_run_id
            if parent == cur:
                break
            cur = parent
        if cur in seen and by_id[cur].parent_run_id != cur:
            on_cycle.update(path[path.index(cur) :])
        done.update(path)
    return sorted(on_cycle)
