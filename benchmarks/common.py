"""Timing helpers, the machine description and the results table."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """One measured figure."""

    group: str
    name: str
    size: int
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    samples: list[float] = field(default_factory=list)


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` in ms over ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), samples


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident set size (VmHWM) of this process, or of ``pid``, in MB."""
    try:
        with open(f"/proc/{pid or 'self'}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import textual

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "textual": getattr(textual, "__version__", "?"),
        "platform": platform.platform(),
    }


def table(results: list[Result], info: dict[str, Any]) -> str:
    head = (
        f"machine: {info['cpu']} · {info['cores']} cores · Python {info['python']}"
        f" · textual {info['textual']}"
    )
    lines = [head, "", f"{'group':8} {'measure':44} {'size':>7} {'value':>12}  target"]
    for r in results:
        verdict = "" if r.met is None else (" ✓" if r.met else " ✗ missed")
        value = f"{r.value:,.1f} {r.unit}"
        lines.append(f"{r.group:8} {r.name:44} {r.size:>7,} {value:>12}  {r.target}{verdict}")
    return "\n".join(lines)
