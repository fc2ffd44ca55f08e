"""Deterministic demo data: Convex + Crux scenarios, scaled runs, a live run, JSONL."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from crux_tui.demo.jsonl import read_jsonl, write_jsonl
from crux_tui.demo.live import LIVE_RUN_ID, LiveRunFeeder, live_run_records
from crux_tui.demo.scale import scaled_run_records
from crux_tui.demo.scenarios import SCENARIOS, Scenario

#: (run_id, name, presented status) of every scenario ``build_demo_records`` makes.
DEMO_SCENARIOS: list[tuple[str, str, str]] = [(s.run_id, s.name, s.status) for s in SCENARIOS]


def build_demo_records(seed: int = 7, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every demo scenario's records (not the live run), oldest run first."""
    now = now or datetime.now(UTC)
    records: list[dict[str, Any]] = []
    for index, scenario in enumerate(SCENARIOS):
        records.extend(scenario.build(random.Random(seed * 1000 + index), now).records)
    return records


__all__ = [
    "DEMO_SCENARIOS",
    "LIVE_RUN_ID",
    "SCENARIOS",
    "LiveRunFeeder",
    "Scenario",
    "build_demo_records",
    "live_run_records",
    "read_jsonl",
    "scaled_run_records",
    "write_jsonl",
]
