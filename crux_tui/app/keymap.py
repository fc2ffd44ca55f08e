"""User key remapping by binding id, from ``keymap.toml`` in the user config folder.

    # ~/.config/crux-tui/keymap.toml   (or the file named by $CRUX_TUI_KEYMAP)
    [keymap]
    "timeline.infrastructure" = "I"
    "timeline.next-error" = "ctrl+n,e"

Every binding of the app has an id (``?`` lists them): ``scope.action-name``, lower case
words joined by hyphens (``run.copy-id``, ``timeline.next-error``); the value is a
comma-separated list of Textual key names. Ids that were renamed still work, with a
one-line warning naming the new id.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs

#: old binding id -> the id it was renamed to (the timeline's ids were snake_case)
RENAMED_IDS: dict[str, str] = {
    f"timeline.{old}": f"timeline.{old.replace('_', '-')}"
    for old in (
        "collapse_all",
        "collapse_node",
        "cursor_down",
        "cursor_up",
        "expand_all",
        "expand_node",
        "next_error",
        "next_match",
        "next_member_run",
        "page_down",
        "page_up",
        "previous_error",
        "previous_match",
        "previous_member_run",
        "toggle_node",
    )
}


def keymap_path() -> Path:
    """Where the keymap is read from."""
    override = os.environ.get("CRUX_TUI_KEYMAP")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("crux-tui")) / "keymap.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """Read the keymap; returns (binding id -> keys, problems). A missing file is no problem."""
    path = path or keymap_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"keymap {path}: {exc}"]
    table = data.get("keymap", data)
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        if not (isinstance(keys, str) and keys.strip()):
            problems.append(f"keymap {path}: {binding_id!r} needs a string of keys")
            continue
        new_id = RENAMED_IDS.get(binding_id)
        if new_id is not None:
            problems.append(f"keymap {path}: {binding_id!r} is now {new_id!r} (rename it there)")
            if new_id in table:
                continue  # the new id is given too: it wins
            binding_id = new_id
        keymap[binding_id] = keys.replace(" ", "")
    return keymap, problems
