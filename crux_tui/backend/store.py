"""SQLite store of canonical records (stdlib ``sqlite3``, WAL).

Records are stored raw (payload JSON) and idempotently by ``recordId``. Every committed
change to a run gets a new global revision; the ``changes`` table is the change log
behind ``/runs/delta``. Run summaries are rolled up incrementally in memory
(:mod:`crux_tui.backend.rollup`) and persisted as JSON for fast list pages.

One writer connection guarded by a lock; file databases also read through a bounded pool
of reader connections (:data:`READER_POOL_SIZE`), each lent to one query at a time and
closed with the store, so bursts of reads from short-lived worker threads cannot pile up
file descriptors. Transient SQLite errors surface as :class:`TransientStoreError`.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from crux_tui.backend.ingest import validate_record
from crux_tui.backend.rollup import RunState, delivery_health
from crux_tui.backend.timeutil import format_ts, millis_between, sort_key
from crux_tui.backend.wire import PROJECTED_TYPES, WIRE_LIST_DECODER, WireRecord
from crux_tui.backend.wire_cache import WireCache
from crux_tui.contract.models import (
    ArtifactSummary,
    EdgeEndpoint,
    EdgeSummary,
    Graph,
    IngestDisposition,
    RunChange,
    RunsDelta,
    RunsPage,
    RunSummary,
    SpanEventSummary,
    SpanSummary,
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
#: Span events kept out of ``Graph.events`` (served lazily by the span events route).
LAZY_EVENT_NAMES = frozenset({"token.chunk"})

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
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_key DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_trace ON runs(trace_id);
CREATE TABLE IF NOT EXISTS changes (revision INTEGER PRIMARY KEY, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_SUMMARY_ENCODER = msgspec.json.Encoder()
_SUMMARY_DECODER = msgspec.json.Decoder(RunSummary)
_CURSOR_DECODER = msgspec.json.Decoder(tuple[str, str])


class StoreError(Exception):
    """Base class of store errors."""


class TransientStoreError(StoreError):
    """SQLite was busy/locked; the caller may retry (HTTP 503 + Retry-After)."""


class InvalidQuery(StoreError):
    """A malformed query parameter (bad cursor, bad timestamp)."""


@dataclass
class RunChangeInfo:
    """One run changed by a committed ingest."""

    runId: str
    traceId: str
    revision: int


@dataclass
class IngestResult:
    """Outcome of :meth:`Store.ingest_batch`."""

    dispositions: list[IngestDisposition]
    changes: list[RunChangeInfo] = field(default_factory=list)
    revision: int = 0


def default_db_path() -> Path:
    """The default database file in the user's data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir("crux-tui", appauthor=False)) / "devtools.sqlite3"


def _is_transient(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in text or "busy" in text or "closed" in text
    )


