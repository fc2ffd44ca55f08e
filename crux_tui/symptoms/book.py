"""What a viewer knows about the symptoms of the operations it has read: the symptoms each
RunDetail shows by itself (at the revision it was read), the cross-run facts of every
operation seen (from RunDetails, else from runs-list rows), and the child-action rule
recomputed over all of them when asked. Pure bookkeeping (no I/O, no Textual); the clock is
passed in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crux_tui.contract.models import RunDetail, RunSummary

from .catalog import Symptom
from .child_action import RunFacts, facts_of, facts_of_row, separate_child_runs
from .diagnose import local_symptoms, ordered


def analyse(detail: RunDetail) -> tuple[list[Symptom], RunFacts]:
    """What :class:`SymptomBook` keeps of a RunDetail (a walk of its tree: run it off the UI
    thread for a big run)."""
    return local_symptoms(detail), facts_of(detail)


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: int
    at: float
    local: tuple[Symptom, ...]
    settled: bool


class SymptomBook:
    """Symptoms by operation id."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._facts: dict[str, RunFacts] = {}
        self._row_facts: dict[str, RunFacts] = {}
        #: bumped on every change (a view re-renders when it moved)
        self.version = 0
        self._cache: tuple[int, dict[str, list[Symptom]]] = (-1, {})

    def note_rows(self, rows: Iterable[RunSummary]) -> None:
        """The roots of runs-list rows (the other side of the child-action rule)."""
        changed = False
        for row in rows:
            op = row.operationId or row.runId
            facts = facts_of_row(row)
            if self._row_facts.get(op) != facts:
                self._row_facts[op] = facts
                changed = True
        if changed:
            self.version += 1

    def note(
        self,
        operation_id: str,
        revision: int,
        local: list[Symptom],
        facts: RunFacts,
        *,
        at: float,
        settled: bool,
    ) -> None:
        """What :func:`analyse` found in the operation's RunDetail read at ``revision``."""
        self._entries[operation_id] = _Entry(revision, at, tuple(local), settled)
        self._facts[operation_id] = facts
        self.version += 1

    def is_current(self, operation_id: str, revision: int, now: float, *, every: float) -> bool:
        """Whether reading the operation again would tell nothing new: it was read at this
        revision, or it still runs and was read less than ``every`` seconds ago."""
        entry = self._entries.get(operation_id)
        if entry is None:
            return False
        if entry.revision == revision:
            return True
        return not entry.settled and now - entry.at < every

    def symptoms(self, operation_id: str) -> list[Symptom] | None:
        """The operation's symptoms, ``None`` when its RunDetail was never analysed."""
        return self._all().get(operation_id)

    def count(self, operation_id: str) -> int | None:
        found = self.symptoms(operation_id)
        return None if found is None else len(found)

    def _all(self) -> dict[str, list[Symptom]]:
        version, cached = self._cache
        if version == self.version:
            return cached
        known = [*self._facts.values()]
        known += [f for op, f in self._row_facts.items() if op not in self._facts]
        out = {
            op: ordered([*separate_child_runs(self._facts[op], known), *entry.local])
            for op, entry in self._entries.items()
        }
        self._cache = (self.version, out)
        return out
