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


def binding_commands(screen: Any) -> list[PaletteCommand]:
    """One command per active, described binding of ``screen`` (deduplicated by action)."""
    commands: list[PaletteCommand] = []
    seen: set[tuple[int, str]] = set()
    try:
        active = screen.active_bindings
    except Exception:  # pragma: no cover - screen not mounted
        return commands
    for key, active_binding in active.items():
        binding = active_binding.binding
        if not binding.description or not active_binding.enabled:
            continue
        if binding.action in ("command_palette",):
            continue
        node = active_binding.node
        marker = (id(node), binding.action)
        if marker in seen:
            continue
        seen.add(marker)
        display_key = screen.app.get_key_display(binding) if hasattr(screen, "app") else key
        commands.append(
            PaletteCommand(
                name=binding.description,
                help=f"key: {display_key}" + (f" · {binding.tooltip}" if binding.tooltip else ""),
                callback=partial(_run_action, node, binding.action),
            )
        )
    return commands


def _run_action(node: Any, action: str) -> None:
    node.run_action(action)


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
