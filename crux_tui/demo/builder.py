"""Build canonical records (the current schema, v5) for one run, deterministically.

A :class:`RunBuilder` hands out record ids, segment sequence numbers, span ids and
timestamps (milliseconds after the run's start), so a scenario reads like the code
that would have produced it.
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from crux_tui.contract.vocabulary import PRIMITIVE_FAMILY, SCHEMA_VERSION

Record = dict[str, Any]


def timestamp(moment: datetime) -> str:
    """RFC3339 with milliseconds and a ``Z``, as Crux SDKs write it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunBuilder:
    """Accumulates the records of one run in ``records``."""

    def __init__(
        self,
        run_id: str,
        name: str,
        root_primitive: str,
        start: datetime,
        rng: random.Random,
        *,
        session_id: str = "",
        operation_id: str = "",
        trace_id: str = "",
    ) -> None:
        self.run_id = run_id
        #: The operation this run belongs to: its own id for an operation root.
        self.operation_id = operation_id or run_id
        self.name = name
        self.root_primitive = root_primitive
        self.started_at = start
        self.rng = rng
        self.session_id = session_id
        self.trace_id = trace_id or f"{rng.getrandbits(128):032x}"
        self.segment_id = f"seg_{run_id}"
        self._salt = f"{zlib.crc32(run_id.encode()):08x}"
        self.records: list[Record] = []
        self._seq = 0
        self._ids = 0

    # -- identity -----------------------------------------------------------------
    def at(self, offset_ms: float) -> str:
        """The timestamp ``offset_ms`` after the run's start."""
        return timestamp(self.started_at + timedelta(milliseconds=offset_ms))

    def new_id(self, prefix: str) -> str:
        """A fresh id, unique across runs (the run id salts it) and deterministic."""
        self._ids += 1
        return f"{prefix}_{self._salt}{self.rng.getrandbits(32):08x}{self._ids:04x}"

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def _base(self, record_type: str) -> Record:
        self._seq += 1
        return {
            "schemaVersion": SCHEMA_VERSION,
            "recordId": self.new_id("rec"),
            "type": record_type,
            "runId": self.run_id,
            "operationId": self.operation_id,
            "segmentId": self.segment_id,
            "segmentSeq": self._seq,
            "traceId": self.trace_id,
        }

    def _add(self, record: Record) -> Record:
        self.records.append(record)
        return record

    # -- run ------------------------------------------------------------------------
    def run_start(
        self,
        attributes: dict[str, Any] | None = None,
        *,
        parent_run_id: str = "",
        triggered_by_span_id: str = "",
    ) -> Record:
        """``run:start``; a child run names its parent run and the span that started it."""
        record = self._base("run:start")
        record.update(
            name=self.name,
            rootPrimitive=self.root_primitive,
            startedAt=self.at(0),
            status="running",
        )
        if self.session_id:
            record["sessionId"] = self.session_id
        if attributes:
            record["attributes"] = attributes
        if parent_run_id:
            record["parentRunId"] = parent_run_id
        if triggered_by_span_id:
            record["triggeredBySpanId"] = triggered_by_span_id
        return self._add(record)

    def run_end(
        self,
        status: str,
        at_ms: float,
        *,
        metrics: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> Record:
        record = self._base("run:end")
        record.update(endedAt=self.at(at_ms), durationMs=int(at_ms), status=status)
        if metrics:
            record["metrics"] = metrics
        if error:
            record["error"] = error
        return self._add(record)

    # -- spans ----------------------------------------------------------------------
    def _span_fields(
        self, primitive: str, name: str, at_ms: float, parent: str | None, fields: dict[str, Any]
    ) -> Record:
        span_fields: Record = {
            "spanId": fields.pop("span_id", None) or self.span_id(),
            "parentSpanId": parent,
            "family": PRIMITIVE_FAMILY[primitive],
            "primitive": primitive,
            "name": name,
            "startedAt": self.at(at_ms),
        }
        span_fields.update({k: v for k, v in fields.items() if v is not None})
        return span_fields

    def start(
        self, primitive: str, name: str, at_ms: float, parent: str | None = None, **fields: Any
    ) -> str:
        """Emit ``span:start``; returns the span id."""
        record = self._base("span:start")
        record.update(self._span_fields(primitive, name, at_ms, parent, fields))
        record["status"] = "running"
        self._add(record)
        return record["spanId"]

    def end(
        self,
        span_id: str,
        started_ms: float,
        ended_ms: float,
        status: str = "ok",
        *,
        metrics: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Record:
        """Emit ``span:end`` for a span started at ``started_ms``."""
        record = self._base("span:end")
        record.update(
            spanId=span_id,
            endedAt=self.at(ended_ms),
            durationMs=int(ended_ms - started_ms),
            status=status,
        )
        if metrics:
            record["metrics"] = metrics
        if error:
            record["error"] = error
        if attributes:
            record["attributes"] = attributes
        return self._add(record)

    def span(
        self,
        primitive: str,
        name: str,
        start_ms: float,
        end_ms: float,
        parent: str | None = None,
        status: str = "ok",
        **fields: Any,
    ) -> str:
        """Emit a complete ``span`` record; returns the span id."""
        record = self._base("span")
        record.update(self._span_fields(primitive, name, start_ms, parent, fields))
        record.update(endedAt=self.at(end_ms), durationMs=int(end_ms - start_ms), status=status)
        self._add(record)
        return record["spanId"]

    def event(
        self, span_id: str, name: str, at_ms: float, attributes: dict[str, Any] | None = None
    ) -> Record:
        record = self._base("span:event")
        record.update(
            spanId=span_id, eventId=self.new_id("event"), name=name, timestamp=self.at(at_ms)
        )
        if attributes is not None:
            record["attributes"] = attributes
        return self._add(record)

    def artifact(
        self,
        span_id: str,
        kind: str,
        at_ms: float,
        preview: Any,
        *,
        content_type: str = "application/json",
        encoding: str = "json",
        attributes: dict[str, Any] | None = None,
        size_bytes: int | None = None,
    ) -> str:
        record = self._base("artifact")
        artifact_id = self.new_id("artifact")
        encoded = preview.encode() if isinstance(preview, str) else msgspec.json.encode(preview)
        record.update(
            artifactId=artifact_id,
            spanId=span_id,
            kind=kind,
            createdAt=self.at(at_ms),
            contentType=content_type,
            encoding=encoding,
            sizeBytes=size_bytes if size_bytes is not None else len(encoded),
            hash=f"sha256:{self.rng.getrandbits(64):016x}",
            preview=preview,
        )
        if attributes:
            record["attributes"] = attributes
        self._add(record)
        return artifact_id

    def edge(
        self,
        edge_type: str,
        source: tuple[str, str],
        target: tuple[str, str],
        at_ms: float,
        attributes: dict[str, Any] | None = None,
    ) -> Record:
        record = self._base("edge")
        record.update(
            edgeId=self.new_id("edge"),
            edgeType=edge_type,
            **{"from": {"kind": source[0], "id": source[1]}},
            to={"kind": target[0], "id": target[1]},
            createdAt=self.at(at_ms),
        )
        if attributes:
            record["attributes"] = attributes
        return self._add(record)

    def usage(
        self, span_id: str, at_ms: float, input_tokens: int, output_tokens: int, cost: float
    ) -> dict[str, Any]:
        """Emit ``usage.observed`` and return the matching metrics for the span end."""
        metrics = {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
            "costUsd": round(cost, 6),
        }
        self.event(span_id, "usage.observed", at_ms, dict(metrics))
        return metrics
