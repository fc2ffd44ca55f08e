"""Record streams as JSON Lines: one record, or one ``{"schemaVersion", "records"}``
batch, per line.

Reading never stops at a bad line: each problem becomes a message that names its line,
and the rest loads. A line is read up to :data:`MAX_LINE_BYTES` (the backend's batch
limit: a longer line could not be sent anyway), so a huge file without newlines costs
no more memory than one batch.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from crux_tui.contract.vocabulary import SUPPORTED_SCHEMA_VERSIONS

#: The longest line read (the embedded backend's request body limit, 1 MiB).
MAX_LINE_BYTES = 1024 * 1024
_CHUNK = 64 * 1024

_decoder = msgspec.json.Decoder()
_READABLE = ", ".join(map(str, sorted(SUPPORTED_SCHEMA_VERSIONS)))


class NotARegularFile(OSError):
    """The path names a directory, FIFO, socket or device, not a file of records."""


@dataclass
class JsonlContents:
    """What a JSONL file held: ``records`` with the line each came from, and problems."""

    records: list[dict[str, Any]] = field(default_factory=list)
    #: ``lines[i]`` is the 1-based line of ``records[i]``
    lines: list[int] = field(default_factory=list)
    #: one message per problem, each starting with ``line N:``
    errors: list[str] = field(default_factory=list)
    #: lines that held something (not blank)
    nonblank_lines: int = 0


def supported_batch_version(version: Any) -> bool:
    """Whether a batch envelope's ``schemaVersion`` is one this build reads."""
    return type(version) is int and version in SUPPORTED_SCHEMA_VERSIONS


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool) or value is None:
        return f"JSON {str(value).lower() if value is not None else 'null'}"
    return "a JSON number"


def check_readable(path: str | Path) -> Path:
    """``path`` as a :class:`Path` when it names a regular file (following links).

    Raises ``FileNotFoundError`` or :class:`NotARegularFile` (what it is instead).
    """
    path = Path(path)
    mode = os.stat(path).st_mode  # FileNotFoundError, PermissionError
    if stat.S_ISREG(mode):
        return path
    what = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a file"
    )
    raise NotARegularFile(f"not a regular file: {path} ({what})")


def _lines(handle: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, line)`` pairs; a line longer than ``limit`` comes as ``None``
    after being skipped without keeping it."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield number, line
            continue
        while True:  # too long: skip to the end of the line
            rest = handle.readline(_CHUNK)
            if not rest or rest.endswith(b"\n"):
                break
        yield number, None


def read_jsonl_lines(path: str | Path, *, max_line: int = MAX_LINE_BYTES) -> JsonlContents:
    """Read records from ``path``, keeping each record's line; bad lines become messages.

    Raises ``OSError`` (:class:`NotARegularFile` for a directory, FIFO or device) only
    when the file itself cannot be read.
    """
    out = JsonlContents()
    with open(check_readable(path), "rb") as handle:
        for number, line in _lines(handle, max_line):
            if line is None:
                out.nonblank_lines += 1
                out.errors.append(
                    f"line {number}: longer than {max_line // 1024} KiB (the backend's batch"
                    " limit), skipped"
                )
                continue
            if not line.strip():
                continue
            out.nonblank_lines += 1
            _read_line(number, line, out)
    return out


def _read_line(number: int, line: bytes, out: JsonlContents) -> None:
    try:
        value = _decoder.decode(line)
    except msgspec.DecodeError as exc:
        out.errors.append(f"line {number}: invalid JSON: {exc}")
        return
    if not isinstance(value, dict):
        out.errors.append(
            f"line {number}: not a record or batch ({_kind_of(value)}, expected a JSON object)"
        )
        return
    if "records" in value and "type" not in value:
        _read_batch(number, value, out)
    elif "type" in value:
        out.records.append(value)
        out.lines.append(number)
    else:
        keys = ", ".join(sorted(str(k) for k in value)[:3]) or "none"
        out.errors.append(
            f'line {number}: an object with neither "type" (a record) nor "records"'
            f" (a batch); its keys: {keys}"
        )


def _read_batch(number: int, value: dict[str, Any], out: JsonlContents) -> None:
    batch = value["records"]
    if not isinstance(batch, list):
        out.errors.append(f'line {number}: a batch whose "records" is not an array')
        return
    version = value.get("schemaVersion")
    if not supported_batch_version(version):
        shown = "missing" if version is None else msgspec.json.encode(version).decode()[:20]
        out.errors.append(
            f"line {number}: batch schemaVersion {shown} is not supported (this build reads"
            f" {_READABLE}); its {len(batch)} record{'s' if len(batch) != 1 else ''}"
            " skipped"
        )
        return
    bad = [i + 1 for i, r in enumerate(batch) if not isinstance(r, dict)]
    for record in batch:
        if isinstance(record, dict):
            out.records.append(record)
            out.lines.append(number)
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (" …" if len(bad) > 5 else "")
        out.errors.append(
            f"line {number}: batch entr{'ies' if len(bad) > 1 else 'y'} {shown} of"
            f" {len(batch)} {'are' if len(bad) > 1 else 'is'} not a record (expected an object)"
        )


def read_jsonl(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Read records from ``path``; bad lines become messages with their line number.

    Raises ``OSError`` only when the file itself cannot be read.
    """
    contents = read_jsonl_lines(path)
    return contents.records, contents.errors


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write one record per line; returns how many were written."""
    count = 0
    with open(path, "wb") as handle:
        for record in records:
            handle.write(msgspec.json.encode(record) + b"\n")
            count += 1
    return count
