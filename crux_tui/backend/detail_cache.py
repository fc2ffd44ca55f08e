"""Encoded RunDetail bodies of settled runs, reused until the run's revision moves.

A RunDetail is a pure function of the run's records and the clock. For a run whose
projection no longer depends on the clock (see ``projection.settled``), the only thing
that can change it is a new record, and every accepted record bumps the run's revision.
So the encoded body is kept per run reference and served again while the revision (and
the trace-alias flag, which depends on *other* runs) is unchanged. Bounded by bytes, least
recently used first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: int
    alias_conflict: bool
    body: bytes


class DetailCache:
    """A thread-safe LRU of encoded RunDetail bodies keyed by run reference."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _current(self, ref: str, revision: int, alias_conflict: bool) -> _Entry | None:
        entry = self._entries.get(ref)
        if entry is None or (entry.revision, entry.alias_conflict) != (revision, alias_conflict):
            return None
        return entry

    def get(self, ref: str, revision: int, alias_conflict: bool) -> bytes | None:
        """The cached body for ``ref`` at exactly this revision, else ``None``."""
        with self._lock:
            entry = self._current(ref, revision, alias_conflict)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(ref)
            self.hits += 1
            return entry.body

    def holds(self, ref: str, revision: int, alias_conflict: bool) -> bool:
        """Whether :meth:`get` would hit (without counting, or refreshing recency)."""
        with self._lock:
            return self._current(ref, revision, alias_conflict) is not None

    def put(self, ref: str, revision: int, alias_conflict: bool, body: bytes) -> None:
        """Keep ``body``; bodies larger than the whole budget are not kept."""
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(ref, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[ref] = _Entry(revision, alias_conflict, body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def clear(self) -> None:
        """Forget every body."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        """Bytes currently held."""
        return self._bytes
