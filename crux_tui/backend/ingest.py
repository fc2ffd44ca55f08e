"""Pure validation of ingest batches, each by the rules of its own schema version (2-5).

:func:`check_batch` looks at the batch envelope; :func:`validate_record` turns one decoded
record into an :class:`IngestDisposition` plus, when accepted, the typed :class:`WireRecord`.
Nothing here raises on bad input: every problem becomes a disposition with a stable code.

Per version (``crux-api.md`` 2.2, ``crux-v5.md`` A.2-A.4): v2 needs a segment identity on
every record; v3 adds an optional, validated ``deployment``; v4 requires ``operationId``
and the run topology on ``run:start`` (a root names no parent, a child names its parent
run); each version has its own closed lists of primitives, edge types and artifact kinds.
The store adds the rules that need stored state (``operation_identity_conflict``,
``record_id_conflict``, ``operation_deleted``).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from crux_tui.backend.wire import PROJECTED_TYPES, WireRecord
from crux_tui.contract.models import IngestDisposition
from crux_tui.contract.vocabulary import (
    DEPLOYMENT_SCHEMA_VERSION,
    OPERATION_SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    TAXONOMY,
    Taxonomy,
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
#: A record of a run that is already stored under another operation.
OPERATION_IDENTITY_CONFLICT = "operation_identity_conflict"
#: A ``recordId`` already stored (or earlier in the batch) with different content.
RECORD_ID_CONFLICT = "record_id_conflict"
#: A record of an operation that was deleted.
OPERATION_DELETED = "operation_deleted"

BATCH_VERSION_MESSAGE = "unsupported observability batch schema version"

_DEPLOYMENT_KEYS = frozenset({"projectId", "manifestId", "deploymentId"})
_MANIFEST_ID = re.compile(r"pim_[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BatchError(ValueError):
    """The body is JSON but not a batch object (answered with 400)."""


def supported_version(value: Any) -> int | None:
    """``value`` when it is a schema version crux-tui reads, else ``None``."""
    if type(value) is int and value in SUPPORTED_SCHEMA_VERSIONS:
        return value
    return None


def check_batch(batch: Any) -> tuple[list[Any], int | None, dict[str, Any] | None]:
    """Return ``(records, version, source_health)`` for a decoded body.

    ``version`` is the batch ``schemaVersion`` when supported, else ``None`` (answered
    with 422). Raises :class:`BatchError` when ``batch`` is not an object with a
    ``records`` array.
    """
    if not isinstance(batch, dict):
        raise BatchError("batch must be a JSON object")
    records = batch.get("records")
    if not isinstance(records, list):
        raise BatchError("batch.records must be an array")
    health = batch.get("sourceHealth")
    return (
        records,
        supported_version(batch.get("schemaVersion")),
        (health if isinstance(health, dict) else None),
    )


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


def rejection(index: int, record_id: str, code: str, message: str) -> IngestDisposition:
    """A non-retryable rejection."""
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


def validate_record(
    index: int, record: Any, version: int | None = None
) -> tuple[IngestDisposition, WireRecord | None]:
    """Validate one record by the rules of its schema version.

    ``version`` is the batch's version: the record must carry the same one. Without it
    (records loaded directly into the store) any supported version is taken as is.
    Accepted records of an unknown ``type`` come back with ``None`` as the typed record:
    they are stored raw but not projected.
    """
    if not isinstance(record, dict):
        return rejection(index, "", INVALID_RECORD, "record must be a JSON object"), None
    rid = record_id_of(record)
    own = record.get("schemaVersion")
    if (
        type(own) is not int
        or own not in SUPPORTED_SCHEMA_VERSIONS
        or (version is not None and own != version)
    ):
        expected = version if version is not None else "one of 2, 3, 4, 5"
        return rejection(
            index, rid, UNSUPPORTED_SCHEMA_VERSION, f"record schemaVersion must be {expected}"
        ), None
    if not _nonempty_str(record.get("recordId")):
        return rejection(index, rid, INVALID_RECORD, "recordId is required"), None
    if not _nonempty_str(record.get("runId")):
        return rejection(index, rid, INVALID_RECORD, "runId is required"), None
    seq = record.get("segmentSeq")
    if not _nonempty_str(record.get("segmentId")) or type(seq) is not int or not 0 < seq < 2**63:
        return rejection(index, rid, MISSING_SEGMENT_IDENTITY, "missing v2 segment identity"), None
    rtype = record.get("type")
    if not _nonempty_str(rtype):
        return rejection(index, rid, INVALID_RECORD, "type is required"), None
    problem = _envelope_rules(record, own)
    if problem is not None:
        return rejection(index, rid, INVALID_RECORD, problem), None
    accepted = IngestDisposition(index=index, recordId=rid)
    if rtype not in PROJECTED_TYPES:
        return accepted, None
    try:
        wire = msgspec.convert(record, WireRecord)
    except msgspec.ValidationError as exc:
        return rejection(index, rid, INVALID_RECORD, f"{rtype}: {exc}"), None
    except RecursionError:  # callers bound the depth first (tolerant.limit_depth)
        return rejection(index, rid, INVALID_RECORD, f"{rtype}: nested too deeply"), None
    found = _type_rules(wire, TAXONOMY[own])
    if found is not None:
        return rejection(index, rid, found[0], found[1]), None
    return accepted, wire


def _envelope_rules(record: dict[str, Any], version: int) -> str | None:
    """The v3+/v4+ envelope rules; returns the first problem."""
    if version >= DEPLOYMENT_SCHEMA_VERSION and "deployment" in record:
        problem = deployment_problem(record["deployment"])
        if problem is not None:
            return problem
    if version < OPERATION_SCHEMA_VERSION:
        return None
    operation = record.get("operationId")
    if not _nonempty_str(operation):
        return f"operationId is required (schema v{version})"
    if record["type"] != "run:start":
        return None
    parent, trigger = record.get("parentRunId"), record.get("triggeredBySpanId")
    for name, value in (("parentRunId", parent), ("triggeredBySpanId", trigger)):
        if value is not None and not isinstance(value, str):
            return f"run:start: {name} must be a string"
    if operation == record["runId"]:
        if parent or trigger:
            return "run:start of an operation root must not carry parentRunId or triggeredBySpanId"
    elif not parent:
        return "run:start of a child run (operationId != runId) requires parentRunId"
    return None


def _identity(value: Any, name: str) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= 200:
        return f"deployment.{name} must be a string of 1 to 200 characters"
    if _CONTROL.search(value) or value != value.strip():
        return f"deployment.{name} must not have control characters or surrounding spaces"
    return None


def deployment_problem(value: Any) -> str | None:
    """What is wrong with a ``deployment`` object (``crux-v5.md`` A.2), or ``None``."""
    if not isinstance(value, dict):
        return "deployment must be an object"
    unknown = sorted(str(k) for k in value if k not in _DEPLOYMENT_KEYS)
    if unknown:
        return f"deployment has unknown keys: {', '.join(unknown[:5])}"
    problem = _identity(value.get("projectId"), "projectId")
    if problem is None and "deploymentId" in value:
        problem = _identity(value["deploymentId"], "deploymentId")
    if problem is None and "manifestId" in value:
        manifest = value["manifestId"]
        if not isinstance(manifest, str) or not _MANIFEST_ID.fullmatch(manifest):
            problem = "deployment.manifestId must be pim_ followed by 64 lowercase hex digits"
    return problem


def without_unapplied_privacy(record: dict[str, Any]) -> dict[str, Any]:
    """A v5 record as it is kept: ``privacy`` is dropped unless it says a redaction was
    applied (``applied: true`` and at least one surface), as Crux's Go store does."""
    privacy = record.get("privacy")
    if privacy is None or record.get("schemaVersion") != 5:
        return record
    redaction = privacy.get("redaction") if isinstance(privacy, dict) else None
    if (
        isinstance(redaction, dict)
        and redaction.get("applied") is True
        and isinstance(redaction.get("surfaces"), list)
        and redaction["surfaces"]
    ):
        return record
    return {k: v for k, v in record.items() if k != "privacy"}


