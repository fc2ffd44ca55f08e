"""Records -> RunDetails through the real backend path, in process: SQLite store (ingest
validation), operation graph, operation projection at a given clock."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from crux_tui.backend.projection.operation import project_operation_detail
from crux_tui.backend.store import Store
from crux_tui.contract.models import RunDetail
from crux_tui.demo.builder import RunBuilder

Build = Callable[[random.Random, datetime], RunBuilder | Sequence[RunBuilder]]


def records_of(*built: RunBuilder | Sequence[RunBuilder]) -> list[dict[str, Any]]:
    runs: list[RunBuilder] = []
    for item in built:
        runs.extend([item] if isinstance(item, RunBuilder) else item)
    return [record for run in runs for record in run.records]


def project(records: list[dict[str, Any]], now: datetime) -> dict[str, RunDetail]:
    """Every operation of ``records`` projected at ``now``, by operation id."""
    store = Store(":memory:")
    for start in range(0, len(records), 50):
        result = store.ingest_batch(records[start : start + 50], now=now)
        rejected = [d for d in result.dispositions if d.outcome != "accepted"]
        assert not rejected, rejected
    operations = {r["operationId"] for r in records}
    out = {}
    for op in sorted(operations):
        graph = store.operation_graph(op)
        assert graph is not None
        out[op] = project_operation_detail(graph, now)
    return out


def scenario(build: Build, now: datetime, *, at: datetime | None = None) -> RunDetail:
    """One scenario's only operation, built for ``now`` and projected at ``at`` (``now``)."""
    details = project(records_of(build(random.Random(1), now)), at or now)
    assert len(details) == 1, list(details)
    return next(iter(details.values()))
