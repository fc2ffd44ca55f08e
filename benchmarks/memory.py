"""Where the viewer's memory goes with a big run open: a breakdown, stage by stage.

``python benchmarks/memory.py [--size 100000] [--body FILE]`` gets a RunDetail body of a
scaled run from the embedded backend (or reads one saved with ``--save``), then measures each
way of holding it in a fresh process: resident memory before and after, and the peak.

- *body*: the received bytes alone (what the client downloads);
- *whole*: the body decoded into the contract's RunDetail, then the timeline model built
  from it (what the viewer holds today once the whole run is shown);
- *rows*: only the head (run + rows) decoded and the preview model built from it (what the
  first paint needs: the floor of a viewer that decodes node bodies on demand);
- *raw bodies*: the tree decoded with each node's heavy members (details, artifacts, events,
  attributes, inspection, metric buckets) kept as ``msgspec.Raw`` slices of the body, for a
  decode on demand (tried for the 400 MB target: the slices keep the whole body alive).

Figures are megabytes of resident set size (``/proc/self/statm``) and ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from crux_tui.contract.models import (
    NodeDisplay,
    NodeSource,
    RunDetail,
    RunDetailHead,
    RunDetailRow,
    RunSummary,
    Timing,
)

_NULL = msgspec.Raw(b"null")


class RawBodyNode(msgspec.Struct, kw_only=True, gc=False):
    """A node whose heavy members stay undecoded slices of the body."""

    id: str = ""
    spanId: str = ""
    kind: str = ""
    status: str = ""
    name: str = ""
    display: NodeDisplay = msgspec.field(default_factory=NodeDisplay)
    timing: Timing = msgspec.field(default_factory=Timing)
    source: NodeSource = msgspec.field(default_factory=NodeSource)
    children: list[RawBodyNode] | None = None
    details: msgspec.Raw = _NULL
    artifacts: msgspec.Raw = _NULL
    events: msgspec.Raw = _NULL
    attributes: msgspec.Raw = _NULL
    inspection: msgspec.Raw = _NULL
    metricBuckets: msgspec.Raw = _NULL


class RawBodyDetail(msgspec.Struct, kw_only=True, gc=False):
    run: RunSummary = msgspec.field(default_factory=RunSummary)
    root: RawBodyNode = msgspec.field(default_factory=RawBodyNode)
    rows: list[RunDetailRow] | None = None
    spanIndex: msgspec.Raw = _NULL
    memberRuns: msgspec.Raw = _NULL


STAGES = ("body", "whole", "rows", "raw bodies")


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def measure(stage: str, body_path: str, head_length: int) -> dict[str, Any]:
    """Hold the body as ``stage`` says, in this process; what it cost."""
    from crux_tui.timeline import build_model
    from crux_tui.timeline.preview import detail_from_head

    gc.collect()
    start = _resident_mb()
    kept: list[Any] = []
    began = time.perf_counter()
    if stage == "rows":
        with open(body_path, "rb") as body_file:
            head_bytes = body_file.read(head_length) + b"}"
        head = msgspec.json.decode(head_bytes, type=RunDetailHead)
        del head_bytes
        kept += [head, build_model(detail_from_head(head))]
    else:
        body = Path(body_path).read_bytes()
        if stage == "whole":
            detail = msgspec.json.decode(body, type=RunDetail)
            del body
            kept += [detail, build_model(detail)]
        elif stage == "raw bodies":
            kept.append(msgspec.json.decode(body, type=RawBodyDetail))
            del body  # the Raw slices still hold it
        else:
            kept.append(body)
    seconds = time.perf_counter() - began
    gc.collect()
    return {
        "stage": stage,
        "held_mb": _resident_mb() - start,
        "resident_mb": _resident_mb(),
        "peak_mb": _peak_mb(),
        "seconds": seconds,
    }


def fetch_body(size: int, path: Path) -> int:
    """Project a scaled run of ``size`` spans in a backend process; the body to ``path``.

    Returns the head length the backend announced.
    """
    import httpx

    from crux_tui.backend.process import BackendProcess
    from crux_tui.contract.models import HEAD_LENGTH_HEADER
    from crux_tui.demo.scale import scaled_run_records
    from crux_tui.loading import load_records

    records = scaled_run_records(size)
    with BackendProcess() as backend:
        problems = load_records(backend.url, records)
        if problems:
            raise SystemExit(f"memory: the backend refused records: {problems[:3]}")
        with (
            httpx.Client(base_url=backend.url, timeout=600) as client,
            client.stream("GET", f"/api/observability/runs/{records[0]['runId']}") as answer,
            path.open("wb") as out,
        ):
            answer.raise_for_status()
            for chunk in answer.iter_bytes():
                out.write(chunk)
            return int(answer.headers[HEAD_LENGTH_HEADER])


def breakdown(
    size: int, body: str | None = None, head_length: int = 0, save: str | None = None
) -> list[dict[str, Any]]:
    """Every stage measured in its own process, on a fetched body (or ``body``)."""
    with tempfile.TemporaryDirectory(prefix="crux-tui-memory-") as scratch:
        if body:
            body_path = Path(body)
            if not head_length:
                raise SystemExit("memory: --body needs --head-length (the backend's header)")
        else:
            body_path = Path(save or Path(scratch) / "body.json")
            print(f"projecting a {size:,}-span run…", file=sys.stderr)
            head_length = fetch_body(size, body_path)
        print(
            f"RunDetail body {body_path.stat().st_size / 1e6:,.1f} MB "
            f"(head {head_length / 1e6:,.1f} MB), {size:,} spans"
        )
        rows = []
        for stage in STAGES:
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--stage",
                    stage,
                    "--body",
                    str(body_path),
                    "--head-length",
                    str(head_length),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="where the viewer's memory goes")
    parser.add_argument("--size", type=int, default=100_000, help="spans in the scaled run")
    parser.add_argument("--body", help="a RunDetail body saved earlier (with --head-length)")
    parser.add_argument("--head-length", type=int, default=0)
    parser.add_argument("--save", help="keep the fetched body in this file")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:  # the child: one stage, one JSON line
        print(json.dumps(measure(args.stage, args.body, args.head_length)))
        return 0
    rows = breakdown(args.size, args.body, args.head_length, args.save)
    print(f"{'stage':<12}{'held MB':>10}{'KB/span':>10}{'resident':>10}{'peak':>10}{'s':>8}")
    for row in rows:
        print(
            f"{row['stage']:<12}{row['held_mb']:>10,.0f}"
            f"{row['held_mb'] * 1e3 / args.size:>10,.2f}"
            f"{row['resident_mb']:>10,.0f}{row['peak_mb']:>10,.0f}{row['seconds']:>8,.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
