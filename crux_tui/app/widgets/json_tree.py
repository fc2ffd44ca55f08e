"""A collapsible JSON tree with terminal-safe labels."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from crux_tui.app import theme
from crux_tui.contract.tolerant import MAX_DEPTH, TRUNCATED
from crux_tui.sanitize import clean

#: Children added per node before a "… N more" leaf (the leaf expands the rest when selected).
CHUNK = 500


def scalar_text(value: Any) -> Text:
    if value is None:
        return Text("null", style="dim italic")
    if isinstance(value, bool):
        return Text("true" if value else "false", style=theme.JSON_BOOL)
    if isinstance(value, int | float):
        return Text(repr(value), style=theme.JSON_NUMBER)
    return Text(
        json.dumps(clean(value, multiline=True), ensure_ascii=False), style=theme.JSON_STRING
    )


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}" if len(value) != 1 else "{1 key}"
    if isinstance(value, list):
        return f"[{len(value)} items]" if len(value) != 1 else "[1 item]"
    return ""


class JsonTree(Tree[Any]):
    """Shows any JSON value; every key and string passes through :func:`clean`."""

    DEFAULT_CSS = """
    JsonTree { height: auto; max-height: 100%; background: transparent; }
    """

    BINDINGS = [
        Binding("plus", "expand_all", "Expand all", id="json.expand-all"),
        Binding("minus", "collapse_all", "Collapse all", id="json.collapse-all"),
    ]

    def __init__(
        self,
        value: Any = None,
        *,
        label: str = "value",
        expand_depth: int = 2,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(Text(clean(label), style="bold"), id=id, classes=classes)
        self.show_root = True
        self.guide_depth = 3
        self.expand_depth = expand_depth
        self.value = value
        self._fill(self.root, value, 0)
        self.root.expand()

    def set_value(self, value: Any, *, label: str | None = None) -> None:
        self.clear()
        if label is not None:
            self.root.set_label(Text(clean(label), style="bold"))
        self.value = value
        self._fill(self.root, value, 0)
        self.root.expand()

    def _fill(self, node: TreeNode[Any], value: Any, depth: int, start: int = 0) -> None:
        if isinstance(value, dict):
            entries = list(value.items())
        elif isinstance(value, list):
            entries = list(enumerate(value))
        else:
            node.add_leaf(scalar_text(value))
            return
        if not entries:
            node.add_leaf(Text("{}" if isinstance(value, dict) else "[]", style="dim"))
            return
        if depth >= MAX_DEPTH:  # a hostile value must not exhaust the stack
            node.add_leaf(Text(TRUNCATED, style=theme.JSON_MORE))
            return
        end = min(len(entries), start + CHUNK)
        for key, child in entries[start:end]:
            key_text = (
                Text(clean(key), style=theme.JSON_KEY)
                if isinstance(key, str)
                else Text(f"[{key}]", style="dim")
            )
            if isinstance(child, dict | list) and child:
                label = key_text + Text(f" {_summary(child)}", style="dim")
                branch = node.add(label, data=child)
                self._fill(branch, child, depth + 1)
                if depth + 1 < self.expand_depth:
                    branch.expand()
            else:
                node.add_leaf(key_text + Text(": ") + scalar_text(child), data=child)
        if end < len(entries):
            more = node.add_leaf(
                Text(f"… {len(entries) - end} more (select to show)", style=theme.JSON_MORE),
                data=("__more__", value, depth, end),
            )
            more.allow_expand = False

    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        data = event.node.data
        if isinstance(data, tuple) and len(data) == 4 and data[0] == "__more__":
            parent = event.node.parent
            event.node.remove()
            if parent is not None:
                self._fill(parent, data[1], data[2], data[3])
            event.stop()

    def action_expand_all(self) -> None:
        self.root.expand_all()

    def action_collapse_all(self) -> None:
        self.root.collapse_all()
        self.root.expand()

    def text_lines(self) -> list[str]:
        """Plain text of the visible lines (for tests and copy)."""
        lines: list[str] = []

        def walk(node: TreeNode[Any], depth: int) -> None:
            label = node.label
            lines.append("  " * depth + (label.plain if isinstance(label, Text) else str(label)))
            if node.is_expanded:
                for child in node.children:
                    walk(child, depth + 1)

        walk(self.root, 0)
        return lines
