"""*Bridge command has only a message*: a command sent through the Crux runtime bridge
failed, and its error carries a message but no normalised ``command.error.details``.

The contract does not pin how bridge commands appear in records; these shapes are read:
a span's attributes ``command.error`` (flat key) or ``command: {error}``, and span events
named ``command.*`` or ``*.command.*`` whose attributes hold ``error`` / ``command.error``.
An error is *message only* when it is a bare string, or an object without a non-empty
``details`` object.
"""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import items

from .catalog import BRIDGE_COMMAND_MESSAGE_ONLY, Symptom
from .tree import Tree, attrs, label, short, text


def _command_error(attributes: dict[str, Any], *, event: bool) -> Any:
    if "command.error" in attributes:
        return attributes["command.error"]
    command = attributes.get("command")
    if isinstance(command, dict) and "error" in command:
        return command["error"]
    return attributes.get("error") if event else None


def _message_only(error: Any) -> str | None:
    """The message of an error without normalised details, else ``None``."""
    if isinstance(error, str):
        return error or None
    if not isinstance(error, dict):
        return None
    details = error.get("details")
    if isinstance(details, dict) and details:
        return None
    return text(error, "message") or "(no message)"


def _command_name(attributes: dict[str, Any]) -> str:
    command = attributes.get("command")
    if isinstance(command, dict):
        return text(command, "name") or text(command, "type")
    return command if isinstance(command, str) else text(attributes, "command.name")


def _is_command_event(name: str) -> bool:
    return name.startswith("command.") or ".command." in name


def bridge_commands(tree: Tree) -> list[Symptom]:
    found: list[Symptom] = []
    for item in tree.items:
        s = item.subject
        a = attrs(s)
        errors = [(a, _command_error(a, event=False))]
        errors += [
            (ev.attributes or {}, _command_error(ev.attributes or {}, event=True))
            for ev in items(s.events)
            if isinstance(ev.name, str) and _is_command_event(ev.name)
        ]
        for where, error in errors:
            message = _message_only(error)
            if message is None:
                continue
            command = _command_name(where) or _command_name(a) or label(s)
            evidence = (
                f"command “{short(command)}” failed with “{short(message, 80)}” and no "
                "command.error.details"
            )
            found.append(BRIDGE_COMMAND_MESSAGE_ONLY.found([item.span_id], evidence, s.runId))
            break
    return found
