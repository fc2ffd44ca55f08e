"""*Tool row shows only call ID*: a ``tool.call`` whose label is its ``toolCallId``, or looks
like a provider's generated call id (``call_…``, ``toolu_…``, ``tooluse_…``, ``fc_…`` with
digits in it), because the tool was neither wrapped nor named."""

from __future__ import annotations

import re

from crux_tui.contract.inspection import tool_call_id

from .catalog import TOOL_LABEL_CALL_ID, Symptom
from .tree import Tree, attrs, label, short

#: A provider's generated tool call id: a known prefix, then 8+ id characters, some digits.
GENERATED_CALL_ID = re.compile(r"^(call|toolu|tooluse|fc)_(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{8,}$")


def looks_like_call_id(value: str) -> bool:
    """Whether ``value`` reads like a generated tool call id rather than a tool's name."""
    return bool(GENERATED_CALL_ID.match(value))


def tools_labelled_by_call_id(tree: Tree) -> list[Symptom]:
    found: list[Symptom] = []
    for item in tree.items:
        s = item.subject
        if s.primitive != "tool.call":
            continue
        shown = label(s)
        call_id = tool_call_id(attrs(s))
        if not ((call_id and shown == call_id) or looks_like_call_id(shown)):
            continue
        said = "its toolCallId" if call_id and shown == call_id else "a generated call id"
        evidence = f"tool call “{short(shown)}” is labelled with {said}; it names no tool"
        found.append(TOOL_LABEL_CALL_ID.found([item.span_id], evidence, s.runId))
    return found
