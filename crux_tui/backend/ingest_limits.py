"""Bounds on the work and the answer of one ingest request (issue #13 item 6).

A batch holds at most :data:`MAX_BATCH_RECORDS` records (the Crux SDK sends at most 50):
beyond that the request is refused with one line. Rejections are answered one per record,
as the contract says, unless that answer would be much bigger than the request (a body of
tiny non-records, say ``[1,1,1,…]``): identical rejections are then collapsed into the first
of each kind, whose message says how many records it stands for.
"""

from __future__ import annotations

from crux_tui.contract.models import IngestDisposition

MAX_BATCH_RECORDS = 10_000
#: An answer up to this size is never collapsed.
MIN_COLLAPSE_BYTES = 64 * 1024


def too_many_records(count: int) -> str | None:
    """The one-line refusal for a batch of ``count`` records, or ``None`` when it is fine."""
    if count <= MAX_BATCH_RECORDS:
        return None
    return f"batch of {count} records is over the limit of {MAX_BATCH_RECORDS} records per batch"


def answer_bound(request_bytes: int) -> int:
    """The largest answer (bytes) that is sent uncollapsed for a request of this size."""
    return max(2 * request_bytes, MIN_COLLAPSE_BYTES)


def collapse_rejections(dispositions: list[IngestDisposition]) -> list[IngestDisposition]:
    """Accepted records as they are; each kind of rejection (code, message, retryable) once,
    at its first index, its message saying how many records share it."""
    first: dict[tuple[str, str, bool], IngestDisposition] = {}
    counts: dict[tuple[str, str, bool], int] = {}
    out: list[IngestDisposition] = []
    for d in dispositions:
        if d.outcome == "accepted":
            out.append(d)
            continue
        key = (d.code, d.message or "", d.retryable)
        counts[key] = counts.get(key, 0) + 1
        if key not in first:
            first[key] = IngestDisposition(
                index=d.index,
                recordId=d.recordId,
                outcome=d.outcome,
                code=d.code,
                message=d.message,
                retryable=d.retryable,
            )
            out.append(first[key])
    for key, disposition in first.items():
        others = counts[key] - 1
        if others:
            note = f"and {others} more record{'s' if others != 1 else ''} rejected the same way"
            disposition.message = f"{disposition.message} ({note})" if disposition.message else note
    return out
