"""Mutation score per module from mutmut's results (README, "Development").

    python dev/mutation_scores.py [--survivors] [GLOB ...]

mutmut 3 keeps each mutant's outcome in ``mutants/<path>.py.meta`` (JSON, the test run's
exit code under ``exit_code_by_key``). This prints, per module whose dotted name matches one
of the GLOBs (default: every mutated module), the mutants killed, survived, not covered by
any selected test ("no tests") and not run yet, and the score: killed / (killed + survived +
no tests), a timeout or a type-check failure counting as killed. ``--survivors`` lists the
mutants that were not killed, for ``mutmut show NAME``; ``--only FILE`` counts only the mutants
FILE names (a round of ``dev/mutation_sample.py``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import sys
from pathlib import Path

#: mutmut 3.8's exit codes (``mutmut.stats.status_by_exit_code``), folded into what a score needs.
#: -9 is the runner's SIGKILL a second after SIGXCPU when a test run ignores it (an endless
#: loop that allocates); mutmut prints it as "segfault", its tests did not pass: killed.
KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -9}
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_RUN = {None, 2, 34}  # not checked, interrupted, skipped


def module_of(meta: Path, root: Path) -> str:
    relative = meta.relative_to(root).as_posix()
    return relative.removesuffix(".py.meta").replace("/", ".")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "globs",
        nargs="*",
        default=["*"],
        metavar="GLOB",
        help="dotted module names, e.g. 'crux_tui.backend.projection.*'",
    )
    parser.add_argument("--survivors", action="store_true", help="list the mutants not killed")
    parser.add_argument("--mutants", type=Path, default=Path("mutants"), help="mutmut's directory")
    parser.add_argument(
        "--only",
        type=Path,
        metavar="FILE",
        help="count only the mutants named in FILE (one per line: a sample round)",
    )
    args = parser.parse_args(argv)
    only = set(args.only.read_text().split()) if args.only else None
    if not args.mutants.is_dir():
        print(f"no {args.mutants}/: run mutmut first", file=sys.stderr)
        return 1
    rows = []
    for meta in sorted(args.mutants.rglob("*.py.meta")):
        module = module_of(meta, args.mutants)
        if not any(fnmatch.fnmatchcase(module, g) for g in args.globs):
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        whole = len(codes)
        if only is not None:
            codes = {k: c for k, c in codes.items() if k in only}
        if not codes:
            continue
        killed = [k for k, c in codes.items() if c in KILLED]
        survived = [k for k, c in codes.items() if c in SURVIVED]
        no_tests = [k for k, c in codes.items() if c in NO_TESTS]
        not_run = [k for k, c in codes.items() if c in NOT_RUN]
        other = [
            k for k, c in codes.items() if c not in KILLED | SURVIVED | NO_TESTS | NOT_RUN
        ]  # suspicious, segfault
        rows.append((module, killed, survived + other, no_tests, not_run, whole))
    if not rows:
        print("no results match", " ".join(args.globs), file=sys.stderr)
        return 1
    width = max(len(r[0]) for r in rows)
    print(f"{'module':<{width}}  killed  survived  no-tests  not-run   score  95% interval")
    for module, killed, survived, no_tests, not_run, whole in rows:
        checked = len(killed) + len(survived) + len(no_tests)
        score = f"{100 * len(killed) / checked:5.1f}%" if checked else "    -"
        interval = ""
        if checked and checked < whole:
            low, high = wilson_interval(len(killed), checked)
            interval = f"  {100 * low:.0f}-{100 * high:.0f}%"
        print(
            f"{module:<{width}}  {len(killed):6}  {len(survived):8}  {len(no_tests):8}"
            f"  {len(not_run):7}  {score}{interval}"
        )
    if args.survivors:
        for _module, _killed, survived, no_tests, _not_run, _whole in rows:
            for name in sorted(survived, key=_natural):
                print("survived", name)
            for name in sorted(no_tests, key=_natural):
                print("no tests", name)
    return 0


def wilson_interval(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a score measured on a random sample of ``judged`` mutants.

    A module only partly judged (``not-run`` > 0) from ``dev/mutation_sample.py``'s random
    sample: the interval says where the whole module's score lies (a prefix of a run, fast
    mutants first, is not a random sample and its interval means little).
    """
    share = killed / judged
    centre = share + z * z / (2 * judged)
    spread = z * math.sqrt(share * (1 - share) / judged + z * z / (4 * judged * judged))
    scale = 1 + z * z / judged
    return (centre - spread) / scale, (centre + spread) / scale


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


if __name__ == "__main__":
    raise SystemExit(main())
