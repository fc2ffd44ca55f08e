"""Project hygiene: CI runs the README's test command, and the code is ruff clean."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)
    return [block.strip() for block in blocks]


def test_ci_runs_the_readme_test_command() -> None:
    commands = readme_commands()
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_first_command_installs_and_opens_the_demo() -> None:
    first = readme_commands()[0]
    assert "pip install" in first and first.endswith("crux-tui demo")


def _ruff() -> str | None:
    beside = Path(sys.executable).with_name("ruff")  # the venv's ruff, the version CI pins
    return str(beside) if beside.exists() else shutil.which("ruff")


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed")
def test_ruff_clean() -> None:
    paths = [p for p in ("crux_tui", "tests", "benchmarks") if (ROOT / p).is_dir()]
    result = subprocess.run(
        [_ruff(), "check", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- one vocabulary

PACKAGE = ROOT / "crux_tui"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _code_strings(tree: ast.Module) -> list[ast.Constant]:
    """String constants of a module, docstrings left out."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_status_vocabulary_is_defined_once() -> None:
    """Sets and maps of statuses, and status, severity, topology and bar glyphs, are spelled
    only in ``contract/statuses.py``; everything else imports them."""
    from crux_tui.contract import statuses

    names = set(statuses.ROLL_UP_RANK) | {statuses.CONFLICTED}
    glyphs = {
        *statuses.STATUS_GLYPHS.values(),
        statuses.SEVERITY_GLYPHS[statuses.SEVERITY_WARN],
        *(glyph for glyph, _word in statuses.TOPOLOGY_HEALTH.values()),
        *statuses.BAR_GLYPHS.values(),
    }
    found = []
    for path in _modules():
        if path == PACKAGE / "contract" / "statuses.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                elements: list[ast.expr | None] = list(node.keys)
            elif isinstance(node, ast.Set | ast.Tuple | ast.List):
                elements = list(node.elts)
            else:
                continue
            spelled = {
                e.value for e in elements if isinstance(e, ast.Constant) and e.value in names
            }
            if len(spelled) > 1:
                found.append(f"{where}:{node.lineno}: statuses {sorted(spelled)}")
        for node in _code_strings(tree):
            if any(glyph in node.value for glyph in glyphs):
                found.append(f"{where}:{node.lineno}: glyph in {node.value!r}")
    assert not found, "\n".join(found)