def _check_primitive(
    primitive: str | None, family: str | None, taxonomy: Taxonomy
) -> tuple[str, str] | None:
    if not primitive:
        return UNKNOWN_PRIMITIVE, "primitive is required"
    expected = taxonomy.primitive_family.get(primitive)
    if expected is None:
        return UNKNOWN_PRIMITIVE, f"unknown primitive {primitive!r}"
    if family is not None and family != expected:
        return FAMILY_MISMATCH, f"family {family!r} does not match primitive {primitive!r}"
    return None


def _type_rules(wire: WireRecord, taxonomy: Taxonomy) -> tuple[str, str] | None:
    """Per-type rules; returns ``(code, message)`` for the first violation."""
    rtype = wire.type
    if rtype == "run:start":
        if wire.segmentSeq != 1:
            return INVALID_RECORD, "run:start must have segmentSeq 1"
        return _check_primitive(wire.rootPrimitive, None, taxonomy)
    if rtype in ("span:start", "span"):
        if not wire.spanId:
            return INVALID_RECORD, f"{rtype} requires spanId"
        return _check_primitive(wire.primitive, wire.family or "", taxonomy)
    if rtype == "span:end" and not wire.spanId:
        return INVALID_RECORD, "span:end requires spanId"  # else it would end a phantom span
    if rtype == "edge":
        edge = wire.edgeType
        if not edge or not (edge in taxonomy.edge_types or is_custom(edge)):
            return INVALID_EDGE_TYPE, f"invalid edge type {edge!r}"
        return None
    if rtype == "artifact":
        if not wire.kind or not (wire.kind in taxonomy.artifact_kinds or is_custom(wire.kind)):
            return INVALID_ARTIFACT_KIND, f"invalid artifact kind {wire.kind!r}"
        return None
    return None
