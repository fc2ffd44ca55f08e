"""SQLite store of canonical records (stdlib ``sqlite3``, WAL), read as operations.

Records are stored raw (payload JSON, each in its own schema version) and idempotently by
``recordId``. Every run belongs to one operation, fixed by its first record (crux-v5.md
B.1): ``runs`` keeps each member run's rolled-up summary (:mod:`crux_tui.backend.rollup`)
and its ``run:start`` links; ``operations`` keeps the list row of each operation
(:mod:`crux_tui.backend.operations`), ordered by when it was first seen. Every committed
change to an operation gets a new global revision; the ``changes`` table (operation ids)
is the change log behind ``/runs/delta``. Deleting an operation leaves a tombstone:
later records for it are refused.

One writer connection guarded by a lock; file databases also read through a bounded pool
of reader connections (:data:`READER_POOL_SIZE`), each lent to one query at a time and
closed with the store, so bursts of reads from short-lived worker threads cannot pile up
file descriptors. Transient SQLite errors surface as :class:`TransientStoreError`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from crux_tui.backend.assembly.graph import assemble_graph, event_summary
from crux_tui.backend.assembly.members import member_graph
from crux_tui.backend.ingest import (
    OPERATION_DELETED,
    OPERATION_IDENTITY_CONFLICT,
    RECORD_ID_CONFLICT,
    validate_record,
    without_unapplied_privacy,
)
from crux_tui.backend.operations import StoredMember, operation_row
from crux_tui.backend.projection.operation import OperationGraph
from crux_tui.backend.projection.topology import MemberLink, operation_topology
from crux_tui.backend.rollup import RunState, delivery_health, operation_id_of, rebuild_state
from crux_tui.backend.timeutil import format_ts, sort_key
from crux_tui.backend.wire import PROJECTED_TYPES, WireRecord, decode_payloads, earliest_key
from crux_tui.backend.wire_cache import WireCache
from crux_tui.contract.models import (
    Graph,
    IngestDisposition,
    RunChange,
    RunsDelta,
    RunsPage,
    RunSummary,
    SpanEventSummary,
    StoredRecord,
)
from crux_tui.contract.tolerant import MAX_DEPTH, TRUNCATED, limit_depth
from crux_tui.perf import no_gc

CHANGE_LOG_RETENTION = 5000
DEFAULT_PAGE_LIMIT = 250
MAX_PAGE_LIMIT = 1000
STATE_CACHE_SIZE = 4096
#: Reader connections a file store keeps open at most (a query waits for a free one).
READER_POOL_SIZE = 4
#: Page size of an in-memory database. Committing a transaction costs time in proportion
#: to the pages the database holds (at 100k spans, 4 KiB pages: 2.3 ms a 50-record batch,
#: 16 KiB: 0.6 ms). A file database keeps SQLite's 4 KiB: its commits write whole pages
#: to the log, and random record ids touch about one index page a record.
MEMORY_PAGE_SIZE = 16384
#: Pages a file database's write-ahead log grows to before it is copied back (SQLite's
#: default is 1,000): an index page touched by many batches is written back once, not
#: once per thousand pages, and the log is synced less often.
WAL_CHECKPOINT_PAGES = 10_000
#: Bytes the log file is cut back to after a checkpoint.
WAL_SIZE_LIMIT = 64 * 1024 * 1024
#: ``PRAGMA user_version`` of the current layout (2: operations). An older database is
#: upgraded on open by rebuilding runs and operations from its records.
STORE_FORMAT = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL,
    trace_id TEXT NOT NULL DEFAULT '',
    segment_id TEXT NOT NULL DEFAULT '',
    segment_seq INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL,
    span_id TEXT,
    event_name TEXT,
    event_key TEXT,
    event_id TEXT,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_run ON records(run_id, seq);
CREATE INDEX IF NOT EXISTS records_span_events ON records(run_id, span_id, event_key)
    WHERE type = 'span:event';
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    parent_run_id TEXT NOT NULL DEFAULT '',
    triggered_by_span_id TEXT NOT NULL DEFAULT '',
    has_start INTEGER NOT NULL DEFAULT 0,
    trace_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    started_key TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    stored_status TEXT NOT NULL,
    lifecycle_status TEXT,
    last_activity_key TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_operation ON runs(operation_id, started_key, run_id);
CREATE INDEX IF NOT EXISTS runs_trace ON runs(trace_id);
CREATE TABLE IF NOT EXISTS operations (
    operation_id TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL,
    status TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_seen ON operations(first_seen DESC, operation_id DESC);
CREATE TABLE IF NOT EXISTS tombstones (
    operation_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    deleted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (revision INTEGER PRIMARY KEY, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stored_bodies (
    operation_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    alias_conflict INTEGER NOT NULL,
    stamp TEXT NOT NULL,
    head_length INTEGER NOT NULL,
    status TEXT NOT NULL,
    length INTEGER NOT NULL,
    body BLOB NOT NULL
);
"""

_SUMMARY_ENCODER = msgspec.json.Encoder()
_SUMMARY_DECODER = msgspec.json.Decoder(RunSummary)
_MEMBER_COLUMNS = (
    "run_id, parent_run_id, triggered_by_span_id, has_start, lifecycle_status, summary"
)
#: Members in RunDetail order: the root first, then by start time and run id.
_MEMBER_ORDER = "ORDER BY run_id = ? DESC, started_key, run_id"


class StoreError(Exception):
    """Base class of store errors."""


class TransientStoreError(StoreError):
    """SQLite was busy/locked; the caller may retry (HTTP 503 + Retry-After)."""


class InvalidQuery(StoreError):
    """A malformed query parameter (bad cursor, bad timestamp)."""


