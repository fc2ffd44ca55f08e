"""Where a generation was left without its end: inside a suspended plan flow
(*plan flow shows incomplete generation*) or anywhere else (*generation stays running past
timeout*). Shared by the two rules."""

from __future__ import annotations

from crux_tui.contract.statuses import SUSPENDED

from .tree import Item


def suspended_flow(item: Item) -> Item | None:
    """The suspended ``flow.run`` the item is shown in, if any: the flow's node is suspended,
    or one of its children is a suspended ``flow.suspension`` (a plan-approval point)."""
    for ancestor in item.ancestors():
        if ancestor.is_member_root and ancestor.primitive != "flow.run":
            return None
        if ancestor.primitive != "flow.run":
            continue
        if ancestor.subject.status == SUSPENDED or any(
            c.primitive == "flow.suspension" and c.subject.status == SUSPENDED
            for c in ancestor.children
        ):
            return ancestor
    return None
