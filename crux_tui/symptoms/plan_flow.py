"""*Plan flow shows incomplete generation*: a generation inside a suspended flow (say, at a
plan-approval point) that the backend closed as ``incomplete`` at its operation deadline,
because its terminal ``span:end`` had not arrived by then."""

from __future__ import annotations

from .catalog import PLAN_FLOW_INCOMPLETE_GENERATION, Symptom
from .generations import suspended_flow
from .tree import Tree, attrs, clock, is_generation, label, reconciled_from, short, text


def plan_flow_generations(tree: Tree) -> list[Symptom]:
    found: list[Symptom] = []
    for item in tree.items:
        if not is_generation(item) or reconciled_from(item.subject) != "operation.deadline":
            continue
        flow = suspended_flow(item)
        if flow is None:
            continue
        deadline = clock(text(attrs(item.subject).get("diagnostics"), "deadlineAt"))
        at = f" at its deadline ({deadline})" if deadline else " at its deadline"
        evidence = (
            f"generation “{short(label(item.subject))}” in flow “{short(label(flow.subject))}”, "
            f"which is suspended, had no terminal end{at}: the backend shows it incomplete"
        )
        found.append(
            PLAN_FLOW_INCOMPLETE_GENERATION.found(
                [item.span_id, flow.span_id], evidence, item.subject.runId
            )
        )
    return found
