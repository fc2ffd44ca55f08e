"""Command palette providers: one per screen, listing that screen's actions.

The commands are generated from the bindings that are active on the calling screen
(screen, focused widget chain and app), plus any extra entries the screen returns from
``palette_commands()``, so the palette and ``?`` help never drift from the keymap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    callback: Callable[[], Any]


def _palette_nodes(screen: Any) -> list[Any]:
    """Focused widget and its ancestors, the screen, its ``PALETTE_WIDGETS``, the app."""
    nodes: list[Any] = []
    node = screen.focused
    while node is not None and node is not screen:
        nodes.append(node)
        node = node.parent
    nodes.append(screen)
    for selector in getattr(screen, "PALETTE_WIDGETS", ()):
        nodes.extend(screen.query(selector))
    nodes.append(screen.app)
    unique: dict[int, Any] = {id(n): n for n in reversed(nodes)}
    return [n for n in nodes if unique.pop(id(n), None) is not None]


def binding_commands(screen: Any) -> list[PaletteCommand]:
    """One command per described binding with an id (the app's own keys, as ``?`` lists
    them) of the focused widget chain, the screen, the widgets the screen names in
    ``PALETTE_WIDGETS`` (reachable once focused) and the app; a command runs on the node
    that owns the binding, whatever has the focus."""
    try:
        nodes = _palette_nodes(screen)
    except Exception:  # pragma: no cover - screen not mounted
        return []
    commands: list[PaletteCommand] = []
    seen: set[tuple[int, str]] = set()
    for node in nodes:
        for _key, binding in node._bindings:
            marker = (id(node), binding.action)
            if not binding.description or not binding.id or marker in seen:
                continue
            seen.add(marker)
            if not node.check_action(binding.action, ()):
                continue
            tooltip = f" · {binding.tooltip}" if binding.tooltip else ""
            commands.append(
                PaletteCommand(
                    name=binding.description,
                    help=f"key: {screen.app.get_key_display(binding)}{tooltip}",
                    callback=partial(run_node_action, node, binding.action),
                )
            )
    return commands


async def run_node_action(node: Any, action: str) -> None:
    """Run ``action`` on ``node`` as its key would (``run_action`` is a coroutine)."""
    await node.run_action(action)


class ScreenCommands(Provider):
    """Base provider: the calling screen's bindings + its ``palette_commands()``."""

    def commands(self) -> list[PaletteCommand]:
        screen = self.screen
        extra: Iterable[PaletteCommand] = ()
        if hasattr(screen, "palette_commands"):
            extra = screen.palette_commands()
        seen: set[str] = set()
        result: list[PaletteCommand] = []
        for command in [*extra, *binding_commands(screen)]:
            if command.name in seen:
                continue
            seen.add(command.name)
            result.append(command)
        return result

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.name), command.callback, help=command.help
                )


class RunsCommands(ScreenCommands):
    """Actions of the runs screen."""


class RunCommands(ScreenCommands):
    """Actions of the run screen (timeline, detail, copy, export)."""


class ArtifactCommands(ScreenCommands):
    """Actions of the artifact viewer."""