def encode_cursor(started_key: str, run_id: str) -> str:
    """Opaque page cursor for the last row of a page."""
    raw = msgspec.json.encode((started_key, run_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Inverse of :func:`encode_cursor`; raises :class:`InvalidQuery`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return _CURSOR_DECODER.decode(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, msgspec.DecodeError) as exc:
        raise InvalidQuery("invalid cursor") from exc


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
        self._wire_cache = WireCache()
        self._closed = False
        self._conn = self._connect()
        with self._lock:
            self._conn.executescript(_SCHEMA)
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('revision', 0)")
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('pruned', 0)")
            self._conn.commit()

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
    ) -> IngestResult:
        """Validate and store one batch; valid records commit even when siblings fail."""
        dispositions: list[IngestDisposition] = []
        accepted: dict[str, tuple[Any, WireRecord | None]] = {}
        rejected_by_run: dict[str, int] = {}
        for index, record in enumerate(records):
            record, cut = limit_depth(record)
            disposition, wire = validate_record(index, record)
            if cut and disposition.outcome == "accepted":
                disposition.message = (
                    f"{cut} value{'s' if cut != 1 else ''} nested deeper than {MAX_DEPTH}"
                    f" levels replaced by {TRUNCATED!r}"
                )
            dispositions.append(disposition)
            if disposition.outcome == "accepted":
                accepted.setdefault(disposition.recordId, (record, wire))
            elif isinstance(record, dict) and isinstance(record.get("runId"), str):
                run = record["runId"]
                rejected_by_run[run] = rejected_by_run.get(run, 0) + 1
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
        accepted: dict[str, tuple[Any, WireRecord | None]],
        source_health: dict[str, Any] | None,
        rejected_by_run: dict[str, int],
        received: str,
    ) -> tuple[list[RunChangeInfo], int]:
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

    def _commit_locked(
        self,
        conn: sqlite3.Connection,
        accepted: dict[str, tuple[Any, WireRecord | None]],
        source_health: dict[str, Any] | None,
        rejected_by_run: dict[str, int],
        received: str,
    ) -> tuple[list[RunChangeInfo], int]:
        ids = list(accepted)
        existing: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            existing.update(
                row[0]
                for row in conn.execute(
                    f"SELECT record_id FROM records WHERE record_id IN ({marks})", chunk
                )
            )
        fresh = [(rid, rec, wire) for rid, (rec, wire) in accepted.items() if rid not in existing]
        if not fresh:
            conn.execute("COMMIT")
            return [], self._revision(conn)
        touched = list(dict.fromkeys(rec["runId"] for _, rec, _ in fresh))
        try:
            states = {run: self._state(run, conn) for run in touched}
            rows = []
            for rid, rec, wire in fresh:
                state = states[rec["runId"]]
                state.apply_raw(rec["segmentId"], rec["segmentSeq"])
                span_id = event_name = event_key = event_id = None
                if wire is not None:
                    state.apply(wire)
                    span_id = wire.spanId
                    if wire.type == "span:event":
                        event_name, event_id = wire.name, wire.eventId
                        event_key = sort_key(wire.timestamp)
                trace = rec.get("traceId")
                rows.append(
                    (
                        rid,
                        rec["runId"],
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
            changes: list[RunChangeInfo] = []
            for run in touched:
                state = states[run]
                if source_health is not None or rejected_by_run.get(run):
                    state.health = delivery_health(
                        source_health, rejected_by_run.get(run, 0), received
                    )
                revision += 1
                self._write_run(conn, state, revision, lifecycle=None)
                changes.append(RunChangeInfo(run, state.trace_id, revision))
            self._finish_revision(conn, revision)
            conn.execute("COMMIT")
        except BaseException:
            for run in touched:
                self._states.pop(run, None)
            raise
        return changes, revision

    def _write_run(
        self, conn: sqlite3.Connection, state: RunState, revision: int, lifecycle: str | None
    ) -> None:
        summary = state.summary(revision)
        conn.execute(
            "INSERT INTO runs (run_id, trace_id, session_id, started_key, status, stored_status,"
            " lifecycle_status, last_activity_key, revision, summary)"
            " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET"
            " trace_id=excluded.trace_id, session_id=excluded.session_id,"
            " started_key=excluded.started_key, status=excluded.status,"
            " stored_status=excluded.stored_status, lifecycle_status=excluded.lifecycle_status,"
            " last_activity_key=excluded.last_activity_key, revision=excluded.revision,"
            " summary=excluded.summary",
            (
                state.run_id,
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
        conn.execute(
            "INSERT INTO changes (revision, run_id) VALUES (?, ?)", (revision, state.run_id)
        )

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

    def _state(self, run_id: str, conn: sqlite3.Connection) -> RunState:
        """The cached roll-up state of a run, rebuilt from stored records on a miss."""
        state = self._states.get(run_id)
        if state is not None:
            self._states.move_to_end(run_id)
            return state
        rows = conn.execute(
            "SELECT type, segment_id, segment_seq, payload FROM records WHERE run_id = ?"
            " ORDER BY seq",
            (run_id,),
        ).fetchall()
        state = _build_state(run_id, rows)
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
        """One page of runs, newest ``startedAt`` first, with presented statuses."""
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
                where.append(f"started_key {op} ?")
                params.append(key)
        if cursor:
            started, run_id = decode_cursor(cursor)
            where.append("(started_key < ? OR (started_key = ? AND run_id < ?))")
            params.extend([started, started, run_id])
        sql = "SELECT summary, lifecycle_status, started_key, run_id FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_key DESC, run_id DESC LIMIT ?"
        params.append(size + 1)
        with self._lock if self.memory else contextlib.nullcontext():
            revision = self.revision()
            rows = self._read(sql, params)
        more = len(rows) > size
        rows = rows[:size]
        out = []
        for summary_json, lifecycle, _, _ in rows:
            summary = _SUMMARY_DECODER.decode(summary_json)
            if lifecycle:
                summary.status = lifecycle
            out.append(summary)
        next_cursor = encode_cursor(rows[-1][2], rows[-1][3]) if more and rows else None
        return RunsPage(revision=revision, rows=out, nextCursor=next_cursor)

    def runs_delta(self, since: int) -> RunsDelta:
        """Runs changed after revision ``since`` (oldest first, one entry per run)."""
        with self._lock if self.memory else contextlib.nullcontext():
            revision = self.revision()
            pruned = int(self._read("SELECT value FROM meta WHERE key = 'pruned'")[0][0])
            rows = self._read(
                "SELECT run_id, MAX(revision) AS rev FROM changes WHERE revision > ?"
                " GROUP BY run_id ORDER BY rev",
                (since,),
            )
        expired = since < pruned
        changes = [RunChange(entity="run", id=run, revision=rev) for run, rev in rows]
        return RunsDelta(revision=revision, changes=changes, expired=expired)

    def resolve_run(self, ref: str) -> tuple[str, bool] | None:
        """Resolve a run id or trace id to ``(runId, traceAliasConflict)``."""
        if self._read("SELECT 1 FROM runs WHERE run_id = ?", (ref,)):
            return ref, False
        rows = self._read(
            "SELECT run_id FROM runs WHERE trace_id = ? ORDER BY started_key DESC, run_id DESC",
            (ref,),
        )
        if not rows:
            return None
        return rows[0][0], len(rows) > 1

    def run_summary(self, ref: str) -> RunSummary | None:
        """The stored (canonical) summary of a run or trace id."""
        resolved = self.resolve_run(ref)
        return None if resolved is None else self._stored_summary(*resolved)

    def _stored_summary(self, run_id: str, alias_conflict: bool) -> RunSummary:
        rows = self._read("SELECT summary FROM runs WHERE run_id = ?", (run_id,))
        summary = _SUMMARY_DECODER.decode(rows[0][0]) if rows else RunSummary(runId=run_id)
        summary.traceAliasConflict = alias_conflict
        return summary

    def graph(self, ref: str, *, include_records: bool = True) -> Graph | None:
        """The canonical graph of a run (by run id or trace id), or ``None``."""
        with no_gc():
            return self._graph(ref, include_records=include_records)

    def _graph(self, ref: str, *, include_records: bool) -> Graph | None:
        resolved = self.resolve_run(ref)
        if resolved is None:
            return None
        run_id, conflict = resolved
        if not include_records:
            wires = self._wires_of(run_id)
            return assemble_graph(self._stored_summary(run_id, conflict), wires)
        # With raw records: one read serves both, so the graph and its records agree.
        rows = self._read(
            "SELECT record_id, trace_id, segment_id, segment_seq, type, payload, received_at"
            " FROM records WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        projected = [row[5] for row in rows if row[4] in PROJECTED_TYPES]
        decoded = decode_payloads(projected)
        graph = assemble_graph(self._stored_summary(run_id, conflict), decoded)
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
            )
            for r in rows
        ]
        return graph

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
        """Events of one span ordered by timestamp then eventId; ``None`` if the run is unknown."""
        resolved = self.resolve_run(ref)
        if resolved is None:
            return None
        sql = "SELECT payload FROM records WHERE run_id = ? AND type = 'span:event' AND span_id = ?"
        params: list[Any] = [resolved[0], span_id]
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
        return [_event(w, w.traceId or "") for w in wires]

    # -- lifecycle ---------------------------------------------------------------------

    def lifecycle_candidates(self, stale_before: str) -> list[tuple[str, str, int]]:
        """``(runId, lastActivityKey, revision)`` of running runs without a lifecycle
        status that have been inactive since before ``stale_before`` (a sort key)."""
        return [
            (r[0], r[1], int(r[2]))
            for r in self._read(
                "SELECT run_id, last_activity_key, revision FROM runs"
                " WHERE stored_status = 'running'"
                " AND lifecycle_status IS NULL AND last_activity_key < ?",
                (stale_before,),
            )
        ]

    def set_lifecycle_status(self, run_id: str, status: str, activity_key: str) -> int | None:
        """Persist a presented status for a still-inactive run; returns the new revision."""
        try:
            with self._lock:
                conn = self._conn
                row = conn.execute(
                    "SELECT last_activity_key, lifecycle_status FROM runs WHERE run_id = ?",
                    (run_id,),
                ).fetchone()
                if row is None or row[0] != activity_key or row[1] is not None:
                    return None
                conn.execute("BEGIN IMMEDIATE")
                try:
                    state = self._state(run_id, conn)
                    revision = self._revision(conn) + 1
                    self._write_run(conn, state, revision, lifecycle=status)
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


def decode_payloads(payloads: list[str]) -> list[WireRecord]:
    """Stored record payloads (JSON text) decoded in one call, in order."""
    return WIRE_LIST_DECODER.decode("[" + ",".join(payloads) + "]") if payloads else []


def _build_state(run_id: str, rows: list[tuple[Any, ...]]) -> RunState:
    state = RunState(run_id)
    projected = [r[3] for r in rows if r[0] in PROJECTED_TYPES]
    wires = iter(decode_payloads(projected))
    for rtype, segment_id, segment_seq, _ in rows:
        state.apply_raw(segment_id, segment_seq)
        if rtype in PROJECTED_TYPES:
            state.apply(next(wires))
    return state


def _event(w: WireRecord, trace: str) -> SpanEventSummary:
    return SpanEventSummary(
        eventId=w.eventId or "",
        runId=w.runId,
        traceId=w.traceId or trace,
        spanId=w.spanId or "",
        name=w.name or "",
        timestamp=w.timestamp or "",
        attributes=w.attributes,
    )


def _span_from(w: WireRecord, trace: str) -> SpanSummary:
    return SpanSummary(
        spanId=w.spanId or "",
        runId=w.runId,
        traceId=w.traceId or trace,
        parentSpanId=w.parentSpanId or "",
        family=w.family or "",
        primitive=w.primitive or "",
        name=w.name or "",
        status=w.status or "running",
        startedAt=w.startedAt or "",
        model=w.model or "",
        provider=w.provider or "",
        promptId=w.promptId or "",
        contextId=w.contextId or "",
        agentId=w.agentId or "",
        toolName=w.toolName or "",
        flowId=w.flowId or "",
        stepId=w.stepId or "",
        memoryId=w.memoryId or "",
        retrieverId=w.retrieverId or "",
        attributes=w.attributes,
    )


def _close_span(span: SpanSummary, w: WireRecord) -> None:
    if w.endedAt:
        span.endedAt = w.endedAt
    if w.status:
        span.status = w.status
    if w.durationMs is not None:
        span.durationMs = w.durationMs
    elif span.endedAt and span.startedAt:
        span.durationMs = millis_between(span.startedAt, span.endedAt) or 0
    if w.metrics is not None:
        span.metrics = w.metrics
    if w.error is not None:
        span.error = w.error
    if w.attributes and w.type == "span:end":
        span.attributes = {**(span.attributes or {}), **w.attributes}


def assemble_graph(summary: RunSummary, wires: Sequence[WireRecord]) -> Graph:
    """Merge decoded records (in arrival order) into the canonical graph."""
    trace = summary.traceId
    spans: dict[str, SpanSummary] = {}
    pending_end: dict[str, WireRecord] = {}
    events: list[SpanEventSummary] = []
    artifacts: list[ArtifactSummary] = []
    edges: list[EdgeSummary] = []
    duplicates: list[SpanSummary] = []
    for w in wires:
        rtype = w.type
        if rtype == "span:start" or rtype == "span":
            sid = w.spanId or ""
            existing = spans.get(sid)
            fresh = _span_from(w, trace)
            if existing is not None and not existing.family and not existing.primitive:
                # a span:end arrived first: keep its completion fields
                end = pending_end.pop(sid, None)
                spans[sid] = fresh
                if end is not None:
                    _close_span(fresh, end)
            elif existing is None:
                spans[sid] = fresh
            else:
                # A second start for a started span id: the first one wins; keep the
                # other in the graph so the projection reports ``duplicate-span-id``.
                if rtype == "span":
                    _close_span(fresh, w)
                duplicates.append(fresh)
                continue
            if rtype == "span":
                _close_span(spans[sid], w)
        elif rtype == "span:end":
            sid = w.spanId or ""
            span = spans.get(sid)
            if span is None:
                span = SpanSummary(spanId=sid, runId=w.runId, traceId=w.traceId or trace)
                spans[sid] = span
                pending_end[sid] = w
            _close_span(span, w)
        elif rtype == "span:event":
            if (w.name or "") not in LAZY_EVENT_NAMES:
                events.append(_event(w, trace))
        elif rtype == "artifact":
            size = w.sizeBytes
            artifacts.append(
                ArtifactSummary(
                    artifactId=w.artifactId or "",
                    runId=w.runId,
                    traceId=w.traceId or trace,
                    spanId=w.spanId or "",
                    kind=w.kind or "",
                    createdAt=w.createdAt or "",
                    contentType=w.contentType or "",
                    encoding=w.encoding or "",
                    sizeBytes=int(size) if size is not None else 0,
                    hash=w.hash or "",
                    uri=w.uri or "",
                    preview=w.preview,
                    attributes=w.attributes,
                )
            )
        elif rtype == "edge":
            src, dst = w.from_ or EdgeEndpoint(), w.to or EdgeEndpoint()
            edges.append(
                EdgeSummary(
                    edgeId=w.edgeId or "",
                    runId=w.runId,
                    traceId=w.traceId or trace,
                    edgeType=w.edgeType or "",
                    from_=EdgeEndpoint(kind=src.kind, id=src.id),
                    to=EdgeEndpoint(kind=dst.kind, id=dst.id),
                    createdAt=w.createdAt or "",
                    attributes=w.attributes,
                )
            )
    return Graph(
        run=summary,
        spans=[*spans.values(), *duplicates],
        events=events,
        artifacts=artifacts,
        edges=edges,
    )
