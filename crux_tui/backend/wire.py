"""The canonical record wire format (schemas v2-v5) as one tolerant msgspec Struct.

Every known record type (``run:start`` ... ``artifact``) decodes into :class:`WireRecord`;
fields a type does not use stay ``None``. Unknown JSON fields are ignored (and kept in the
stored payload). The v3-v5 envelope fields (``operationId``, ``deployment``, the topology
of a child's ``run:start``, ``definitionRefs``) are typed ``Any``: in an older version they
are unknown fields, which must not reject a record; ``ingest`` checks them per version.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from crux_tui.backend.timeutil import sort_key

#: Record types the store projects into the canonical graph / run summary.
PROJECTED_TYPES = frozenset(
    {
        "run:start",
        "run:end",
        "run:suspend",
        "run:resume",
        "span:start",
        "span:end",
        "span",
        "span:event",
        "edge",
        "artifact",
    }
)


class Endpoint(msgspec.Struct, kw_only=True):
    """``edge.from`` / ``edge.to``."""

    kind: str = ""
    id: str = ""


class WireRecord(msgspec.Struct, kw_only=True):
    """Superset of all record shapes of schemas v2-v5."""

    schemaVersion: int = 0
    recordId: str = ""
    type: str = ""
    runId: str = ""
    segmentId: str = ""
    segmentSeq: int = 0
    traceId: str | None = None
    sessionId: str | None = None
    userId: str | None = None
    # v3+ / v4+ envelope (checked by ``ingest`` per version; unknown fields before that)
    operationId: Any = None
    deployment: Any = None
    parentRunId: Any = None
    triggeredBySpanId: Any = None
    definitionRefs: Any = None
    # run / span
    name: str | None = None
    rootPrimitive: str | None = None
    startedAt: str | None = None
    endedAt: str | None = None
    status: str | None = None
    durationMs: float | None = None
    metrics: dict[str, Any] | None = None
    error: Any = None
    attributes: dict[str, Any] | None = None
    spanId: str | None = None
    parentSpanId: str | None = None
    family: str | None = None
    primitive: str | None = None
    model: str | None = None
    provider: str | None = None
    promptId: str | None = None
    contextId: str | None = None
    agentId: str | None = None
    toolName: str | None = None
    flowId: str | None = None
    stepId: str | None = None
    memoryId: str | None = None
    retrieverId: str | None = None
    # span:event
    eventId: str | None = None
    timestamp: str | None = None
    # edge
    edgeId: str | None = None
    edgeType: str | None = None
    from_: Endpoint | None = msgspec.field(default=None, name="from")
    to: Endpoint | None = None
    createdAt: str | None = None
    # artifact
    artifactId: str | None = None
    kind: str | None = None
    contentType: str | None = None
    encoding: str | None = None
    sizeBytes: int | float | None = None
    hash: str | None = None
    preview: Any = None
    uri: str | None = None
    # run:suspend / run:resume
    suspendedAt: str | None = None
    resumedAt: str | None = None
    reason: str | None = None
    previousSegmentId: str | None = None

    def __post_init__(self) -> None:
        # JSON like 1e999 decodes to infinity, which no summary or artifact can hold (it
        # encodes as null): a number that is not finite is treated as absent
        if self.durationMs is not None and not math.isfinite(self.durationMs):
            self.durationMs = None
        if isinstance(self.sizeBytes, float) and not math.isfinite(self.sizeBytes):
            self.sizeBytes = None

    def activity_at(self) -> str:
        """The newest timestamp this record carries ("" when none)."""
        best = ""
        for value in (
            self.startedAt,
            self.endedAt,
            self.timestamp,
            self.createdAt,
            self.suspendedAt,
            self.resumedAt,
        ):
            if value and value > best:
                best = value
        return best


WIRE_LIST_DECODER = msgspec.json.Decoder(list[WireRecord])


def decode_payloads(payloads: list[str]) -> list[WireRecord]:
    """Stored record payloads (JSON text) decoded in one call, in order."""
    return WIRE_LIST_DECODER.decode("[" + ",".join(payloads) + "]") if payloads else []


def earliest_key(wire: WireRecord) -> str:
    """The earliest timestamp a record carries, as a sort key ("" when none)."""
    keys = [
        sort_key(v)
        for v in (
            wire.startedAt,
            wire.timestamp,
            wire.createdAt,
            wire.suspendedAt,
            wire.resumedAt,
            wire.endedAt,
        )
        if v
    ]
    return min((k for k in keys if k), default="")
