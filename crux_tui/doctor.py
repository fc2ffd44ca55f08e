"""``crux-tui doctor``: the symptoms (``crux_tui.symptoms``) of a run, of every run in a file,
or of the latest runs on a backend, printed for a person or as JSON; the exit status says
whether any were found, so CI can run it against a recorded test run.

Exit status: 0 no symptom, 1 symptoms found, 2 usage error (bad arguments, no such file or
run, no record in the file), 3 the backend cannot be read (unreachable, not a Crux backend,
refused the request, the embedded one did not start).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import msgspec

from crux_tui.contract.models import RunDetail, RunSummary, items
from crux_tui.contract.vocabulary import SYMPTOM_GLYPH
from crux_tui.loading import CliError, loaded_backend, read_records_file
from crux_tui.sanitize import inert_json, say
from crux_tui.symptoms import Symptom, diagnose, facts
from crux_tui.symptoms.child_action import SKEW_MS
from crux_tui.timestamps import epoch_ms

EXIT_CLEAN = 0
EXIT_SYMPTOMS = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3

#: Latest runs checked on a backend when ``--limit`` is not given.
DEFAULT_LIMIT = 20
#: A file name, not a run id.
FILE_SUFFIXES = (".jsonl", ".ndjson", ".json")


class DoctorError(Exception):
    """A one-line error with the exit status it ends the command with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunReport:
    """One operation checked: its summary and its symptoms."""

    run: RunSummary
    symptoms: list[Symptom]


class _JsonRun(msgspec.Struct, kw_only=True):
    runId: str
    operationId: str
    name: str
    status: str
    symptoms: list[Symptom]


class _JsonReport(msgspec.Struct, kw_only=True):
    source: str
    checked: int
    symptomCount: int
    runs: list[_JsonRun]
    problems: list[str]


def add_parser(sub: Any) -> None:
    """The ``doctor`` command's arguments."""
    doctor = sub.add_parser(
        "doctor",
        help="print the instrumentation symptoms of runs (exit 1 when any)",
        description="Check runs for the Common Symptoms of the Convex observability guide "
        "(a child action recorded as its own run, a run left incomplete, a generation with no "
        "timeout, an unnamed tool, …) and say how to fix each. Checks RUN_ID, every run in "
        "FILE.jsonl, or the latest runs on the backend. Exit status: 0 none, 1 symptoms found, "
        "2 usage error, 3 the backend cannot be read.",
    )
    doctor.add_argument(
        "target",
        nargs="?",
        metavar="RUN_ID | FILE.jsonl",
        help="a run or operation id on the backend, or a JSONL file of records",
    )
    doctor.add_argument("--url", dest="doctor_url", default=None, help="backend URL")
    doctor.add_argument("--json", action="store_true", help="print JSON instead of text")
    doctor.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help=f"how many of the latest runs to check (default {DEFAULT_LIMIT})",
    )


def is_file_target(target: str) -> bool:
    """Whether the argument names a file of records rather than a run id."""
    return target.lower().endswith(FILE_SUFFIXES) or "/" in target or Path(target).is_file()


def run(args: argparse.Namespace, url_of: Any, default_url: str) -> int:
    """Run ``doctor``; ``url_of(raw)`` checks a backend URL (``cli.backend_url``)."""
    try:
        if args.limit is not None and args.limit < 1:
            raise DoctorError(f"--limit must be 1 or more (got {args.limit})", EXIT_USAGE)
        target = args.target or ""
        problems: list[str] = []
        if target and is_file_target(target):
            if args.doctor_url:
                raise DoctorError("give a file or --url, not both", EXIT_USAGE)
            reports, problems = _check_file(Path(target))
            source = target
        else:
            try:
                url = url_of(args.doctor_url or args.url or default_url)
            except CliError as exc:
                raise DoctorError(str(exc), EXIT_USAGE) from exc
            limit = args.limit or DEFAULT_LIMIT
            reports = asyncio.run(check_backend(url, args.token, target or None, limit))
            source = url
    except DoctorError as exc:
        say(f"crux-tui doctor: {exc}")
        return exc.status
    if args.json:
        write_json(reports, source, problems, sys.stdout)
    else:
        write_text(reports, single=bool(args.target) and not is_file_target(args.target))
    return EXIT_SYMPTOMS if any(r.symptoms for r in reports) else EXIT_CLEAN


def _check_file(path: Path) -> tuple[list[RunReport], list[str]]:
    """Load a JSONL file into an embedded backend, as ``open`` does, and check every run."""
    try:
        contents = read_records_file(path)
    except CliError as exc:
        raise DoctorError(str(exc), EXIT_USAGE) from exc
    try:
        with loaded_backend(
            contents.records, list(contents.errors), lines=contents.lines, source=str(path)
        ) as (backend, problems):
            reports = asyncio.run(check_backend(backend.url, None, None, None))
    except CliError as exc:
        accepted_none = "was accepted" in str(exc)
        raise DoctorError(str(exc), EXIT_USAGE if accepted_none else EXIT_BACKEND) from exc
    for problem in problems:
        say(f"crux-tui: {problem}")
    return reports, problems


