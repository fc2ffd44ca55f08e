"""Every rule over one RunDetail, and the runs around it for the cross-run rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from crux_tui.contract.models import RunDetail, RunSummary

from .agent_generation import agents_without_generation
from .bridge_command import bridge_commands
from .catalog import KINDS, Symptom
from .child_action import RunFacts, facts_of, facts_of_row, separate_child_runs
from .flow_root import flow_as_chat_root
from .generation_timeout import generations_past_timeout
from .incomplete_run import incomplete_runs
from .plan_flow import plan_flow_generations
from .tool_label import tools_labelled_by_call_id
from .tree import Tree

_ORDER = {kind.code: index for index, kind in enumerate(KINDS)}

Around = RunDetail | RunSummary | RunFacts


def local_symptoms(detail: RunDetail, now: datetime | None = None) -> list[Symptom]:
    """The symptoms one RunDetail shows by itself (every rule but the cross-run one)."""
    tree = Tree(detail)
    found = [
        *incomplete_runs(detail, tree),
        *plan_flow_generations(tree),
        *generations_past_timeout(tree, now),
        *agents_without_generation(tree),
        *tools_labelled_by_call_id(tree),
        *flow_as_chat_root(tree),
        *bridge_commands(tree),
    ]
    return ordered(found)


def facts(value: Around) -> RunFacts:
    """The cross-run facts of a RunDetail, a runs-list row, or facts already made."""
    if isinstance(value, RunFacts):
        return value
    if isinstance(value, RunDetail):
        return facts_of(value)
    return facts_of_row(value)


def ordered(symptoms: Iterable[Symptom]) -> list[Symptom]:
    """In the guide's order (stable within a kind), each (code, spans) once."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out = []
    for symptom in sorted(symptoms, key=lambda s: _ORDER.get(s.code, len(_ORDER))):
        key = (symptom.code, tuple(symptom.spanIds))
        if key not in seen:
            seen.add(key)
            out.append(symptom)
    return out


def diagnose(
    detail: RunDetail, around: Sequence[Around] = (), *, now: datetime | None = None
) -> list[Symptom]:
    """The symptoms of ``detail``'s operation.

    ``around`` are the runs around it (RunDetails, runs-list rows, or their
    :class:`RunFacts`): the *child action appears as a separate run* rule compares with
    them. ``now`` lets the timeout rule see a generation still running past its deadline.
    """
    own = facts_of(detail)
    cross = separate_child_runs(own, [facts(a) for a in around])
    return ordered([*cross, *local_symptoms(detail, now)])
