"""Records into a backend, for the commands that load them (``demo``, ``open``,
``doctor``): ingest batches, loading through the real ingest route with each problem named
by its file line, a progress line for big files, an embedded backend holding a file's
records, and reading a JSONL file."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from crux_tui.sanitize import clean, say

MAX_BATCH_RECORDS = 50
MAX_BATCH_BYTES = 1024 * 1024 - 4096


class CliError(Exception):
    """A one-line user-facing error."""


def _version(record: Any) -> Any:
    return record.get("schemaVersion") if isinstance(record, dict) else None


def batches(records: list[Any]) -> list[list[Any]]:
    """Split records into ingest batches of at most 50 records and ~1 MiB, each of one
    schema version (a file may mix versions; every record keeps its own)."""
    out: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for record in records:
        length = len(msgspec.json.encode(record)) + 1
        if current and (
            len(current) >= MAX_BATCH_RECORDS
            or size + length > MAX_BATCH_BYTES
            or _version(record) != _version(current[0])
        ):
            out.append(current)
            current, size = [], 0
        current.append(record)
        size += length
    if current:
        out.append(current)
    return out


@dataclass
class LoadReport:
    """What loading records into a backend did: its problems and how many were accepted."""

    problems: list[str] = field(default_factory=list)
    accepted: int = 0


def _where(index: int, lines: Sequence[int] | None) -> str:
    """``line N`` (``line N, record K of its batch``) or ``record N`` (1-based)."""
    if lines is None:
        return f"record {index + 1}"
    line = lines[index]
    first = index
    while first > 0 and lines[first - 1] == line:
        first -= 1
    shared = first < index or (index + 1 < len(lines) and lines[index + 1] == line)
    return f"line {line}, record {index - first + 1} of its batch" if shared else f"line {line}"


def load_records_report(
    url: str,
    records: list[Any],
    token: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    lines: Sequence[int] | None = None,
) -> LoadReport:
    """POST ``records`` to a backend through the real ingest route.

    ``lines[i]`` (the file line of ``records[i]``) names problems by line; without it
    they are named by record number. ``progress(sent, total)`` is called after each batch.
    """
    from crux_tui.contract.client import CruxClient
    from crux_tui.contract.errors import CruxError

    report = LoadReport()

    async def run() -> None:
        async with CruxClient(url, token) as client:
            offset = 0
            for chunk in batches(records):
                try:
                    dispositions = await client.post_records(chunk)
                except CruxError as exc:
                    last = _where(offset + len(chunk) - 1, lines)
                    report.problems.append(f"{_where(offset, lines)} to {last}: {exc}")
                else:
                    for d in dispositions:
                        if d.outcome == "accepted":
                            report.accepted += 1
                            continue
                        label = d.recordId or "?"
                        report.problems.append(
                            f"{_where(offset + d.index, lines)} ({label}): {d.code}"
                            + (f": {d.message}" if d.message else "")
                        )
                offset += len(chunk)
                if progress is not None:
                    progress(offset, len(records))

    asyncio.run(run())
    return report


def load_records(
    url: str,
    records: list[Any],
    token: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """POST ``records`` to a backend through the real ingest route; returns problems.

    ``progress(sent, total)`` is called after each batch.
    """
    return load_records_report(url, records, token, progress).problems


class LoadProgress:
    """One line on standard error while a big file is read and loaded (``loading
    records: N of M``): only on a terminal, at most ten times a second, cleared when done."""

    MIN_RECORDS = 20_000

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._shown_at = 0.0
        self._shown = False

    def show(self, text: str) -> None:
        """Replace the line with ``text`` (nothing when not on a terminal)."""
        if not self.stream.isatty():
            return
        self._shown = True
        self.stream.write(f"\rcrux-tui: {clean(text)}")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the line, if one was shown."""
        if self._shown:
            self._shown = False
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def __call__(self, sent: int, total: int) -> None:
        if total < self.MIN_RECORDS:
            return
        now = time.monotonic()
        if sent < total and now - self._shown_at < 0.1:
            return
        self._shown_at = now
        if sent >= total:
            self.clear()
        else:
            self.show(f"loading records: {sent:,} of {total:,}")


@contextlib.contextmanager
def loaded_backend(
    records: list[Any],
    problems: list[str],
    *,
    lines: Sequence[int] | None = None,
    source: str = "",
) -> Iterator[tuple[Any, list[str]]]:
    """An embedded backend (a child process) holding ``records``: ``(backend, problems)``,
    the problems found while reading and loading them. When no record is accepted, the
    problems are printed and a :class:`CliError` says so (``source`` names the file)."""
    from crux_tui.backend.process import BackendProcess, BackendStartError

    try:
        backend = BackendProcess().start()
    except BackendStartError as exc:
        raise CliError(str(exc)) from exc
    with backend:
        report = load_records_report(backend.url, records, progress=LoadProgress(), lines=lines)
        problems = problems + report.problems
        if records and not report.accepted:
            for problem in problems:
                say(f"crux-tui: {problem}")
            raise CliError(f"no record of {source or 'the input'} was accepted")
        yield backend, problems


def read_records_file(path: Path) -> Any:
    """The records of a JSONL file (``JsonlContents``); a file that cannot be read, or holds
    no valid record (its problems printed), is a :class:`CliError`."""
    from crux_tui.demo.jsonl import NotARegularFile, read_jsonl_lines

    note = LoadProgress()
    try:
        if path.stat().st_size > 16 * 1024 * 1024:  # seconds to read: say so, not nothing
            note.show(f"reading {path.name}…")
        contents = read_jsonl_lines(path)
    except FileNotFoundError as exc:
        raise CliError(f"no such file: {path}") from exc
    except NotARegularFile as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc
    finally:
        note.clear()
    if not contents.records:
        for error in contents.errors:
            say(f"crux-tui: {error}")
        if not contents.nonblank_lines:
            raise CliError(f"{path} holds no records (it is empty)")
        raise CliError(f"no valid records in {path}")
    return contents
