"""Project hygiene: CI runs the README's test command, and the code is ruff clean."""

from __future__ import annotations

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
