"""The benchmark runner runs end to end at a small size (figures are not asserted)."""

from __future__ import annotations

import sys

import pytest

from benchmarks.common import machine, table
from benchmarks.run import run_all


def test_every_benchmark_phase_runs_at_a_small_size(capsys: pytest.CaptureFixture[str]) -> None:
    results = run_all([200], 1, rss=False, isolated=False)
    names = {r.name for r in results}
    # A phase that fails says why on stderr ("  ! app at 200 spans failed: ..."): name it.
    progress = capsys.readouterr().err
    sys.stderr.write(progress)  # still shown with a failure
    failures = [line.strip() for line in progress.splitlines() if line.lstrip().startswith("! ")]
    # One figure of each phase: a phase that failed would be missing here.
    for expected in (
        "ingest, POST /records (records/s)",
        "stored records -> RunDetail JSON",
        "GET RunDetail, repeat read (settled run, cached)",
        "GET RunDetail after restart, kept body",
        "GET RunDetail after restart, projected",
        "open, projected on request -> first paint",
        "open, projected on request -> whole run shown",
        "open, projection ready -> first paint",
        "open, projection ready -> whole run shown",
        "open after a backend restart (kept body) -> first paint",
        "graph re-read (decoded records kept)",
        "cursor move (UI-thread work)",
        "timeline model (build_model)",
        "Tree: expand all",
        "Tree: fill + first paint",
        "open (ready) first paint / Tree fill + paint",
        "open after a backend restart / Tree fill + first paint",
        "ingest -> repainted run view (loopback)",
        "running run receives a span -> repainted run view (loopback)",
    ):
        assert expected in names, failures
    assert all(r.value >= 0 for r in results)
    assert "machine:" in table(results, machine())


def test_the_memory_breakdown_measures_every_stage() -> None:
    from benchmarks.memory import STAGES, breakdown

    held = {row["stage"]: row["held_mb"] for row in breakdown(300)}
    assert tuple(held) == STAGES
    # decoding every node body costs more than the rows a first paint needs
    assert held["whole"] > held["rows"]
