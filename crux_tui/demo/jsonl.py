"""Record streams as JSON Lines: one record, or one ``{"schemaVersion", "records"}``
batch, per line."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

_decoder = msgspec.json.Decoder()


def read_jsonl(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Read records from ``path``; bad lines become messages with their line number.

    Raises ``OSError`` only when the file itself cannot be read.
    """
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = _decoder.decode(line)
            except msgspec.DecodeError as exc:
                errors.append(f"line {number}: invalid JSON: {exc}")
                continue
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                batch = value["records"]
                bad = [i for i, r in enumerate(batch) if not isinstance(r, dict)]
                records.extend(r for r in batch if isinstance(r, dict))
                if bad:
                    errors.append(f"line {number}: batch entries {bad[:5]} are not records")
            elif isinstance(value, dict) and "type" in value:
                records.append(value)
            else:
                errors.append(f"line {number}: not a record or batch (expected an object)")
    return records, errors


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write one record per line; returns how many were written."""
    count = 0
    with open(path, "wb") as handle:
        for record in records:
            handle.write(msgspec.json.encode(record) + b"\n")
            count += 1
    return count
