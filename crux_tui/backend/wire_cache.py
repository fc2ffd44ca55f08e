"""Decoded records of recently read runs, so reading a run again decodes only what is new.

Reading a run's graph means fetching and decoding every record it has; a live run is read
again after every batch. Records only ever arrive (``seq`` grows, nothing is deleted), so
for each run we keep ``(last seq read, decoded projected records in arrival order)`` and
the next read fetches ``seq > last`` only (a deleted run is dropped: :meth:`WireCache.drop`). Bounded by records held, least recently read
run out first; a run bigger than the whole budget is never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from crux_tui.backend.wire import WireRecord

#: About 15k spans' worth of records (four records a span).
DEFAULT_BUDGET = 60_000


class WireCache:
    """Thread-safe LRU of ``run_id -> (last seq, records)``; the record tuples are shared, never
    mutated."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._runs: OrderedDict[str, tuple[int, tuple[WireRecord, ...]]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, run_id: str) -> tuple[int, tuple[WireRecord, ...]]:
        """``(last seq, records)`` kept for ``run_id``, or ``(0, ())``."""
        with self._lock:
            entry = self._runs.get(run_id)
            if entry is None:
                return 0, ()
            self._runs.move_to_end(run_id)
            return entry

    def put(self, run_id: str, last_seq: int, records: tuple[WireRecord, ...]) -> None:
        """Keep ``records`` (everything up to ``last_seq``) unless an entry is already ahead."""
        with self._lock:
            old = self._runs.get(run_id)
            if old is not None:
                if old[0] >= last_seq:
                    return  # a concurrent read got further
                self._held -= len(old[1])
                del self._runs[run_id]
            if len(records) > self.budget:
                return
            self._runs[run_id] = (last_seq, records)
            self._held += len(records)
            while self._held > self.budget:
                _, (_, evicted) = self._runs.popitem(last=False)
                self._held -= len(evicted)

    def drop(self, run_id: str) -> None:
        """Forget ``run_id`` (its records were deleted)."""
        with self._lock:
            old = self._runs.pop(run_id, None)
            if old is not None:
                self._held -= len(old[1])

    @property
    def held(self) -> int:
        """Records currently kept."""
        return self._held
