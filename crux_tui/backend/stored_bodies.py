"""Projected RunDetail bodies of settled operations, kept with the records in a file database.

The in-memory :class:`~crux_tui.backend.detail_cache.DetailCache` ends with the process: a
restarted ``serve --db FILE`` would project every settled run again on its first read (seconds
for a big one). So a settled body is also written to the store's ``stored_bodies`` table,
zlib-compressed (a 10k-span body of 29 MB takes about 3 MB), keyed like the cache (operation,
revision, trace-alias flag) and by a stamp of the code that projected it (another version's
body is never served). Any write to the operation drops its row in the same transaction.

Compressing and writing happen on one background thread (:class:`BodyKeeper`), never on the
request path or the event loop; :meth:`BodyKeeper.close` drains what is queued.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from crux_tui import __version__
from crux_tui.backend.detail_cache import DetailBody
from crux_tui.backend.store import Store, StoredBody, StoreError

log = logging.getLogger(__name__)

#: zlib level: 3 compresses a RunDetail about tenfold at a fraction of level 6's time.
LEVEL = 3
#: Bytes of bodies waiting to be written at most; beyond, a body is not kept (it is
#: projected again after a restart, nothing worse).
MAX_PENDING_BYTES = 512 * 1024 * 1024
#: The packages whose code decides what a RunDetail body holds.
_STAMPED = ("backend", "contract")


@cache
def code_stamp() -> str:
    """A stamp of the code that projects and encodes RunDetails: the version and a hash of
    the sources of the backend and the contract (a body projected by other code is not
    served, even within one version while developing)."""
    digest = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parent.parent
    for package in _STAMPED:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"?")
    return f"{__version__}+{digest.hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class _Job:
    operation: str
    revision: int
    alias_conflict: bool
    body: DetailBody


class BodyKeeper:
    """Writes settled RunDetail bodies to a file store from a background thread and reads
    them back. For an in-memory store it does nothing (:attr:`active` is false)."""

    def __init__(self, store: Store, stamp: str | None = None) -> None:
        self.store = store
        self.stamp = stamp if stamp is not None else code_stamp()
        self.active = store.keeps_bodies
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending_bytes = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._swept = False
        #: bodies written (for tests and benchmarks)
        self.written = 0

    def load(self, operation: str, revision: int, alias_conflict: bool) -> StoredBody | None:
        """The stored body of ``operation`` at this revision and alias flag, else ``None``."""
        if not self.active:
            return None
        try:
            return self.store.stored_body(operation, revision, alias_conflict, self.stamp)
        except StoreError:
            return None

    @staticmethod
    def expand(stored: StoredBody) -> bytes | None:
        """The served bytes of a stored body (``None`` if it does not decompress whole)."""
        try:
            data = zlib.decompress(stored.compressed)
        except zlib.error:
            return None
        return data if len(data) == stored.length else None

    def submit(self, operation: str, revision: int, alias_conflict: bool, body: DetailBody) -> None:
        """Queue ``body`` to be kept (compressed and written on the keeper's thread)."""
        if not self.active:
            return
        with self._lock:
            if self._closed or self._pending_bytes + body.length > MAX_PENDING_BYTES:
                return
            self._pending_bytes += body.length
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="crux-body-keeper", daemon=True
                )
                self._thread.start()
        self._queue.put(_Job(operation, revision, alias_conflict, body))

    def close(self, timeout: float | None = 60.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._keep(job)
            except Exception:  # a body not kept is projected again later, nothing worse
                log.debug("keeping the RunDetail of %s failed", job.operation, exc_info=True)
            finally:
                with self._lock:
                    self._pending_bytes -= job.body.length

    def _keep(self, job: _Job) -> None:
        if not self._swept:  # bodies of another version of the code are dead weight
            self._swept = True
            self.store.drop_stored_bodies(except_stamp=self.stamp)
        packer = zlib.compressobj(LEVEL)
        parts = [packer.compress(chunk) for chunk in job.body.chunks()]
        parts.append(packer.flush())
        stored = StoredBody(b"".join(parts), job.body.length, job.body.head_length, job.body.status)
        if self.store.keep_body(
            job.operation, job.revision, job.alias_conflict, self.stamp, stored
        ):
            self.written += 1
