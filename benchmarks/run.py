"""Benchmarks of crux-tui. Prints a table and writes JSON.

python benchmarks/run.py [--sizes 1000,10000,50000,100000] [--repeat 3] [--json OUT]
    [--phases ingest,projection,http,restart,decode,app,tree] [--no-live] [--no-rss]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_app, bench_backend, bench_client  # noqa: E402
from benchmarks.common import Result, machine, table  # noqa: E402

#: Live figures are taken at the sizes up to this one (each sample loads the run afresh).
LIVE_MAX_SIZE = 10_000


def reps(size: int, repeat: int) -> int:
    """Fewer repetitions at the big sizes keep the whole run within minutes."""
    return max(1, repeat if size <= 10_000 else repeat // 2 if size <= 50_000 else 1)


def rss_figure(size: int) -> list[Result]:
    viewer, backend = asyncio.run(bench_app.rss_open(size))
    return [
        Result(
            "memory",
            "peak RSS, viewer with the run open",
            size,
            viewer,
            "MB",
            "< 400 MB",
            viewer < 400,
        ),
        Result("memory", "peak RSS, embedded backend (own process)", size, backend, "MB"),
    ]


def in_child(job: str) -> list[Result]:
    """Run one job (``size:N:LARGEST:REPEAT``, ``live:N:REPEAT``, ``rss:N``) in a fresh process.

    Each size gets a clean interpreter: figures do not carry the heap of earlier sizes.
    """
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", job],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [Result(**row) for row in json.loads(done.stdout.strip().splitlines()[-1])]


def run_job(job: str) -> list[Result]:
    """The figures of one job, in this process (progress on stderr)."""
    kind, *fields = job.split(":")
    numbers = [int(f) for f in fields if f.isdigit()]
    results: list[Result] = []
    phase = _phase_into(results)
    if kind == "size":
        size, largest, repeat = (int(f) for f in fields[:3])
        picked = tuple(fields[3].split("+")) if len(fields) > 3 else PHASES
        run_size(size, reps(size, repeat), bool(largest), phase, picked)
    elif kind == "live":
        size, repeat = numbers
        # Live samples are cheap and noisy (two threads share one GIL): take three times more.
        phase("live", size, lambda: asyncio.run(bench_app.live(size, 3 * reps(size, repeat))))
    elif kind == "rss":
        phase("rss", numbers[0], lambda: rss_figure(numbers[0]))
    return results


def _phase_into(results: list[Result]) -> Phase:
    def phase(label: str, size: int, fn: Callable[[], list[Result]]) -> None:
        try:
            got = fn()
        except Exception as exc:  # report, keep the figures gathered so far
            print(f"  ! {label} at {size:,} spans failed: {exc!r}", file=sys.stderr, flush=True)
            return
        for result in got:
            print(f"  {result.name} [{size:,}]: {result.value:,.1f} {result.unit}", file=sys.stderr)
        results.extend(got)

    return phase


Phase = Callable[[str, int, Callable[[], list[Result]]], None]


#: The phases of a size job, in the order they run (``--phases`` picks some).
PHASES = ("ingest", "projection", "http", "restart", "decode", "app", "tree")


def run_size(
    size: int, n: int, largest: bool, phase: Phase, phases: tuple[str, ...] = PHASES
) -> None:
    """Every figure at one size (or those of ``phases``)."""
    if "ingest" in phases:
        phase("ingest", size, lambda: bench_backend.ingest(size, n))
    bodies: list[bytes] = []

    def projection() -> list[Result]:
        projected, body = bench_backend.projection(size, n)
        bodies.append(body)
        return projected

    if "projection" in phases:
        phase("projection", size, projection)
    if "http" in phases:
        phase("GET RunDetail", size, lambda: bench_backend.detail_over_http(size, n))
    if "restart" in phases:
        phase("restart", size, lambda: bench_backend.restart(size, n))
    if bodies and "decode" in phases:
        phase("decode", size, lambda: bench_client.decode_and_layout(size, bodies[0], n))
    figures: list[Result] = []

    def app() -> list[Result]:
        got = asyncio.run(bench_app.open_and_toggle(size, n, interact=largest, bodies=bodies))
        figures.extend(got)
        return got

    def tree() -> list[Result]:
        got = asyncio.run(bench_app.tree_reference(size, bodies[0], max(3, n)))
        figures.extend(got)
        ratios = bench_app.open_to_tree_ratios(figures, size)
        return got + ratios + bench_app.cold_to_tree_ratios(figures, size)

    if "app" in phases:
        phase("app", size, app)
    if "tree" in phases:
        if not bodies:  # the body the backend serves (the app phase fetched none)
            bodies.append(bench_app.served_body(size))
        phase("Tree", size, tree)


def run_all(
    sizes: list[int],
    repeat: int,
    *,
    rss: bool = True,
    isolated: bool = True,
    phases: tuple[str, ...] = PHASES,
    live: bool = True,
) -> list[Result]:
    """Every figure; each size (and live, and RSS) in its own process unless not ``isolated``.

    A phase that fails is reported and the others still run.
    """
    picked = "+".join(phases)
    jobs = [f"size:{size}:{int(size == max(sizes))}:{repeat}:{picked}" for size in sizes]
    if live:
        jobs += [f"live:{size}:{repeat}" for size in sorted(sizes) if size <= LIVE_MAX_SIZE]
    if rss:
        jobs.append(f"rss:{max(sizes)}")
    results: list[Result] = []
    for job in jobs:
        print(f"… {job}", file=sys.stderr, flush=True)
        if not isolated:
            results += run_job(job)
            continue
        try:
            results += in_child(job)
        except (subprocess.CalledProcessError, ValueError) as exc:
            print(f"  ! {job} failed: {exc!r}", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="crux-tui benchmarks")
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS child process")
    parser.add_argument("--no-live", action="store_true", help="skip the live figures")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"the figures of each size to take (of {','.join(PHASES)}; "
        "tree alone fetches the body itself)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps([asdict(r) for r in run_job(args.child)]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    info = machine()
    phases = tuple(p for p in args.phases.split(",") if p)
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    results = run_all(sizes, args.repeat, rss=not args.no_rss, phases=phases, live=not args.no_live)
    print(table(results, info))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"machine": info, "results": [asdict(r) for r in results]}, indent=2)
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
