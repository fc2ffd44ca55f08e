"""Project hygiene: CI runs the README's test command, and the code is ruff clean."""

from __future__ import annotations

import ast
import importlib.util
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


# --------------------------------------------------------------------------- type check


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None, reason="mypy is not installed (the test extras)"
)
def test_type_check_passes() -> None:
    """mypy as ``pyproject.toml`` configures it: strict for ``contract``, ``timeline``,
    ``backend.projection`` and ``live``, the defaults (and untyped bodies) elsewhere."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- import cycles

#: Cycles known to exist, each to be removed from here by the change that breaks it (none
#: left: the screens import nothing from ``app.py``, which imports them).
KNOWN_CYCLES: list[frozenset[str]] = []


def _module_names() -> dict[str, Path]:
    names = {}
    for path in _modules():
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules ``module`` imports: every ``import`` and ``from ... import``
    statement, at module level or inside a function (a deferred import that reaches back
    is still a cycle in the design), but not under ``if TYPE_CHECKING:`` (never executed).
    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
    ``pkg``; importing a module is not counted as importing its parent packages."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name in modules)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([child.module] if child.module else [])])
                for alias in child.names:
                    name = f"{base}.{alias.name}"
                    if name in modules:
                        found.add(name)
                    elif base in modules:
                        found.add(base)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    found.discard(module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_no_import_cycles_between_modules() -> None:
    modules = _module_names()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = _cycles(graph)
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not gone, f"no longer cycles, remove them from KNOWN_CYCLES: {gone}"


def test_the_cycle_check_reads_deferred_and_relative_imports(tmp_path: Path) -> None:
    """The check itself: function-level and relative imports are edges, type-only ones
    are not, and a cycle through them is found."""
    module = tmp_path / "mod.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "if TYPE_CHECKING:\n"
        "    from pkg import c\n"
        "def f():\n"
        "    import pkg.d\n"
    )
    modules = {name: module for name in ("pkg.mod", "pkg.b", "pkg.c", "pkg.d")}
    assert _imports("pkg.mod", module, modules) == {"pkg.b", "pkg.d"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
    assert _cycles({"a": {"b"}, "b": set()}) == []
