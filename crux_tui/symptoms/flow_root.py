"""*Flow appears as chat root*: the operation's root run is rooted at ``flow.run`` and that
flow holds the chat's agent, with its generations, directly (not inside a ``flow.step``):
the flow is a generic tracing wrapper around the chat."""

from __future__ import annotations

from .catalog import FLOW_AS_CHAT_ROOT, Symptom
from .tree import Item, Tree, is_generation, label, short


def _flow_root(tree: Tree) -> Item | None:
    root = tree.root
    if root.primitive == "flow.run":
        return root
    tops = [i for i in root.children if not i.is_detail]
    if (
        tree.detail.run.rootPrimitive == "flow.run"
        and len(tops) == 1
        and tops[0].primitive == "flow.run"
    ):
        return tops[0]
    return None


def _not_inside(item: Item) -> bool:
    """Keep steps, nested flows and member runs out of the flow's own part."""
    return item.primitive in ("flow.step", "flow.run") or item.is_member_root


def flow_as_chat_root(tree: Tree) -> list[Symptom]:
    flow = _flow_root(tree)
    if flow is None:
        return []
    for agent in flow.descendants(stop=lambda i: _not_inside(i) or i.family == "agent"):
        if agent.family != "agent" or agent.is_detail:
            continue
        generations = [
            i
            for i in agent.descendants(stop=lambda i: i.is_member_root)
            if is_generation(i) and not i.is_member_root
        ]
        if not generations:
            continue
        evidence = (
            f"the run's root is flow “{short(label(flow.subject))}”, which wraps agent "
            f"“{short(label(agent.subject))}” and its {len(generations)} generation"
            f"{'s' if len(generations) != 1 else ''} outside any flow step"
        )
        return [
            FLOW_AS_CHAT_ROOT.found(
                [flow.span_id, agent.span_id], evidence, flow.subject.runId or tree.detail.run.runId
            )
        ]
    return []
