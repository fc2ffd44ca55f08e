"""The one place statuses, severities and waterfall bars get their look.

Everything else names a style (``crux.status.error``, ``crux.severity.warn``,
``crux.bar.error``, ``crux.symptom``; see :func:`status_style_name` and friends in ``format``) and the app's
console resolves the name through the Rich theme built here. Colours come from the
Textual theme's variables (``$error``, ``$success``…), so they follow the theme picked
in the palette. With ``NO_COLOR`` there is no colour to lean on: error, incomplete and
stale stand out by reverse, bold and underline (the glyphs still tell every status
apart), and nothing that matters is dimmer than ``ok``.

Accents that mark a kind of text rather than a status (a command to type, a key, a member
run, JSON values, message roles) keep an ANSI colour, which Textual maps through the
theme's ANSI palette (and, with NO_COLOR, into grey shades: they tell nothing a status
needs); they are named here too (:data:`ACCENTS`), so no other module spells a colour.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.theme import Theme

#: name -> (Textual theme variable, attributes) with colour.
COLOUR: dict[str, tuple[str, str]] = {
    "status.running": ("primary", "bold"),
    "status.ok": ("success", ""),
    "status.success": ("success", ""),
    "status.error": ("error", "bold"),
    "status.blocked": ("error", "bold"),
    "status.cancelled": ("error", ""),
    "status.suspended": ("secondary", "bold"),
    "status.incomplete": ("warning", ""),
    "status.stale": ("warning", ""),
    "status.skipped": ("foreground", "dim"),
    "status.unknown": ("foreground", "dim"),
    "severity.error": ("error", "bold"),
    "severity.warn": ("warning", ""),
    "severity.info": ("primary", ""),
    "bar.done": ("success", ""),
    "bar.running": ("primary", ""),
    "bar.incomplete": ("warning", ""),
    "bar.stale": ("warning", ""),
    "bar.error": ("error", "bold"),
    "symptom": ("warning", "bold"),
}

#: name -> (ANSI colour, attributes) of the accents.
ACCENTS: dict[str, tuple[str, str]] = {
    "member": ("cyan", ""),
    "command": ("cyan", "bold"),
    "key": ("cyan", "bold"),
    "generation": ("cyan", "bold"),
    "tool.call": ("cyan", "bold"),
    "tool.result": ("green", "bold"),
    "role.user": ("green", "bold"),
    "role.assistant": ("cyan", "bold"),
    "role.system": ("magenta", "bold"),
    "role.tool": ("yellow", "bold"),
    "note": ("yellow", "bold"),
    "diff.before": ("red", "bold"),
    "diff.after": ("green", "bold"),
    "json.key": ("blue", "bold"),
    "json.string": ("green", ""),
    "json.number": ("cyan", ""),
    "json.bool": ("magenta", ""),
    "json.more": ("yellow", "italic"),
}

#: The accents by what they mark (``Text(..., style=COMMAND)``).
MEMBER = "crux.member"
COMMAND = "crux.command"
KEY = "crux.key"
GENERATION = "crux.generation"
TOOL_CALL = "crux.tool.call"
TOOL_RESULT = "crux.tool.result"
#: a message's role -> its style (other roles are bold)
ROLE_STYLES = {role: f"crux.role.{role}" for role in ("user", "assistant", "system", "tool")}
#: a caveat about what is shown (a truncated artifact)
NOTE = "crux.note"
DIFF_BEFORE = "crux.diff.before"
DIFF_AFTER = "crux.diff.after"
JSON_KEY = "crux.json.key"
JSON_STRING = "crux.json.string"
JSON_NUMBER = "crux.json.number"
JSON_BOOL = "crux.json.bool"
#: a tree's "… more" and truncation leaves
JSON_MORE = "crux.json.more"

#: name -> attributes without colour (NO_COLOR): the text keeps the widget's foreground.
NO_COLOUR: dict[str, str] = {
    "status.running": "bold",
    "status.ok": "",
    "status.success": "",
    "status.error": "bold reverse",
    "status.blocked": "bold reverse",
    "status.cancelled": "bold reverse",
    "status.suspended": "bold",
    "status.incomplete": "bold underline",
    "status.stale": "bold underline",
    "status.skipped": "",
    "status.unknown": "",
    "severity.error": "bold reverse",
    "severity.warn": "bold underline",
    "severity.info": "",
    "bar.done": "",
    "bar.running": "bold",
    "bar.incomplete": "bold",
    "bar.stale": "bold",
    "bar.error": "bold reverse",
    "symptom": "bold underline",
}

PREFIX = "crux."


def crux_styles(variables: Mapping[str, str], no_color: bool) -> dict[str, str]:
    """``crux.*`` style name -> Rich style definition, from the theme's CSS variables."""
    # accents are the same either way: without colour, Textual shows them in grey shades
    styles = {
        PREFIX + name: f"{attributes} {colour}".strip()
        for name, (colour, attributes) in ACCENTS.items()
    }
    if no_color:
        styles.update(
            {PREFIX + name: attributes or "none" for name, attributes in NO_COLOUR.items()}
        )
        return styles
    for name, (variable, attributes) in COLOUR.items():
        colour = _rich_colour(variables.get(variable) or variables.get("foreground") or "")
        styles[PREFIX + name] = " ".join(part for part in (attributes, colour) if part) or "none"
    return styles


def rich_theme(variables: Mapping[str, str], no_color: bool) -> Theme:
    """The Rich theme the app's console resolves ``crux.*`` names with."""
    return Theme(crux_styles(variables, no_color), inherit=True)


def _rich_colour(value: str) -> str:
    """A CSS variable's colour as Rich parses it (``#rrggbbaa`` loses its alpha)."""
    value = value.strip()
    if value.startswith("#") and len(value) == 9:
        return value[:7]
    return value if value.startswith("#") and len(value) == 7 else ""
