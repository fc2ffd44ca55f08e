"""User key remapping by binding id, from ``keymap.toml`` in the user config folder.

    # ~/.config/crux-tui/keymap.toml   (or the file named by $CRUX_TUI_KEYMAP)
    [keymap]
    "timeline.infrastructure" = "I"
    "timeline.next_error" = "ctrl+n,e"

Every binding of the app has an id (``?`` lists them); the value is a comma-separated
list of Textual key names.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs


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
        if isinstance(keys, str) and keys.strip():
            keymap[binding_id] = keys.replace(" ", "")
        else:
            problems.append(f"keymap {path}: {binding_id!r} needs a string of keys")
    return keymap, problems
