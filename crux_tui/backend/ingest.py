"""Pure validation of ingest batches (contract section 2.2, schema v2).

:func:`check_batch` looks at the batch envelope; :func:`validate_record` turns one decoded
record into an :class:`IngestDisposition` plus, when accepted, the typed :class:`WireRecord`.
Nothing here raises on bad input: every problem becomes a disposition with a stable code.
"""

from __future__ import annotations

from typing import Any

import msgspec

from crux_tui.backend.wire import PROJECTED_TYPES, WireRecord
from crux_tui.contract.models import IngestDisposition
from crux_tui.contract.vocabulary import (
    ARTIFACT_KINDS,
    EDGE_TYPES,
    PRIMITIVE_FAMILY,
    SCHEMA_VERSION,
    is_custom,
)

ACCEPTED = "accepted"
INVALID_RECORD = "invalid_record"
UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
MISSING_SEGMENT_IDENTITY = "missing_segment_identity"
UNKNOWN_PRIMITIVE = "unknown_primitive"
FAMILY_MISMATCH = "family_mismatch"
INVALID_ARTIFACT_KIND = "invalid_artifact_kind"
INVALID_EDGE_TYPE = "invalid_edge_type"
TRANSIENT_STORAGE_ERROR = "storage_unavailable"

BATCH_VERSION_MESSAGE = "unsupported observability batch schema version"


class BatchError(ValueError):
    """The body is JSON but not a batch object (answered with 400)."""


def check_batch(batch: Any) -> tuple[list[Any], bool, dict[str, Any] | None]:
    """Return ``(records, version_ok, source_health)`` for a decoded body.

    Raises :class:`BatchError` when ``batch`` is not an object with a ``records`` array.
    """
    if not isinstance(batch, dict):
        raise BatchError("batch must be a JSON object")
    records = batch.get("records")
    if not isinstance(records, list):
        raise BatchError("batch.records must be an array")
    version = batch.get("schemaVersion")
    version_ok = type(version) is int and version == SCHEMA_VERSION
    health = batch.get("sourceHealth")
    return records, version_ok, health if isinstance(health, dict) else None


def record_id_of(record: Any) -> str:
    """The record's ``recordId`` when it is a string, else ""."""
    if isinstance(record, dict):
        value = record.get("recordId")
        if isinstance(value, str):
            return value
    return ""


def batch_version_dispositions(records: list[Any]) -> list[IngestDisposition]:
    """Dispositions for a batch whose envelope ``schemaVersion`` is missing or unsupported."""
    return [
        IngestDisposition(
            index=i,
            recordId=record_id_of(r),
            outcome="rejected",
            code=UNSUPPORTED_SCHEMA_VERSION,
            message=BATCH_VERSION_MESSAGE,
            retryable=False,
        )
        for i, r in enumerate(records)
    ]


def _reject(index: int, record_id: str, code: str, message: str) -> IngestDisposition:
    return IngestDisposition(
        index=index,
        recordId=record_id,
        outcome="rejected",
        code=code,
        message=message,
        retryable=False,
    )


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def validate_record(index: int, record: Any) -> tuple[IngestDisposition, WireRecord | None]:
    """Validate one record; returns its disposition and the typed record when accepted.

    Accepted records of an unknown ``type`` come back with ``None`` as the typed record:
    they are stored raw but not projected.
    """
    if not isinstance(record, dict):
        return _reject(index, "", INVALID_RECORD, "record must be a JSON object"), None
    rid = record_id_of(record)
    version = record.get("schemaVersion")
    if type(version) is not int or version != SCHEMA_VERSION:
        return _reject(
            index, rid, UNSUPPORTED_SCHEMA_VERSION, f"record schemaVersion must be {SCHEMA_VERSION}"
        ), None
    if not _nonempty_str(record.get("recordId")):
        return _reject(index, rid, INVALID_RECORD, "recordId is required"), None
    if not _nonempty_str(record.get("runId")):
        return _reject(index, rid, INVALID_RECORD, "runId is required"), None
    seq = record.get("segmentSeq")
    if not _nonempty_str(record.get("segmentId")) or type(seq) is not int or not 0 < seq < 2**63:
        return _reject(index, rid, MISSING_SEGMENT_IDENTITY, "missing v2 segment identity"), None
    rtype = record.get("type")
    if not _nonempty_str(rtype):
        return _reject(index, rid, INVALID_RECORD, "type is required"), None
    accepted = IngestDisposition(index=index, recordId=rid)
    if rtype not in PROJECTED_TYPES:
        return accepted, None
    try:
        wire = msgspec.convert(record, WireRecord)
    except msgspec.ValidationError as exc:
        return _reject(index, rid, INVALID_RECORD, f"{rtype}: {exc}"), None
    except RecursionError:  # callers bound the depth first (tolerant.limit_depth)
        return _reject(index, rid, INVALID_RECORD, f"{rtype}: nested too deeply"), None
    problem = _type_rules(wire)
    if problem is not None:
        return _reject(index, rid, problem[0], problem[1]), None
    return accepted, wire


def _check_primitive(primitive: str | None, family: str | None) -> tuple[str, str] | None:
    if not primitive:
        return UNKNOWN_PRIMITIVE, "primitive is required"
    expected = PRIMITIVE_FAMILY.get(primitive)
    if expected is None:
        return UNKNOWN_PRIMITIVE, f"unknown primitive {primitive!r}"
    if family is not None and family != expected:
        return FAMILY_MISMATCH, f"family {family!r} does not match primitive {primitive!r}"
    return None


def _type_rules(wire: WireRecord) -> tuple[str, str] | None:
    """Per-type rules; returns ``(code, message)`` for the first violation."""
    rtype = wire.type
    if rtype == "run:start":
        if wire.segmentSeq != 1:
            return INVALID_RECORD, "run:start must have segmentSeq 1"
        return _check_primitive(wire.rootPrimitive, None)
    if rtype in ("span:start", "span"):
        if not wire.spanId:
            return INVALID_RECORD, f"{rtype} requires spanId"
        return _check_primitive(wire.primitive, wire.family or "")
    if rtype == "span:end" and not wire.spanId:
        return INVALID_RECORD, "span:end requires spanId"  # else it would end a phantom span
    if rtype == "edge":
        if not wire.edgeType or not (wire.edgeType in EDGE_TYPES or is_custom(wire.edgeType)):
            return INVALID_EDGE_TYPE, f"invalid edge type {wire.edgeType!r}"
        return None
    if rtype == "artifact":
        if not wire.kind or not (wire.kind in ARTIFACT_KINDS or is_custom(wire.kind)):
            return INVALID_ARTIFACT_KIND, f"invalid artifact kind {wire.kind!r}"
        return None
    return None
