"""Colours come from one place: ``app/theme.py`` names every style with a colour (statuses
from the Textual theme's variables, accents with an ANSI colour); no other module of the app
spells a colour, and without colour the statuses keep attributes only."""

from __future__ import annotations

import ast
from pathlib import Path

from rich.errors import StyleSyntaxError
from rich.style import Style

from crux_tui.app.theme import ACCENTS, COLOUR, PREFIX, crux_styles

APP = Path(__file__).resolve().parents[2] / "crux_tui" / "app"
VARIABLES = {"primary": "#0178D4", "success": "#4EBF71", "error": "#BA3C5B", "warning": "#FFA62B"}


def coloured(value: str) -> bool:
    """``value`` is a Rich style with a colour (foreground or background)."""
    try:
        style = Style.parse(value)
    except (StyleSyntaxError, ValueError):
        return False
    colours = (style.color, style.bgcolor)
    return any(c is not None and c.name != "default" for c in colours)


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            found.add(id(body[0].value))
    return found


def test_no_module_of_the_app_spells_a_colour() -> None:
    spelled = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "theme.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and coloured(node.value)
            ):
                spelled.append(f"{path.relative_to(APP)}:{node.lineno}: {node.value!r}")
    assert not spelled, "\n".join(spelled)


def test_the_check_finds_a_spelled_colour() -> None:
    assert coloured("bold cyan") and coloured("#ff0000") and coloured("on red")
    assert not coloured("bold") and not coloured("dim italic") and not coloured("crux.key")


def test_every_named_style_has_its_colour_and_statuses_none_without_colour() -> None:
    styles = crux_styles(VARIABLES, no_color=False)
    plain = crux_styles(VARIABLES, no_color=True)
    assert set(styles) == set(plain) == {PREFIX + n for n in (*COLOUR, *ACCENTS)}
    for name, (colour, attributes) in ACCENTS.items():
        style = Style.parse(styles[PREFIX + name])
        assert style.color is not None and style.color.name == colour
        assert style == Style.parse(f"{attributes} {colour}") == Style.parse(plain[PREFIX + name])
    # statuses stand out without colour by their attributes (the accents go grey)
    assert not any(coloured(plain[PREFIX + name]) for name in COLOUR)
    assert Style.parse(styles["crux.status.error"]).color.name == "#ba3c5b"
