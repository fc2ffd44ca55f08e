"""Which operation a run belongs to, as far as the viewer has seen (``crux-v5.md`` D.4).

Ingest and delete events name operations, but a lifecycle event names the **member run**
whose state changed (possibly a child): the views are keyed by operation, so the child's
id must be mapped to its operation. The table is filled from what the viewer reads: the
rows of runs pages and the ``memberRuns`` of RunDetails.
"""

from __future__ import annotations

from collections.abc import Iterable

from crux_tui.contract.models import ObservabilityEvent, RunDetail, RunSummary, items


def operation_id(run: RunSummary) -> str:
    """The operation of a run summary (a v2 run is its own operation)."""
    return run.operationId or run.rootRunId or run.runId


class RunDirectory:
    """run id -> operation id, for every member run the viewer has seen."""

    def __init__(self) -> None:
        self._operation: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._operation)

    def note_runs(self, runs: Iterable[RunSummary]) -> None:
        """Rows of a runs page (a v5 row is an operation; an older backend may list members)."""
        for run in runs:
            operation = operation_id(run)
            if run.runId and operation != run.runId:
                self._operation[run.runId] = operation

    def note_detail(self, detail: RunDetail) -> None:
        """Every member run of an operation's RunDetail."""
        operation = operation_id(detail.run)
        for member in items(detail.memberRuns):
            run_id = member.run.runId
            if run_id and run_id != operation:
                self._operation[run_id] = operation_id(member.run) or operation

    def operation_of(self, run_id: str) -> str:
        """The operation of ``run_id`` (itself when unknown: an operation id, or a v2 run)."""
        return self._operation.get(run_id, run_id)

    def members_of(self, operation: str) -> set[str]:
        """The member run ids known for ``operation`` (the operation id included)."""
        return {operation} | {run for run, op in self._operation.items() if op == operation}

    def operations(self, event: ObservabilityEvent) -> set[str]:
        """Every operation (or v2 run / trace) id that ``event`` names or implies."""
        refs = event.run_refs()
        return refs | {self.operation_of(ref) for ref in refs}

    def forget(self, operations: Iterable[str]) -> None:
        """Deleted operations: their member runs are gone too."""
        gone = set(operations)
        for run, op in list(self._operation.items()):
            if op in gone or run in gone:
                del self._operation[run]
