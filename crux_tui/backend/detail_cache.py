"""Encoded RunDetail bodies of settled runs, reused until the run's revision moves.

A RunDetail is a pure function of the run's records and the clock. For a run whose
projection no longer depends on the clock (see ``projection.settled``), the only thing
that can change it is a new record, and every accepted record bumps the run's revision.
So the encoded body is kept per operation and served again while the operation's revision
(and the trace-alias flag, which depends on *other* runs) is unchanged.

Small bodies stay in memory; big ones (a 50k-span run is about 120 MB) are written to an
anonymous temporary file and streamed from it, so a projected big run costs disk, not
the process's memory. Each tier is bounded by bytes, least recently used first out.

:meth:`DetailCache.once` makes concurrent projections of the same revision share one
result (the background warmer and a reader that opens the run meanwhile).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO

#: Bodies from this size on are kept on disk rather than in memory.
SPILL_BYTES = 8 * 1024 * 1024
#: Chunk size when streaming a body from disk.
CHUNK_BYTES = 1024 * 1024


class DetailBody:
    """An encoded RunDetail and where its head (see ``RunDetailHead``) ends."""

    __slots__ = ("_data", "_file", "head_length", "length", "status")

    def __init__(
        self,
        data: bytes | bytearray,
        head_length: int,
        *,
        spill: bool = False,
        spill_dir: str | None = None,
    ) -> None:
        self.head_length = head_length
        self.length = len(data)
        #: the run's presented status in this body (set by whoever projected it)
        self.status = ""
        self._file: IO[bytes] | None = None
        self._data: bytes | None = None
        if spill:
            try:
                # unnamed and deleted when closed: the object's lifetime is the file's
                self._file = tempfile.TemporaryFile(  # noqa: SIM115
                    prefix="crux-tui-detail-", dir=spill_dir
                )
                self._file.write(data)
                self._file.flush()
                return
            except OSError:  # no usable temporary directory, or it is full: keep it here
                if self._file is not None:
                    self._file.close()
                    self._file = None
        self._data = bytes(data)

    @property
    def in_memory(self) -> bytes | None:
        """The bytes when held in memory, else ``None`` (stream :meth:`chunks`)."""
        return self._data

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The body in pieces (positional reads: concurrent readers do not interfere)."""
        if self._data is not None:
            yield self._data
            return
        assert self._file is not None
        fd, offset = self._file.fileno(), 0
        while offset < self.length:
            piece = os.pread(fd, min(size, self.length - offset), offset)
            if not piece:
                raise OSError("cached RunDetail body ended early")
            offset += len(piece)
            yield piece

    def read(self) -> bytes:
        """The whole body."""
        return self._data if self._data is not None else b"".join(self.chunks())


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: int
    alias_conflict: bool
    body: DetailBody


class _Tier:
    """An LRU of entries bounded by the bytes of their bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.bytes = 0

    def pop(self, ref: str) -> None:
        old = self.entries.pop(ref, None)
        if old is not None:
            self.bytes -= old.body.length

    def put(self, ref: str, entry: _Entry) -> None:
        self.pop(ref)
        self.entries[ref] = entry
        self.bytes += entry.body.length
        while self.bytes > self.max_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.bytes -= evicted.body.length  # a reader still streaming it keeps the file

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0


class DetailCache:
    """A thread-safe cache of encoded RunDetail bodies keyed by run reference."""

    def __init__(
        self,
        max_bytes: int = 64 * 1024 * 1024,
        *,
        max_disk_bytes: int = 2 * 1024 * 1024 * 1024,
        spill_bytes: int = SPILL_BYTES,
        spill_dir: str | None = None,
    ) -> None:
        self.spill_bytes = spill_bytes
        self.spill_dir = spill_dir
        self._memory = _Tier(max_bytes)
        self._disk = _Tier(max_disk_bytes)
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, int, bool], Future[DetailBody | None]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def max_bytes(self) -> int:
        """Budget of the in-memory tier."""
        return self._memory.max_bytes

    def _current(
        self, ref: str, revision: int, alias_conflict: bool
    ) -> tuple[_Tier, _Entry] | None:
        for tier in (self._memory, self._disk):
            entry = tier.entries.get(ref)
            if entry is not None and (entry.revision, entry.alias_conflict) == (
                revision,
                alias_conflict,
            ):
                return tier, entry
        return None

    def get(self, ref: str, revision: int, alias_conflict: bool) -> DetailBody | None:
        """The cached body for ``ref`` at exactly this revision, else ``None``."""
        with self._lock:
            found = self._current(ref, revision, alias_conflict)
            if found is None:
                self.misses += 1
                return None
            tier, entry = found
            tier.entries.move_to_end(ref)
            self.hits += 1
            return entry.body

    def holds(self, ref: str, revision: int, alias_conflict: bool) -> bool:
        """Whether :meth:`get` would hit (without counting, or refreshing recency)."""
        with self._lock:
            return self._current(ref, revision, alias_conflict) is not None

    def body(self, data: bytes | bytearray, head_length: int) -> DetailBody:
        """Wrap freshly encoded bytes the way this cache would keep them (memory or disk)."""
        spill = len(data) >= self.spill_bytes
        return DetailBody(data, head_length, spill=spill, spill_dir=self.spill_dir)

    def put(self, ref: str, revision: int, alias_conflict: bool, body: DetailBody) -> None:
        """Keep ``body``; bodies larger than their tier's whole budget are not kept."""
        tier = self._memory if body.in_memory is not None else self._disk
        if body.length > tier.max_bytes:
            return
        with self._lock:
            self._memory.pop(ref)
            self._disk.pop(ref)
            tier.put(ref, _Entry(revision, alias_conflict, body))

    def once(
        self, key: tuple[str, int, bool], compute: Callable[[], DetailBody | None]
    ) -> DetailBody | None:
        """``compute()``, unless the same key is being computed: then wait for that result."""
        with self._lock:
            pending = self._inflight.get(key)
            if pending is None:
                mine: Future[DetailBody | None] = Future()
                self._inflight[key] = mine
        if pending is not None:
            return pending.result()
        try:
            result = compute()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            mine.set_result(result)
            return result
        finally:
            with self._lock:
                del self._inflight[key]

    def forget(self, refs: list[str]) -> None:
        """Forget the bodies of ``refs`` (deleted operations)."""
        with self._lock:
            for ref in refs:
                self._memory.pop(ref)
                self._disk.pop(ref)

    def clear(self) -> None:
        """Forget every body."""
        with self._lock:
            self._memory.clear()
            self._disk.clear()

    @property
    def size_bytes(self) -> int:
        """Bytes currently held (memory and disk)."""
        return self._memory.bytes + self._disk.bytes

    @property
    def memory_bytes(self) -> int:
        """Bytes held in memory."""
        return self._memory.bytes