@dataclass
class OperationChange:
    """One operation changed by a committed write."""

    operationId: str
    traceId: str
    revision: int
    runIds: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    """Outcome of :meth:`Store.ingest_batch`."""

    dispositions: list[IngestDisposition]
    changes: list[OperationChange] = field(default_factory=list)
    revision: int = 0


@dataclass(frozen=True, slots=True)
class StoredBody:
    """A projected RunDetail body kept in a file database (see :meth:`Store.keep_body`)."""

    compressed: bytes
    length: int
    head_length: int
    status: str


@dataclass(slots=True)
class _Pending:
    """An accepted record on its way in, with every disposition that names it."""

    record: dict[str, Any]
    wire: WireRecord | None
    run_id: str
    operation: str
    dispositions: list[IngestDisposition]


def default_db_path() -> Path:
    """The default database file in the user's data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir("crux-tui", appauthor=False)) / "devtools.sqlite3"


def _is_transient(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in text or "busy" in text or "closed" in text
    )


def encode_cursor(first_seen_at: str, operation_id: str) -> str:
    """Opaque page cursor for the last row of a page: base64url (no padding) of
    ``firstSeenAt + "\\x00" + operationId``, as Crux writes it."""
    raw = f"{first_seen_at}\x00{operation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Inverse of :func:`encode_cursor`; raises :class:`InvalidQuery`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, binascii.Error) as exc:
        raise InvalidQuery("invalid cursor") from exc
    first_seen, sep, operation_id = text.partition("\x00")
    key = sort_key(first_seen)
    if not sep or not key or not operation_id:
        raise InvalidQuery("invalid cursor")
    return key, operation_id


def _reject(pending: _Pending, code: str, message: str, rejected_by_run: dict[str, int]) -> None:
    """Turn every disposition of ``pending`` into a non-retryable rejection."""
    for d in pending.dispositions:
        d.outcome, d.code, d.message, d.retryable = "rejected", code, message, False
        rejected_by_run[pending.run_id] = rejected_by_run.get(pending.run_id, 0) + 1


def _same_record(stored: str, record: dict[str, Any]) -> bool:
    """Whether a stored payload says the same as ``record`` (key order aside)."""
    if stored == msgspec.json.encode(record).decode():
        return True
    try:
        return msgspec.json.decode(stored) == record
    except msgspec.DecodeError:
        return False


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    """Keep ``key`` in a small LRU (as many entries as the run states)."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > STATE_CACHE_SIZE:
        cache.popitem(last=False)


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Store:
    """The record store. Thread-safe; use :meth:`close` when done."""

    def __init__(self, path: str | Path = ":memory:", *, busy_timeout_ms: int = 5000) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        if not self.memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._busy_ms = busy_timeout_ms
        self._lock = threading.RLock()
        self._pool = threading.Condition(threading.Lock())
        self._idle_readers: list[sqlite3.Connection] = []
        self._open_readers = 0
        self._states: OrderedDict[str, RunState] = OrderedDict()
        #: operation id -> firstSeenAt / member run ids, for operations written lately (LRU)
        self._first_seen_at: OrderedDict[str, str] = OrderedDict()
        self._members: OrderedDict[str, set[str]] = OrderedDict()
        self._wire_cache = WireCache()
        self._closed = False
        self._conn = self._connect()
        with self._lock:
            conn = self._conn
            upgrade = self._drop_old_layout(conn)
            if self.memory:  # before the first table: the page size is fixed from then on
                conn.execute(f"PRAGMA page_size = {MEMORY_PAGE_SIZE}")
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('revision', 0)")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('pruned', 0)")
            if upgrade:
                self._rebuild(conn)
            conn.execute(f"PRAGMA user_version = {STORE_FORMAT}")
            conn.commit()
            #: deleted operations (few; checked for every record that arrives)
            self._deleted = {r[0] for r in conn.execute("SELECT operation_id FROM tombstones")}

    @staticmethod
    def _drop_old_layout(conn: sqlite3.Connection) -> bool:
        """Drop the run tables of a database written before operations existed; returns
        whether they must be rebuilt from its records."""
        if conn.execute("PRAGMA user_version").fetchone()[0] >= STORE_FORMAT:
            return False
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        if not columns or "operation_id" in columns:
            return False
        conn.executescript("DROP TABLE runs; DROP TABLE IF EXISTS changes;")
        return True

    def _rebuild(self, conn: sqlite3.Connection) -> None:
        """Roll every stored run up again and group the runs into operations (one revision
        each); the change log restarts, so older delta cursors read as expired."""
        conn.execute("BEGIN IMMEDIATE")
        runs = [
            r[0]
            for r in conn.execute("SELECT run_id FROM records GROUP BY run_id ORDER BY MIN(seq)")
        ]
        by_operation: dict[str, list[RunState]] = {}
        for run in runs:
            state = self._state(run, conn, "")
            by_operation.setdefault(state.operation_id or run, []).append(state)
        revision = self._revision(conn)
        for operation, states in by_operation.items():
            revision += 1
            for state in states:
                self._write_run(conn, state, revision, lifecycle=None)
            keys = [sort_key(s.start) for s in states if s.start]
            first_seen = min(keys, default="") or sort_key(format_ts(datetime.now(UTC)))
            self._write_operation(conn, operation, revision, first_seen)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (revision,))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'pruned'", (revision,))
        conn.execute("COMMIT")

    @property
    def write_lock(self) -> threading.RLock:
        """The lock every commit holds (reentrant): hold it to publish a commit's revisions
        before any later commit can take the next ones (events leave in revision order)."""
        return self._lock

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=self._busy_ms / 1000
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_ms)}")
        if not self.memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        return conn

    def _borrow_reader(self) -> sqlite3.Connection:
        """A reader connection from the pool, opened when none is idle and the pool is not
        full; otherwise waits for one to be given back."""
        with self._pool:
            while not self._idle_readers and self._open_readers >= READER_POOL_SIZE:
                if self._closed:
                    raise TransientStoreError("store is closed")
                self._pool.wait()
            if self._closed:
                raise TransientStoreError("store is closed")
            if self._idle_readers:
                return self._idle_readers.pop()
            self._open_readers += 1
        try:
            return self._connect()
        except BaseException:
            with self._pool:
                self._open_readers -= 1
                self._pool.notify()
            raise

    def _return_reader(self, conn: sqlite3.Connection) -> None:
        with self._pool:
            if self._closed:
                self._open_readers -= 1
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            else:
                self._idle_readers.append(conn)
            self._pool.notify()

    def open_reader_count(self) -> int:
        """Reader connections open now (idle or lent)."""
        with self._pool:
            return self._open_readers

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        if self._closed:
            raise TransientStoreError("store is closed")
        try:
            if self.memory:
                with self._lock:
                    return self._conn.execute(sql, tuple(params)).fetchall()
            conn = self._borrow_reader()
            try:
                return conn.execute(sql, tuple(params)).fetchall()
            finally:
                self._return_reader(conn)
        except sqlite3.Error as exc:
            if _is_transient(exc):
                raise TransientStoreError(str(exc)) from exc
            raise

    def close(self) -> None:
        """Close every connection."""
        with self._lock, self._pool:
            self._closed = True
            for conn in [self._conn, *self._idle_readers]:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._open_readers -= len(self._idle_readers)
            self._idle_readers.clear()
            self._pool.notify_all()  # lent readers are closed when given back

    # -- ingest ------------------------------------------------------------------------

    def ingest_batch(
        self,
        records: list[Any],
        source_health: dict[str, Any] | None = None,
        *,
        now: datetime | None = None,
        version: int | None = None,
    ) -> IngestResult:
        """Validate and store one batch; valid records commit even when siblings fail.

        ``version`` is the batch's ``schemaVersion`` (every record must carry it); without
        it each record is taken in its own supported version.
        """
        dispositions: list[IngestDisposition] = []
        accepted: dict[str, _Pending] = {}
        rejected_by_run: dict[str, int] = {}
        for index, record in enumerate(records):
            record, cut = limit_depth(record)
            disposition, wire = validate_record(index, record, version)
            dispositions.append(disposition)
            if disposition.outcome != "accepted":
                if isinstance(record, dict) and isinstance(record.get("runId"), str):
                    run = record["runId"]
                    rejected_by_run[run] = rejected_by_run.get(run, 0) + 1
                continue
            if cut:
                disposition.message = (
                    f"{cut} value{'s' if cut != 1 else ''} nested deeper than {MAX_DEPTH}"
                    f" levels replaced by {TRUNCATED!r}"
                )
            if "privacy" in record:
                record = without_unapplied_privacy(record)
            pending = accepted.get(disposition.recordId)
            if pending is None:
                operation = operation_id_of(
                    record["schemaVersion"], record.get("operationId"), record["runId"]
                )
                accepted[disposition.recordId] = _Pending(
                    record, wire, record["runId"], operation, [disposition]
                )
            elif pending.record == record:
                pending.dispositions.append(disposition)  # an identical repeat: idempotent
            else:
                conflict = _Pending(record, wire, record["runId"], "", [disposition])
                _reject(conflict, RECORD_ID_CONFLICT, _RECORD_ID_MESSAGE, rejected_by_run)
        if not accepted:
            return IngestResult(dispositions, [], self.revision())
        received = format_ts(now or datetime.now(UTC))
        try:
            changes, revision = self._commit(accepted, source_health, rejected_by_run, received)
        except sqlite3.Error as exc:
            if _is_transient(exc):
                for d in dispositions:
                    if d.outcome == "accepted":
                        d.outcome, d.code, d.retryable = "rejected", "storage_unavailable", True
                        d.message = "storage temporarily unavailable"
                raise TransientStoreError(str(exc)) from exc
            raise
        return IngestResult(dispositions, changes, revision)

    def _commit(
        self,
        accepted: dict[str, _Pending],
        source_health: dict[str, Any] | None,
        rejected_by_run: dict[str, int],
        received: str,
    ) -> tuple[list[OperationChange], int]:
        with self._lock:
            if self._closed:
                raise sqlite3.OperationalError("database is closed")
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                return self._commit_locked(conn, accepted, source_health, rejected_by_run, received)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _admit(
        self,
        conn: sqlite3.Connection,
        accepted: dict[str, _Pending],
        rejected_by_run: dict[str, int],
    ) -> tuple[list[_Pending], dict[str, str]]:
        """The records to store, after the rules that need stored state: a repeated
        ``recordId`` (identical: already stored; different: rejected), a deleted
        operation, a run that belongs to another operation. Returns them and the
        operation of every run they touch."""
        stored: dict[str, str] = {}
        for chunk in _chunks(list(accepted)):
            marks = ",".join("?" * len(chunk))
            stored.update(
                conn.execute(
                    f"SELECT record_id, payload FROM records WHERE record_id IN ({marks})", chunk
                ).fetchall()
            )
        fresh: list[_Pending] = []
        for rid, pending in accepted.items():
            payload = stored.get(rid)
            if payload is None:
                fresh.append(pending)
            elif not _same_record(payload, pending.record):
                _reject(pending, RECORD_ID_CONFLICT, _RECORD_ID_MESSAGE, rejected_by_run)
        if not fresh:
            return [], {}
        owners: dict[str, str] = {}
        unknown: list[str] = []
        for run in {p.run_id for p in fresh}:
            state = self._states.get(run)
            if state is not None and state.operation_id:
                owners[run] = state.operation_id
            else:
                unknown.append(run)
        owners.update(self._operations_of(conn, unknown))
        kept: list[_Pending] = []
        for pending in fresh:
            if pending.operation in self._deleted:
                message = f"operation {pending.operation} was deleted"
                _reject(pending, OPERATION_DELETED, message, rejected_by_run)
                continue
            owner = owners.setdefault(pending.run_id, pending.operation)
            if owner != pending.operation:
                message = (
                    f"run {pending.run_id} belongs to operation {owner}, not {pending.operation}"
                )
                _reject(pending, OPERATION_IDENTITY_CONFLICT, message, rejected_by_run)
                continue
            kept.append(pending)
        return kept, owners

    @staticmethod
    def _operations_of(conn: sqlite3.Connection, runs: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(runs):
            marks = ",".join("?" * len(chunk))
            out.update(
                conn.execute(
                    f"SELECT run_id, operation_id FROM runs WHERE run_id IN ({marks})", chunk
                ).fetchall()
            )
        return out

    def _commit_locked(
        self,
        conn: sqlite3.Connection,
        accepted: dict[str, _Pending],
        source_health: dict[str, Any] | None,
        rejected_by_run: dict[str, int],
        received: str,
    ) -> tuple[list[OperationChange], int]:
        kept, owners = self._admit(conn, accepted, rejected_by_run)
        if not kept:
            conn.execute("COMMIT")
            return [], self._revision(conn)
        runs_of: dict[str, list[str]] = {}
        for pending in kept:
            runs = runs_of.setdefault(pending.operation, [])
            if pending.run_id not in runs:
                runs.append(pending.run_id)
        try:
            states = {
                run: self._state(run, conn, owners[run])
                for runs in runs_of.values()
                for run in runs
            }
            known = self._first_seen(conn, list(runs_of))
            rows = []
            earliest: dict[str, str] = {}
            for p in kept:
                rec, wire = p.record, p.wire
                state = states[p.run_id]
                state.apply_raw(rec["segmentId"], rec["segmentSeq"])
                span_id = event_name = event_key = event_id = None
                if wire is not None:
                    state.apply(wire)
                    span_id = wire.spanId
                    if wire.type == "span:event":
                        event_name, event_id = wire.name, wire.eventId
                        event_key = sort_key(wire.timestamp)
                    if p.operation not in known:  # a new operation: when was it first seen?
                        key = earliest_key(wire)
                        if key and key < earliest.get(p.operation, "\uffff"):
                            earliest[p.operation] = key
                trace = rec.get("traceId")
                rows.append(
                    (
                        rec["recordId"],
                        p.run_id,
                        trace if isinstance(trace, str) else "",
                        rec["segmentId"],
                        rec["segmentSeq"],
                        rec["type"],
                        span_id,
                        event_name,
                        event_key,
                        event_id,
                        msgspec.json.encode(rec).decode(),
                        received,
                    )
                )
            conn.executemany(
                "INSERT OR IGNORE INTO records (record_id, run_id, trace_id, segment_id,"
                " segment_seq, type, span_id, event_name, event_key, event_id, payload,"
                " received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            revision = self._revision(conn)
            changes: list[OperationChange] = []
            for operation, runs in runs_of.items():
                revision += 1
                written: dict[str, tuple[RunState, RunSummary]] = {}
                for run in runs:
                    state = states[run]
                    if source_health is not None or rejected_by_run.get(run):
                        state.health = delivery_health(
                            source_health, rejected_by_run.get(run, 0), received
                        )
                    written[run] = state, self._write_run(conn, state, revision, lifecycle=None)
                first_seen = known.get(operation) or earliest.get(operation) or sort_key(received)
                row = self._write_operation(conn, operation, revision, first_seen, written)
                trace = row.traceId if row is not None else ""
                trace = trace or next((states[r].trace_id for r in runs if states[r].trace_id), "")
                changes.append(OperationChange(operation, trace, revision, list(runs)))
            self._finish_revision(conn, revision)
            conn.execute("COMMIT")
        except BaseException:  # rolled back: forget what was rolled up for it
            for operation, runs in runs_of.items():
                self._first_seen_at.pop(operation, None)
                self._members.pop(operation, None)
                for run in runs:
                    self._states.pop(run, None)
            raise
        return changes, revision

    def _first_seen(self, conn: sqlite3.Connection, operations: list[str]) -> dict[str, str]:
        """``firstSeenAt`` of the stored operations among ``operations``."""
        out: dict[str, str] = {}
        missing: list[str] = []
        for operation in operations:
            known = self._first_seen_at.get(operation)
            if known is None:
                missing.append(operation)
            else:
                out[operation] = known
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            out.update(
                conn.execute(
                    f"SELECT operation_id, first_seen FROM operations"
                    f" WHERE operation_id IN ({marks})",
                    chunk,
                ).fetchall()
            )
        return out

    def _write_run(
        self, conn: sqlite3.Connection, state: RunState, revision: int, lifecycle: str | None
    ) -> RunSummary:
        summary = state.summary(revision)
        conn.execute(
            "INSERT INTO runs (run_id, operation_id, parent_run_id, triggered_by_span_id,"
            " has_start, trace_id, session_id, started_key, status, stored_status,"
            " lifecycle_status, last_activity_key, revision, summary)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET"
            " parent_run_id=excluded.parent_run_id,"
            " triggered_by_span_id=excluded.triggered_by_span_id, has_start=excluded.has_start,"
            " trace_id=excluded.trace_id, session_id=excluded.session_id,"
            " started_key=excluded.started_key, status=excluded.status,"
            " stored_status=excluded.stored_status, lifecycle_status=excluded.lifecycle_status,"
            " last_activity_key=excluded.last_activity_key, revision=excluded.revision,"
            " summary=excluded.summary",
            (
                state.run_id,
                state.operation_id or state.run_id,
                state.parent_run_id,
                state.triggered_by_span_id,
                int(state.has_start),
                state.trace_id,
                state.session_id,
                sort_key(state.start),
                lifecycle or summary.status,
                summary.status,
                lifecycle,
                state.last_activity_key,
                revision,
                _SUMMARY_ENCODER.encode(summary).decode(),
            ),
        )
        return summary

    def _write_operation(
        self,
        conn: sqlite3.Connection,
        operation: str,
        revision: int,
        first_seen: str | None = None,
        written: dict[str, tuple[RunState, RunSummary]] | None = None,
    ) -> RunSummary | None:
        """Recompute and store the list row of ``operation`` from its member runs, and log
        the change; returns the row (``None`` when the operation has no runs left).

        ``written``: member runs this transaction has just written (state and summary,
        no lifecycle status); when they are all the members, nothing is read back.
        """
        written = written or {}
        conn.execute("INSERT INTO changes (revision, run_id) VALUES (?, ?)", (revision, operation))
        if not self.memory:  # its stored RunDetail body is out of date (none in memory)
            conn.execute("DELETE FROM stored_bodies WHERE operation_id = ?", (operation,))
        known = self._members.get(operation)
        rows = []
        if known is None or not known <= written.keys():
            rows = conn.execute(
                f"SELECT {_MEMBER_COLUMNS} FROM runs WHERE operation_id = ? {_MEMBER_ORDER}",
                (operation, operation),
            ).fetchall()
            rows = [r for r in rows if r[0] not in written]
        if not rows and not written:
            conn.execute("DELETE FROM operations WHERE operation_id = ?", (operation,))
            self._first_seen_at.pop(operation, None)
            self._members.pop(operation, None)
            return None
        if first_seen is None:
            first_seen = self._first_seen(conn, [operation]).get(operation) or ""
        members: list[StoredMember] = []
        links: list[MemberLink] = []
        root_present = False
        for run_id, (state, summary) in written.items():
            members.append(StoredMember(summary, summary.status))
            links.append(
                MemberLink(run_id, state.parent_run_id, state.triggered_by_span_id, state.trace_id)
            )
            root_present = root_present or (run_id == operation and state.has_start)
        for run_id, parent, trigger, has_start, lifecycle, summary_json in rows:
            summary = _SUMMARY_DECODER.decode(summary_json)
            members.append(StoredMember(summary, lifecycle or summary.status))
            links.append(MemberLink(run_id, parent, trigger, summary.traceId))
            root_present = root_present or (run_id == operation and bool(has_start))
        health, _ = operation_topology(
            operation,
            root_present,
            links,
            lambda run, span: self._state(run, conn).has_span(span),
            lambda run: self._operations_of(conn, [run]).get(run),
        )
        row = operation_row(
            operation,
            members,
            first_seen_at=first_seen,
            revision=revision,
            topology_health=health,
        )
        _remember(self._first_seen_at, operation, first_seen)
        _remember(self._members, operation, {m.summary.runId for m in members})
        conn.execute(
            "INSERT INTO operations (operation_id, first_seen, status, session_id, revision,"
            " summary) VALUES (?,?,?,?,?,?) ON CONFLICT(operation_id) DO UPDATE SET"
            " first_seen=excluded.first_seen, status=excluded.status,"
            " session_id=excluded.session_id, revision=excluded.revision,"
            " summary=excluded.summary",
            (
                operation,
                first_seen,
                row.status,
                row.sessionId if row.rootPresent else "",
                revision,
                _SUMMARY_ENCODER.encode(row).decode(),
            ),
        )
        return row

    def _finish_revision(self, conn: sqlite3.Connection, revision: int) -> None:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (revision,))
        cutoff = revision - CHANGE_LOG_RETENTION
        if cutoff > 0:
            pruned = conn.execute("SELECT value FROM meta WHERE key = 'pruned'").fetchone()[0]
            if cutoff > pruned:
                conn.execute("DELETE FROM changes WHERE revision <= ?", (cutoff,))
                conn.execute("UPDATE meta SET value = ? WHERE key = 'pruned'", (cutoff,))

    @staticmethod
    def _revision(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    def _state(
        self, run_id: str, conn: sqlite3.Connection, operation_id: str | None = None
    ) -> RunState:
        """The cached roll-up state of a run, rebuilt from stored records on a miss.

        ``operation_id`` is the run's operation when the caller knows it; otherwise the
        stored one is looked up ("" lets the records say).
        """
        state = self._states.get(run_id)
        if state is not None:
            self._states.move_to_end(run_id)
            return state
        if operation_id is None:
            operation_id = self._operations_of(conn, [run_id]).get(run_id, "")
        rows = conn.execute(
            "SELECT type, segment_id, segment_seq, payload FROM records WHERE run_id = ?"
            " ORDER BY seq",
            (run_id,),
        ).fetchall()
        state = rebuild_state(run_id, operation_id, rows)
        self._states[run_id] = state
        while len(self._states) > STATE_CACHE_SIZE:
            self._states.popitem(last=False)
        return state

    # -- reads -------------------------------------------------------------------------

    def revision(self) -> int:
        """The current global revision."""
        return int(self._read("SELECT value FROM meta WHERE key = 'revision'")[0][0])

    def runs_page(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: Iterable[str] | None = None,
        session_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> RunsPage:
        """One page of operations (one row each), most recently first seen first.

        ``status`` filters on the row status; ``since``/``until`` bound ``firstSeenAt``;
        ``session_id`` matches the root run's session (crux-v5.md B.6).
        """
        size = DEFAULT_PAGE_LIMIT if not limit or limit <= 0 else min(limit, MAX_PAGE_LIMIT)
        where: list[str] = []
        params: list[Any] = []
        statuses = [s for s in (status or []) if s]
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if session_id:
            where.append("session_id = ?")
            params.append(session_id)
        for value, op in ((since, ">="), (until, "<=")):
            if value:
                key = sort_key(value)
                if not key:
                    raise InvalidQuery("invalid time bound")
                where.append(f"first_seen {op} ?")
                params.append(key)
        if cursor:
            first_seen, operation_id = decode_cursor(cursor)
            where.append("(first_seen < ? OR (first_seen = ? AND operation_id < ?))")
            params.extend([first_seen, first_seen, operation_id])
        sql = "SELECT summary, first_seen, operation_id FROM operations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY first_seen DESC, operation_id DESC LIMIT ?"
        params.append(size + 1)
        with self._lock if self.memory else contextlib.nullcontext():
            revision = self.revision()
            rows = self._read(sql, params)
        more = len(rows) > size
        rows = rows[:size]
        out = [_SUMMARY_DECODER.decode(summary_json) for summary_json, _, _ in rows]
        next_cursor = encode_cursor(rows[-1][1], rows[-1][2]) if more and rows else None
        return RunsPage(revision=revision, rows=out, nextCursor=next_cursor)

    def runs_delta(self, since: int) -> RunsDelta:
        """Operations changed after revision ``since`` (oldest first, one entry each)."""
        with self._lock if self.memory else contextlib.nullcontext():
            revision = self.revision()
            pruned = int(self._read("SELECT value FROM meta WHERE key = 'pruned'")[0][0])
            rows = self._read(
                "SELECT run_id, MAX(revision) AS rev FROM changes WHERE revision > ?"
                " GROUP BY run_id ORDER BY rev",
                (since,),
            )
        expired = since < pruned
        changes = [RunChange(entity="run", id=op, revision=rev) for op, rev in rows]
        return RunsDelta(revision=revision, changes=changes, expired=expired)

    def resolve_operation(self, ref: str, *, by_trace: bool = True) -> tuple[str, bool] | None:
        """``(operationId, traceAliasConflict)`` of a run id or operation id (crux-v5.md
        B.7), or, with ``by_trace``, of a trace id (the newest operation carrying it; the
        flag says several do)."""
        rows = self._read("SELECT operation_id FROM runs WHERE run_id = ?", (ref,))
        if rows:
            return rows[0][0], False
        if self._read("SELECT 1 FROM operations WHERE operation_id = ?", (ref,)):
            return ref, False
        if not by_trace:
            return None
        rows = self._read(
            "SELECT o.operation_id FROM operations o WHERE o.operation_id IN"
            " (SELECT operation_id FROM runs WHERE trace_id = ?)"
            " ORDER BY o.first_seen DESC, o.operation_id DESC",
            (ref,),
        )
        if not rows:
            return None
        return rows[0][0], len(rows) > 1

    def resolve_run(self, ref: str) -> tuple[str, bool] | None:
        """``(runId, traceAliasConflict)`` of a run id; of an operation id (its root run,
        else its earliest member); or of a trace id (its newest operation's run)."""
        if self._read("SELECT 1 FROM runs WHERE run_id = ?", (ref,)):
            return ref, False
        resolved = self.resolve_operation(ref)
        if resolved is None:
            return None
        operation, conflict = resolved
        rows = self._read(
            f"SELECT run_id FROM runs WHERE operation_id = ? {_MEMBER_ORDER} LIMIT 1",
            (operation, operation),
        )
        return (rows[0][0], conflict) if rows else None

    def operation_summary(self, ref: str) -> RunSummary | None:
        """The list row of the operation of a run, operation or trace id."""
        resolved = self.resolve_operation(ref)
        if resolved is None:
            return None
        operation, conflict = resolved
        rows = self._read("SELECT summary FROM operations WHERE operation_id = ?", (operation,))
        if not rows:
            return None
        summary = _SUMMARY_DECODER.decode(rows[0][0])
        summary.traceAliasConflict = conflict
        return summary

    def run_summary(self, ref: str) -> RunSummary | None:
        """The stored (canonical) summary of one member run (resolved as :meth:`resolve_run`)."""
        resolved = self.resolve_run(ref)
        return None if resolved is None else self._stored_summary(*resolved)

    def _stored_summary(self, run_id: str, alias_conflict: bool) -> RunSummary:
        rows = self._read("SELECT summary FROM runs WHERE run_id = ?", (run_id,))
        summary = _SUMMARY_DECODER.decode(rows[0][0]) if rows else RunSummary(runId=run_id)
        summary.traceAliasConflict = alias_conflict
        return summary

    def graph(self, ref: str, *, include_records: bool = True) -> Graph | None:
        """The canonical graph of one run (resolved as :meth:`resolve_run`), or ``None``."""
        with no_gc():
            return self._graph(ref, include_records=include_records)

    def _graph(self, ref: str, *, include_records: bool) -> Graph | None:
        resolved = self.resolve_run(ref)
        if resolved is None:
            return None
        run_id, conflict = resolved
        summary = self._stored_summary(run_id, conflict)
        if not include_records:
            return assemble_graph(summary, self._wires_of(run_id))
        # With raw records: one read serves both, so the graph and its records agree.
        rows = self._read(
            "SELECT record_id, trace_id, segment_id, segment_seq, type, payload, received_at"
            " FROM records WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        projected = [row[5] for row in rows if row[4] in PROJECTED_TYPES]
        graph = assemble_graph(summary, decode_payloads(projected))
        operation = summary.operationId or run_id
        graph.records = [
            StoredRecord(
                recordId=r[0],
                runId=run_id,
                traceId=r[1],
                segmentId=r[2],
                segmentSeq=r[3],
                type=r[4],
                payloadJson=r[5],
                receivedAt=r[6],
                operationId=operation,
            )
            for r in rows
        ]
        return graph

    def operation_graph(self, ref: str) -> OperationGraph | None:
        """Every member run of the operation of ``ref`` (a run, operation or trace id) with
        its graph and ``run:start`` links: the input of the operation RunDetail."""
        with no_gc():
            return self._operation_graph(ref)

    def _operation_graph(self, ref: str) -> OperationGraph | None:
        row = self.operation_summary(ref)
        if row is None:
            return None
        operation = row.operationId or row.runId
        rows = self._read(
            f"SELECT {_MEMBER_COLUMNS} FROM runs WHERE operation_id = ? {_MEMBER_ORDER}",
            (operation, operation),
        )
        members = []
        for run_id, parent, trigger, has_start, _lifecycle, summary_json in rows:
            summary = _SUMMARY_DECODER.decode(summary_json)
            if run_id == operation:
                summary.traceAliasConflict = bool(row.traceAliasConflict)
            members.append(
                member_graph(
                    summary,
                    self._wires_of(run_id),
                    parent_run_id=parent,
                    triggered_by_span_id=trigger,
                    has_start=bool(has_start),
                )
            )
        inside = {m.run_id for m in members}
        foreign: dict[str, str] = {}
        for parent in {m.parent_run_id for m in members} - inside - {""}:
            found = self._read("SELECT operation_id FROM runs WHERE run_id = ?", (parent,))
            if found:
                foreign[parent] = found[0][0]
        return OperationGraph(
            operation_id=operation,
            members=tuple(members),
            first_seen_at=row.firstSeenAt,
            revision=row.revision,
            foreign_runs=foreign,
        )

    def drop_decoded(self) -> None:
        """Forget the decoded records kept for re-reads (the next read decodes everything)."""
        self._wire_cache = WireCache(self._wire_cache.budget)

    def _wires_of(self, run_id: str) -> tuple[WireRecord, ...]:
        """The run's projected records in arrival order, decoding only those not seen yet."""
        last, known = self._wire_cache.get(run_id)
        rows = self._read(
            "SELECT seq, type, payload FROM records WHERE run_id = ? AND seq > ? ORDER BY seq",
            (run_id, last),
        )
        if not rows:
            return known
        projected = [row[2] for row in rows if row[1] in PROJECTED_TYPES]
        fresh = decode_payloads(projected)
        wires = (*known, *fresh)
        self._wire_cache.put(run_id, rows[-1][0], wires)
        return wires

    def span_events(
        self,
        ref: str,
        span_id: str,
        *,
        name: str | None = None,
        after: str | None = None,
        limit: int = 200,
    ) -> list[SpanEventSummary] | None:
        """Events of one span ordered by timestamp then eventId; ``None`` if the run is
        unknown. The span is looked up in every member run of the operation of ``ref``
        (a run, operation or trace id): a client that holds the operation id finds the
        events of a child run's span too."""
        resolved = self.resolve_operation(ref)
        if resolved is None:
            return None
        runs = [
            r[0]
            for r in self._read("SELECT run_id FROM runs WHERE operation_id = ?", (resolved[0],))
        ]
        if not runs:
            return None
        marks = ",".join("?" * len(runs))
        sql = (
            f"SELECT payload FROM records WHERE run_id IN ({marks}) AND type = 'span:event'"
            " AND span_id = ?"
        )
        params: list[Any] = [*runs, span_id]
        if name:
            sql += " AND event_name = ?"
            params.append(name)
        if after:
            key = sort_key(after)
            if not key:
                raise InvalidQuery("invalid after query parameter")
            sql += " AND event_key > ?"
            params.append(key)
        sql += " ORDER BY event_key, event_id LIMIT ?"
        params.append(max(0, limit))
        rows = self._read(sql, params)
        if not rows:
            return []
        wires = decode_payloads([r[0] for r in rows])
        return [event_summary(w, w.traceId or "") for w in wires]

    # -- stored RunDetail bodies -------------------------------------------------------

    @property
    def keeps_bodies(self) -> bool:
        """Whether projected bodies are kept with the records (file databases only: an
        in-memory database ends with the process, and its cache with it)."""
        return not self.memory

    def stored_body(
        self, operation: str, revision: int, alias_conflict: bool, stamp: str
    ) -> StoredBody | None:
        """The body kept for ``operation`` at exactly this revision, trace-alias flag and
        code ``stamp``, else ``None``."""
        if not self.keeps_bodies:
            return None
        rows = self._read(
            "SELECT body, length, head_length, status FROM stored_bodies"
            " WHERE operation_id = ? AND revision = ? AND alias_conflict = ? AND stamp = ?",
            (operation, revision, int(alias_conflict), stamp),
        )
        if not rows:
            return None
        body, length, head_length, status = rows[0]
        return StoredBody(bytes(body), int(length), int(head_length), str(status))

    def keep_body(
        self, operation: str, revision: int, alias_conflict: bool, stamp: str, body: StoredBody
    ) -> bool:
        """Keep ``body`` as the RunDetail of ``operation`` at ``revision``, unless the
        operation has moved on (or is gone) since: returns whether it was written. Any later
        write to the operation drops it (:meth:`_write_operation`)."""
        if not self.keeps_bodies:
            return False
        try:
            with self._lock:
                if self._closed:
                    return False
                cursor = self._conn.execute(
                    "INSERT OR REPLACE INTO stored_bodies (operation_id, revision,"
                    " alias_conflict, stamp, head_length, status, length, body)"
                    " SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM operations"
                    " WHERE operation_id = ? AND revision = ?)",
                    (
                        operation,
                        revision,
                        int(alias_conflict),
                        stamp,
                        body.head_length,
                        body.status,
                        body.length,
                        body.compressed,
                        operation,
                        revision,
                    ),
                )
                return cursor.rowcount > 0
        except sqlite3.Error as exc:
            if _is_transient(exc):
                raise TransientStoreError(str(exc)) from exc
            raise

    def drop_stored_bodies(self, *, except_stamp: str) -> int:
        """Drop the bodies projected by other code than ``except_stamp`` (another
        version); returns how many."""
        if not self.keeps_bodies:
            return 0
        with self._lock:
            if self._closed:
                return 0
            cursor = self._conn.execute(
                "DELETE FROM stored_bodies WHERE stamp != ?", (except_stamp,)
            )
            return max(0, cursor.rowcount)

    def stored_body_bytes(self) -> tuple[int, int]:
        """``(stored, raw)``: bytes of the kept bodies as stored and as served."""
        if not self.keeps_bodies:
            return 0, 0
        rows = self._read("SELECT SUM(LENGTH(body)), SUM(length) FROM stored_bodies")
        return int(rows[0][0] or 0), int(rows[0][1] or 0)

    # -- deletes -----------------------------------------------------------------------

    def delete_operation(
        self, ref: str, *, now: datetime | None = None
    ) -> tuple[list[str], int] | None:
        """Delete the whole operation of a run or operation id (never a trace id): every
        member run and record. Leaves a tombstone (later records for it are refused) and
        logs the change. Returns ``(operationIds, revision)``, ``None`` when unknown."""
        try:
            with self._lock:
                if self._closed:
                    raise sqlite3.OperationalError("database is closed")
                conn = self._conn
                found = conn.execute(
                    "SELECT operation_id FROM runs WHERE run_id = ? UNION ALL"
                    " SELECT operation_id FROM operations WHERE operation_id = ?",
                    (ref, ref),
                ).fetchone()
                if found is None:
                    return None
                operation = found[0]
                conn.execute("BEGIN IMMEDIATE")
                try:
                    runs = [
                        r[0]
                        for r in conn.execute(
                            "SELECT run_id FROM runs WHERE operation_id = ?", (operation,)
                        )
                    ]
                    for chunk in _chunks(runs):
                        marks = ",".join("?" * len(chunk))
                        conn.execute(f"DELETE FROM records WHERE run_id IN ({marks})", chunk)
                    conn.execute("DELETE FROM runs WHERE operation_id = ?", (operation,))
                    revision = self._revision(conn) + 1
                    self._write_operation(conn, operation, revision)  # no members: row gone
                    conn.execute(
                        "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?)",
                        (operation, revision, format_ts(now or datetime.now(UTC))),
                    )
                    self._finish_revision(conn, revision)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                self._deleted.add(operation)
                for run in runs:
                    self._states.pop(run, None)
                    self._wire_cache.drop(run)
                return [operation], revision
        except sqlite3.Error as exc:
            if _is_transient(exc):
                raise TransientStoreError(str(exc)) from exc
            raise

    # -- lifecycle ---------------------------------------------------------------------

    def lifecycle_candidates(self, stale_before: str) -> list[tuple[str, str, str, int]]:
        """``(runId, operationId, lastActivityKey, revision)`` of running member runs without
        a lifecycle status that have been inactive since before ``stale_before`` (a sort
        key)."""
        return [
            (r[0], r[1], r[2], int(r[3]))
            for r in self._read(
                "SELECT run_id, operation_id, last_activity_key, revision FROM runs"
                " WHERE stored_status = 'running'"
                " AND lifecycle_status IS NULL AND last_activity_key < ?",
                (stale_before,),
            )
        ]

    def set_lifecycle_status(self, run_id: str, status: str, activity_key: str) -> int | None:
        """Persist a presented status for a still-inactive member run (its operation's row
        follows); returns the new revision."""
        return self._set_presented(
            run_id,
            status,
            "SELECT operation_id FROM runs WHERE run_id = ? AND last_activity_key = ?"
            " AND lifecycle_status IS NULL",
            (run_id, activity_key),
        )

    def set_presented_status(self, run_id: str, status: str, revision: int) -> int | None:
        """Persist the presented status of a run whose operation was projected at
        ``revision`` when the list shows another one (its root rolled up a suspended or
        failed span); returns the new revision, or ``None`` when nothing changed or a record
        arrived since."""
        return self._set_presented(
            run_id,
            status,
            "SELECT operation_id FROM runs WHERE run_id = ? AND revision <= ? AND status != ?",
            (run_id, revision, status),
        )

    def _set_presented(
        self, run_id: str, status: str, guard: str, params: tuple[Any, ...]
    ) -> int | None:
        """Write ``status`` as the run's lifecycle status when ``guard`` (selecting the
        run's operation id) finds it; its operation's row follows."""
        try:
            with self._lock:
                conn = self._conn
                row = conn.execute(guard, params).fetchone()
                if row is None:
                    return None
                conn.execute("BEGIN IMMEDIATE")
                try:
                    state = self._state(run_id, conn, row[0])
                    revision = self._revision(conn) + 1
                    self._write_run(conn, state, revision, lifecycle=status)
                    self._write_operation(conn, row[0], revision)
                    self._finish_revision(conn, revision)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK") if conn.in_transaction else None
                    raise
                return revision
        except sqlite3.Error as exc:
            if _is_transient(exc):
                raise TransientStoreError(str(exc)) from exc
            raise


_RECORD_ID_MESSAGE = "recordId was already used for a record with different content"
