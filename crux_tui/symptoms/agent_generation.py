"""*Chat agent has tools but no generation*: an agent whose part of the timeline holds tool
calls but no generation span at all (a raw Convex Agent emits no generation spans; the
Crux-aware tools still emit theirs). Nested agents and member runs count for themselves."""

from __future__ import annotations

from .catalog import AGENT_TOOLS_WITHOUT_GENERATION, Symptom
from .tree import Item, Tree, is_generation, label, short


def _own_part(item: Item) -> bool:
    """Stop below nested agents and mounted member runs."""
    return item.family == "agent" or item.is_member_root


def agents_without_generation(tree: Tree) -> list[Symptom]:
    found: list[Symptom] = []
    for agent in tree.items:
        if agent.family != "agent" or agent.is_detail:
            continue
        below = list(agent.descendants(stop=_own_part))
        tools = [i for i in below if i.primitive == "tool.call" and not _own_part(i)]
        if not tools or any(is_generation(i) for i in below if not _own_part(i)):
            continue
        names = ", ".join(f"“{short(label(t.subject), 30)}”" for t in tools[:3])
        count = f"{len(tools)} tool call{'s' if len(tools) != 1 else ''}"
        evidence = (
            f"agent “{short(label(agent.subject))}” made {count} ({names}) and recorded no "
            "generation span"
        )
        found.append(
            AGENT_TOOLS_WITHOUT_GENERATION.found(
                [agent.span_id, tools[0].span_id], evidence, agent.subject.runId
            )
        )
    return found
