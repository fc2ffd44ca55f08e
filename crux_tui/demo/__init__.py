"""Deterministic demo data: Convex + Crux scenarios, scaled runs, a live run, JSONL."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from crux_tui.demo.jsonl import read_jsonl, write_jsonl
from crux_tui.demo.late_root import LATE_OPERATION_ID, LateRootFeeder, late_operation_records
from crux_tui.demo.live import LIVE_RUN_ID, LiveRunFeeder, live_run_records
from crux_tui.demo.scale import scaled_run_records
from crux_tui.demo.scenarios import SCENARIOS, Scenario

#: (operation id, name, presented status) of every scenario ``build_demo_records`` makes.
DEMO_SCENARIOS: list[tuple[str, str, str]] = [(s.run_id, s.name, s.status) for s in SCENARIOS]


def build_demo_records(seed: int = 7, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every demo scenario's records (not the live run), oldest run first."""
    now = now or datetime.now(UTC)
    records: list[dict[str, Any]] = []
    for index, scenario in enumerate(SCENARIOS):
        records.extend(scenario.records(random.Random(seed * 1000 + index), now))
    return records


def demo_file_records(seed: int = 7, now: datetime | None = None) -> list[dict[str, Any]]:
    """What ``demo --records`` writes: every scenario, then the late-root operation (its
    child's records before its root's, the order the demo posts them in)."""
    children, root = late_operation_records(seed, now)
    return [*build_demo_records(seed, now), *children, *root]


__all__ = [
    "DEMO_SCENARIOS",
    "LATE_OPERATION_ID",
    "LIVE_RUN_ID",
    "SCENARIOS",
    "LateRootFeeder",
    "LiveRunFeeder",
    "Scenario",
    "build_demo_records",
    "demo_file_records",
    "late_operation_records",
    "live_run_records",
    "read_jsonl",
    "scaled_run_records",
    "write_jsonl",
]
