"""``?`` help: every binding of the screen it was opened from, generated from the keymap."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from crux_tui.app import theme
from crux_tui.sanitize import clean


@dataclass(frozen=True)
class HelpEntry:
    group: str
    key: str
    description: str
    binding_id: str
    enabled: bool = True


def _group_name(node: Any, screen: Screen[Any]) -> str:
    if node is screen.app:
        return "Global"
    if node is screen:
        return getattr(screen, "HELP_TITLE", None) or type(screen).__name__
    return getattr(node, "HELP_TITLE", None) or type(node).__name__


def collect_bindings(screen: Screen[Any]) -> list[HelpEntry]:
    """Active bindings of ``screen`` first, then bindings of its other widgets; the keys of
    one binding are listed together (``↓ j  Down``)."""
    app = screen.app
    entries: dict[tuple[int, str], HelpEntry] = {}

    def add(node: Any, binding: Binding, enabled: bool) -> None:
        # Only the app's own (id-carrying) bindings: Textual's generic scroll/focus keys
        # are noise here; the palette key is listed in the footnote.
        if not binding.description or not binding.id:
            return
        marker = (id(node), binding.id)
        key = app.get_key_display(binding)
        known = entries.get(marker)
        if known is not None:
            if key not in known.key.split(" "):
                entries[marker] = replace(known, key=f"{known.key} {key}")
            return
        entries[marker] = HelpEntry(
            group=_group_name(node, screen),
            key=key,
            description=binding.description,
            binding_id=binding.id or "",
            enabled=enabled,
        )

    for active in screen.active_bindings.values():
        add(active.node, active.binding, active.enabled)
    # Widgets that are not focused right now still have keys the user can reach.
    for widget in screen.walk_children(with_self=False):
        for _key, binding in widget._bindings:
            add(widget, binding, True)
    return list(entries.values())


def help_text(entries: list[HelpEntry]) -> Text:
    text = Text()
    groups: dict[str, list[HelpEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    order = sorted(groups, key=lambda g: (g == "Global", 0))
    width = max((len(e.key) for e in entries), default=4) + 2
    for group in order:
        if text.plain:
            text.append("\n")
        text.append(group, style="bold underline")
        text.append("\n")
        for entry in groups[group]:
            text.append(f"  {entry.key:<{width}}", style=theme.KEY if entry.enabled else "dim")
            text.append(entry.description, style="" if entry.enabled else "dim")
            if entry.binding_id:
                text.append(f"  [{entry.binding_id}]", style="dim")
            text.append("\n")
    return text


def remap_text() -> Text:
    """How to remap the keys above: the keymap file, or ``App.set_keymap`` in code."""
    from crux_tui.app.keymap import keymap_path

    text = Text(style="dim")
    text.append("Remap any key by its [id] in ")
    text.append(clean(str(keymap_path())), style="bold")
    text.append(' (a [keymap] table, e.g. "timeline.infrastructure" = "I"; ')
    text.append("$CRUX_TUI_KEYMAP names another file), or in code with ")
    text.append("App.set_keymap({id: keys})", style="bold")
    text.append(". ctrl+p opens the command palette.")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists the bindings; ``escape``/``?``/``q`` close it."""

    HELP_TITLE = "Help"
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close help", id="help.close"),
    ]

    def __init__(self, entries: list[HelpEntry], title: str = "Keys") -> None:
        super().__init__()
        self.entries = entries
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text(f"{self.title_text} — keys", style="bold"), id="help-title")
            yield Static(help_text(self.entries), id="help-text", markup=False)
            yield Static(remap_text(), id="help-remap", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