async def check_backend(
    url: str, token: str | None, run_id: str | None, limit: int | None
) -> list[RunReport]:
    """The reports of ``run_id`` (its operation), else of the ``limit`` latest operations
    (every one when ``limit`` is ``None``), each compared with the others read."""
    from crux_tui.contract.client import CruxClient
    from crux_tui.contract.errors import CruxError, NotFound

    try:
        async with CruxClient(url, token) as client:
            if run_id is not None:
                # the list first: a server that is not Crux says so there
                rows = items((await client.runs_page(limit=limit)).rows)
                try:
                    detail = await client.run_detail(run_id)
                except NotFound:
                    raise DoctorError(f"run {run_id!r} not found at {url}", EXIT_USAGE) from None
                around: list[RunDetail | RunSummary] = list(rows)
                for row in _possible_callers(detail, rows, limit or DEFAULT_LIMIT):
                    around.append(await client.run_detail(row.runId))
                return [RunReport(detail.run, diagnose(detail, around))]
            rows = []
            async for row in client.iter_runs(page_size=min(limit or 100, 100)):
                rows.append(row)
                if limit is not None and len(rows) >= limit:
                    break
            details = [await client.run_detail(row.runId) for row in rows]
    except CruxError as exc:
        raise DoctorError(str(exc), EXIT_BACKEND) from exc
    known = [facts(d) for d in details]
    return [RunReport(d.run, diagnose(d, known)) for d in details]


def _possible_callers(
    detail: RunDetail, rows: Sequence[RunSummary], limit: int
) -> list[RunSummary]:
    """Rows of other operations that were running when ``detail``'s root started: the runs
    whose boundaries it may have started in (read in full for the child-action rule)."""
    start = epoch_ms(detail.run.startedAt)
    own = detail.run.operationId or detail.run.runId
    if start is None:
        return []
    out = []
    for row in rows:
        began, ended = epoch_ms(row.startedAt), epoch_ms(row.endedAt)
        if (row.operationId or row.runId) == own or began is None:
            continue
        if began <= start + SKEW_MS and (ended is None or ended >= start - SKEW_MS):
            out.append(row)
    return out[:limit]


# --------------------------------------------------------------------------- output


def symptom_lines(symptom: Symptom) -> list[str]:
    """A symptom as the lines ``doctor`` prints (record strings cleaned by ``say``)."""
    lines = [f"  {SYMPTOM_GLYPH} {symptom.title} [{symptom.code}]"]
    if symptom.spanIds:
        lines.append(f"      spans: {', '.join(symptom.spanIds)}")
    lines.append(f"      seen: {symptom.evidence}")
    lines.append(f"      fix: {symptom.fix}")
    return lines


def write_text(
    reports: list[RunReport], *, single: bool = False, out: TextIO | None = None
) -> None:
    """Runs with symptoms, each symptom with its spans, evidence and fix, then a summary."""
    stream = out if out is not None else sys.stdout
    found = [r for r in reports if r.symptoms]
    for report in found:
        run = report.run
        say(f"{run.name or run.runId}  ({run.runId}, {run.status or 'unknown'})", stream)
        for symptom in report.symptoms:
            for line in symptom_lines(symptom):
                say(line, stream)
        say("", stream)
    count = sum(len(r.symptoms) for r in found)
    if single and reports:
        run = reports[0].run
        if not count:
            say(f"{run.name or run.runId}  ({run.runId}): no symptoms", stream)
        return
    checked = f"{len(reports)} run{'s' if len(reports) != 1 else ''} checked"
    if count:
        plural = "symptom" if count == 1 else "symptoms"
        say(f"{count} {plural} in {len(found)} of {checked}", stream)
    else:
        say(f"no symptoms: {checked}", stream)


def write_json(
    reports: list[RunReport], source: str, problems: list[str], out: TextIO | None = None
) -> None:
    """Every run checked with its symptoms, as one JSON document (unsafe characters escaped
    as ``\\uXXXX``: the same JSON values, inert in a terminal)."""
    stream = out if out is not None else sys.stdout
    body = _JsonReport(
        source=source,
        checked=len(reports),
        symptomCount=sum(len(r.symptoms) for r in reports),
        runs=[
            _JsonRun(
                runId=r.run.runId,
                operationId=r.run.operationId or r.run.runId,
                name=r.run.name,
                status=r.run.status,
                symptoms=r.symptoms,
            )
            for r in reports
        ],
        problems=problems,
    )
    text = msgspec.json.format(msgspec.json.encode(body), indent=2).decode()
    stream.write(inert_json(text) + "\n")
