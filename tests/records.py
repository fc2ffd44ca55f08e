"""Builders of valid records for tests (shared by every test package): schema v2 by
default, any supported version with ``schema_version`` (v4+ records carry ``operationId``).

Example::

    run = RunBuilder("run_a")
    records = [run.run_start(), run.span_start("s1", "agent.run"), run.span_end("s1"), run.run_end()]
    body = batch(records)
    child = RunBuilder("run_b", schema_version=5, operation_id="run_a")
    start = child.run_start(parentRunId="run_a", triggeredBySpanId="s1")
"""

from __future__ import annotations

from typing import Any

from crux_tui.contract.vocabulary import PRIMITIVE_FAMILY

BASE_TIME = "2026-05-16T18:00:00.000Z"


def ts(offset_ms: int = 0, base: str = "2026-05-16T18:00:00") -> str:
    """An RFC3339 timestamp ``offset_ms`` after ``base`` (milliseconds, UTC)."""
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(base) + timedelta(milliseconds=offset_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def batch(
    records: list[dict[str, Any]],
    source_health: dict[str, Any] | None = None,
    *,
    version: int | None = None,
) -> dict:
    """Wrap records in an ingest batch of ``version`` (default: the first record's, else 2)."""
    if version is None:
        version = records[0].get("schemaVersion", 2) if records else 2
    body: dict[str, Any] = {"schemaVersion": version, "records": records}
    if source_health is not None:
        body["sourceHealth"] = source_health
    return body


class RunBuilder:
    """Makes the records of one run with consistent ids and segment sequence numbers."""

    def __init__(
        self,
        run_id: str,
        *,
        trace_id: str | None = None,
        segment_id: str | None = None,
        base: str = "2026-05-16T18:00:00",
        schema_version: int = 2,
        operation_id: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.schema_version = schema_version
        self.operation_id = operation_id or run_id
        self.trace_id = trace_id if trace_id is not None else f"trace_{run_id}"
        self.segment_id = segment_id or f"seg_{run_id}"
        self.base = base
        self.seq = 0

    def at(self, offset_ms: int | str) -> str:
        """Timestamp ``offset_ms`` after this run's base time (an RFC3339 string is kept)."""
        return offset_ms if isinstance(offset_ms, str) else ts(offset_ms, self.base)

    def _record(self, rtype: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        record: dict[str, Any] = {
            "schemaVersion": self.schema_version,
            "recordId": f"rec_{self.run_id}_{self.segment_id}_{self.seq}",
            "type": rtype,
            "runId": self.run_id,
            "segmentId": self.segment_id,
            "segmentSeq": self.seq,
        }
        if self.schema_version >= 4:
            record["operationId"] = self.operation_id
        if self.trace_id:
            record["traceId"] = self.trace_id
        record.update({k: v for k, v in fields.items() if v is not None})
        return record

    def run_start(
        self, name: str = "run", root_primitive: str = "agent.run", at: int = 0, **extra: Any
    ) -> dict[str, Any]:
        return self._record(
            "run:start",
            name=name,
            rootPrimitive=root_primitive,
            startedAt=self.at(at),
            status="running",
            **extra,
        )

    def run_end(self, status: str = "ok", at: int = 1000, **extra: Any) -> dict[str, Any]:
        return self._record("run:end", endedAt=self.at(at), status=status, **extra)

    def span_start(
        self,
        span_id: str,
        primitive: str = "agent.run",
        *,
        parent: str | None = None,
        name: str | None = None,
        at: int = 1,
        **extra: Any,
    ) -> dict[str, Any]:
        return self._record(
            "span:start",
            spanId=span_id,
            parentSpanId=parent,
            family=PRIMITIVE_FAMILY[primitive],
            primitive=primitive,
            name=name or span_id,
            startedAt=self.at(at),
            status="running",
            **extra,
        )

    def span_end(
        self, span_id: str, status: str = "ok", at: int = 900, **extra: Any
    ) -> dict[str, Any]:
        return self._record("span:end", spanId=span_id, endedAt=self.at(at), status=status, **extra)

    def span(
        self,
        span_id: str,
        primitive: str = "tool.call",
        *,
        parent: str | None = None,
        name: str | None = None,
        at: int = 10,
        end: int = 20,
        status: str = "ok",
        **extra: Any,
    ) -> dict[str, Any]:
        return self._record(
            "span",
            spanId=span_id,
            parentSpanId=parent,
            family=PRIMITIVE_FAMILY[primitive],
            primitive=primitive,
            name=name or span_id,
            startedAt=self.at(at),
            endedAt=self.at(end),
            status=status,
            **extra,
        )

    def event(
        self,
        span_id: str,
        name: str = "token.chunk",
        at: int = 100,
        attributes: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        return self._record(
            "span:event",
            spanId=span_id,
            eventId=event_id or f"evt_{self.run_id}_{self.seq + 1}",
            name=name,
            timestamp=self.at(at),
            attributes=attributes,
        )

    def artifact(
        self, span_id: str, kind: str = "output", preview: Any = "hello", at: int = 500
    ) -> dict[str, Any]:
        return self._record(
            "artifact",
            artifactId=f"art_{self.run_id}_{self.seq + 1}",
            spanId=span_id,
            kind=kind,
            createdAt=self.at(at),
            contentType="text/plain",
            encoding="text",
            preview=preview,
        )

    def edge(
        self, from_span: str, to_span: str, edge_type: str = "explains", at: int = 500
    ) -> dict[str, Any]:
        return self._record(
            "edge",
            edgeId=f"edge_{self.run_id}_{self.seq + 1}",
            edgeType=edge_type,
            createdAt=self.at(at),
            **{"from": {"kind": "span", "id": from_span}, "to": {"kind": "span", "id": to_span}},
        )


def simple_run(
    run_id: str = "run_simple",
    *,
    base: str = "2026-05-16T18:00:00",
    ended: bool = True,
    status: str = "ok",
    session_id: str | None = None,
    trace_id: str | None = None,
) -> list[dict[str, Any]]:
    """A small complete run: agent -> generation (with usage + output) -> tool."""
    run = RunBuilder(run_id, base=base, trace_id=trace_id)
    records = [
        run.run_start(name=f"{run_id} name", sessionId=session_id),
        run.span_start("agent", "agent.run", name="agent"),
        run.span_start(
            "gen", "generation.call", parent="agent", at=10, model="gpt-4o", provider="openai"
        ),
        run.event("gen", "usage.observed", 300, {"inputTokens": 42, "outputTokens": 18}),
        run.event("gen", "token.chunk", 310, {"text": "Hel"}),
        run.artifact("gen", "output", {"answer": "ok"}),
        run.span_end(
            "gen",
            at=520,
            metrics={"inputTokens": 42, "outputTokens": 18, "totalTokens": 60, "costUsd": 0.5},
        ),
        run.span("tool", "tool.call", parent="agent", at=600, end=700, toolName="search"),
        run.edge("gen", "tool", "caused"),
    ]
    if ended:
        records.append(run.span_end("agent", status=status, at=900))
        records.append(run.run_end(status=status, at=1000))
    return records
