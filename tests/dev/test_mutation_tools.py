"""dev/mutation_sample.py and dev/mutation_scores.py: the figures in the README come from them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _mutants(tmp_path: Path, codes: dict[str, int | None]) -> Path:
    meta = tmp_path / "mutants" / "crux_tui" / "thing.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    return tmp_path / "mutants"


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev" / script), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_sample_rounds_are_seeded_and_do_not_repeat(tmp_path: Path) -> None:
    names = [f"crux_tui.thing.x_f__mutmut_{n}" for n in range(1, 26)]
    mutants = _mutants(tmp_path, dict.fromkeys(names))
    first = _run("mutation_sample.py", "--per-module", "10", "--mutants", str(mutants)).split()
    again = _run("mutation_sample.py", "--per-module", "10", "--mutants", str(mutants)).split()
    second = _run(
        "mutation_sample.py", "--per-module", "10", "--round", "2", "--mutants", str(mutants)
    ).split()
    third = _run(
        "mutation_sample.py", "--per-module", "10", "--round", "3", "--mutants", str(mutants)
    ).split()
    assert first == again
    assert len(first) == len(second) == 10 and len(third) == 5
    assert sorted(first + second + third) == sorted(names)
    assert first != sorted(first)  # shuffled, not the first ten in name order


def test_a_partly_judged_module_gets_its_score_and_interval(tmp_path: Path) -> None:
    codes: dict[str, int | None] = {f"crux_tui.thing.x_f__mutmut_{n}": None for n in range(1, 41)}
    for n in range(1, 19):
        codes[f"crux_tui.thing.x_f__mutmut_{n}"] = 1  # killed
    codes["crux_tui.thing.x_f__mutmut_19"] = 0  # survived
    codes["crux_tui.thing.x_f__mutmut_20"] = 33  # no tests
    out = _run("mutation_scores.py", "--mutants", str(_mutants(tmp_path, codes)))
    row = out.splitlines()[1].split()
    assert row[:6] == ["crux_tui.thing", "18", "1", "1", "20", "90.0%"]
    assert row[6] == "70-97%"  # Wilson, 18 of 20


def test_a_wholly_judged_module_has_no_interval(tmp_path: Path) -> None:
    codes: dict[str, int | None] = {
        "crux_tui.thing.x_f__mutmut_1": 1,
        "crux_tui.thing.x_f__mutmut_2": 0,
    }
    out = _run("mutation_scores.py", "--mutants", str(_mutants(tmp_path, codes)))
    assert out.splitlines()[1].split() == ["crux_tui.thing", "1", "1", "0", "0", "50.0%"]


def test_only_counts_the_mutants_of_one_sample_round(tmp_path: Path) -> None:
    codes: dict[str, int | None] = {f"crux_tui.thing.x_f__mutmut_{n}": 1 for n in range(1, 11)}
    codes["crux_tui.thing.x_f__mutmut_11"] = 0
    round_file = tmp_path / "round.txt"
    round_file.write_text("crux_tui.thing.x_f__mutmut_1\ncrux_tui.thing.x_f__mutmut_11\n")
    mutants = _mutants(tmp_path, codes)
    out = _run("mutation_scores.py", "--mutants", str(mutants), "--only", str(round_file))
    # 2 of the module's 11 judged: a sample, with its interval, though none is left unrun
    assert out.splitlines()[1].split() == ["crux_tui.thing", "1", "1", "0", "0", "50.0%", "9-91%"]


def test_a_mutant_killed_after_its_cpu_limit_counts_as_killed(tmp_path: Path) -> None:
    """-9: mutmut's runner sends SIGKILL when a test run outlives SIGXCPU (an endless loop)."""
    codes: dict[str, int | None] = {
        "crux_tui.thing.x_f__mutmut_1": -9,
        "crux_tui.thing.x_f__mutmut_2": 0,
    }
    out = _run("mutation_scores.py", "--mutants", str(_mutants(tmp_path, codes)))
    assert out.splitlines()[1].split() == ["crux_tui.thing", "1", "1", "0", "0", "50.0%"]
