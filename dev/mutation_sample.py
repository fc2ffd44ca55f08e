"""A seeded random sample of mutmut's mutants, a few per module (README, "Development").

    python dev/mutation_sample.py [--per-module N] [--seed S] [--round K] [GLOB ...]

The whole mutmut run (about 9,600 mutants) takes hours on two cores. A random sample of each
module's mutants estimates its mutation score in minutes: the score of the sample, with a
95% interval that ``dev/mutation_scores.py`` prints for a module only partly judged. Each
module's mutant names (keys of ``mutants/<path>.py.meta``, written by any ``mutmut run``) are
sorted, shuffled with the seed and cut into rounds of N: round 1 is the first N, round 2 the
next N, so a second round adds to the first without repeating it. Prints the names one per
line, for ``mutmut run $(python dev/mutation_sample.py ...)``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import sys
from pathlib import Path


def module_of(meta: Path, root: Path) -> str:
    """The dotted module name of a mutmut meta file."""
    return meta.relative_to(root).as_posix().removesuffix(".py.meta").replace("/", ".")


def sample(names: list[str], per_module: int, seed: int, round_number: int) -> list[str]:
    """Round ``round_number`` (from 1) of a module's names shuffled with ``seed``."""
    shuffled = sorted(names)
    random.Random(seed).shuffle(shuffled)
    start = (round_number - 1) * per_module
    return shuffled[start : start + per_module]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("globs", nargs="*", default=["*"], metavar="GLOB")
    parser.add_argument("--per-module", type=int, default=30, metavar="N")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--round", type=int, default=1, dest="round_number", metavar="K")
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    args = parser.parse_args(argv)
    metas = sorted(args.mutants.rglob("*.py.meta")) if args.mutants.is_dir() else []
    if not metas:
        print(f"no mutants in {args.mutants}/: run mutmut once first", file=sys.stderr)
        return 1
    for meta in metas:
        module = module_of(meta, args.mutants)
        if not any(fnmatch.fnmatchcase(module, g) for g in args.globs):
            continue
        names = list(json.loads(meta.read_text())["exit_code_by_key"])
        for name in sample(names, args.per_module, args.seed, args.round_number):
            print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
