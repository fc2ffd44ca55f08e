"""*Run stays incomplete in devtools*: a member run the backend shows ``incomplete`` or
``stale`` because records stopped (no ``run:end``, spans left without an end, a boundary
lease that expired), not because an operation deadline passed (that is the generation
rules' business). When the only spans left open are generations without a deadline and the
spans waiting on them, the provider hung (*generation stays running past timeout*) and
this rule stays quiet."""

from __future__ import annotations

from crux_tui.contract.models import RunDetail
from crux_tui.contract.statuses import RECONCILED_STATUSES

from .catalog import RUN_STAYS_INCOMPLETE, Symptom
from .tree import (
    Item,
    Tree,
    has_deadline,
    is_generation,
    label,
    lacks_end,
    member_runs,
    reconciled_from,
    short,
)

DEADLINE_CAUSES = frozenset({"operation.deadline", "descendant.operation.deadline"})


def _open_leaves(spans: list[Item]) -> list[Item]:
    """Spans without an end none of whose descendants lacks one too."""
    lacking = [i for i in spans if lacks_end(i.subject)]
    inner = {id(a) for i in lacking for a in i.ancestors()}
    return [i for i in lacking if id(i) not in inner]


def incomplete_runs(detail: RunDetail, tree: Tree) -> list[Symptom]:
    found: list[Symptom] = []
    for run in member_runs(detail):
        if run.status not in RECONCILED_STATUSES or not run.rootPresent:
            continue
        if reconciled_from(run) in DEADLINE_CAUSES:
            continue
        spans = list(tree.of_run(run.runId))
        if any(reconciled_from(i.subject) in DEADLINE_CAUSES for i in spans):
            continue
        leaves = _open_leaves(spans)
        if leaves and all(is_generation(i) and not has_deadline(i.subject) for i in leaves):
            continue  # a hung generation: generation-past-timeout says it
        names = ", ".join(f"“{short(label(i.subject), 40)}”" for i in leaves[:3])
        more = f" and {len(leaves) - 3} more" if len(leaves) > 3 else ""
        evidence = f"run {short(run.runId)} is {run.status} and no run:end arrived" + (
            f"; left without an end: {names}{more}" if leaves else ""
        )
        span_ids = [i.span_id for i in leaves] or [tree.member_root_span(run.runId)]
        found.append(RUN_STAYS_INCOMPLETE.found(span_ids, evidence, run.runId))
    return found
