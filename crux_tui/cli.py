"""Command line: ``crux-tui [--url URL] [--token TOKEN]`` and the ``serve``, ``demo``,
``open``, ``export`` and ``doctor`` commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from crux_tui.loading import CliError, loaded_backend, read_records_file
from crux_tui.sanitize import clean, inert_json, say

DEFAULT_URL = "http://localhost:4400"


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, clean(f"{self.prog}: error: {message} (see --help)") + "\n")


def default_url() -> str:
    """``CRUX_DEVTOOLS_URL`` or ``http://localhost:4400``."""
    return os.environ.get("CRUX_DEVTOOLS_URL") or DEFAULT_URL


def backend_url(raw: str) -> str:
    """A backend URL as given, with ``http://`` added when it has no scheme
    (``localhost:4400``); anything that is not an http(s) URL is a one-line error."""
    text = raw.strip()
    if not text.isprintable():
        raise CliError(f"invalid backend URL {raw!r} (it holds control characters)")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise CliError(f"invalid backend URL {raw!r} ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"invalid backend URL {raw!r} (expected http://HOST:PORT)")
    return text.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = _Parser(
        prog="crux-tui",
        description="Terminal trace viewer for Crux devtools. Without a command, opens the "
        "viewer against a running backend (`crux dev` or `crux-tui serve`).",
    )
    parser.add_argument(
        "--url", default=None, help=f"backend URL (default: $CRUX_DEVTOOLS_URL or {DEFAULT_URL})"
    )
    parser.add_argument("--token", default=None, help="session token, sent as ?t=<token>")
    _source_root_option(parser)
    _add_live_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = sub.add_parser(
        "serve",
        help="run the embedded devtools backend in the foreground",
        description="Run the embedded Crux-compatible devtools backend (HTTP + SSE over SQLite).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=4400, help="port (default 4400)")
    serve.add_argument(
        "--db", default=None, help="SQLite file (default: in the user data dir; ':memory:' works)"
    )
    serve.add_argument(
        "--clock", default=None, metavar="RFC3339", help="freeze the projection clock at this time"
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name (a tunnel's public name); "
        "requires the token (generated and printed when --token is not given)",
    )
    serve.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument(
        "--token",
        dest="serve_token",
        default=None,
        help="require this token (?t= for reads, Bearer or ?t= for ingest)",
    )

    demo = sub.add_parser(
        "demo",
        help="open the viewer on generated demo runs",
        description="Start the embedded backend (a child process on a free loopback port), "
        "load demo runs, and open the viewer.",
    )
    demo.add_argument(
        "--records",
        metavar="OUT.jsonl",
        help="write the demo records as JSONL (for any Crux-compatible backend) and exit",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    _source_root_option(demo, "command_source_roots")
    _add_live_option(demo, dest="sub_live")

    open_ = sub.add_parser(
        "open",
        help="open the viewer on records from a JSONL file",
        description="Start the embedded backend (a child process), load canonical records "
        "from FILE.jsonl (one record per line) and open the viewer.",
    )
    open_.add_argument("file", metavar="FILE.jsonl", help="records, one JSON object per line")
    _source_root_option(open_, "command_source_roots")
    _add_live_option(open_, dest="sub_live")

    export = sub.add_parser(
        "export",
        help="write an operation's canonical records as JSONL",
        description="Write the raw records of a run's whole operation (every member run, "
        "each record in the schema version it was stored in) as JSONL.",
    )
    export.add_argument("run_id", metavar="RUN_ID", help="run id or operation id")
    export.add_argument("--url", dest="export_url", default=None, help="backend URL")
    export.add_argument("-o", "--output", default=None, help="output file (default: stdout)")

    from crux_tui import doctor

    doctor.add_parser(sub)
    return parser


def _source_root_option(parser: argparse.ArgumentParser, dest: str = "source_roots") -> None:
    """``--source-root DIR`` (repeatable) on the viewer commands: where the artifact viewer
    looks for a stack frame's file, after the current directory. Given after a command it
    adds to the ones given before it (see :func:`_roots`)."""
    parser.add_argument(
        "--source-root",
        dest=dest,
        action="append",
        default=[],
        metavar="DIR",
        help="where stack frames' files are looked for, after the current directory (repeatable)",
    )


LIVE_CHOICES = ("auto", "sse", "ws", "poll")


def _add_live_option(parser: argparse.ArgumentParser, dest: str = "live") -> None:
    parser.add_argument(
        "--live",
        dest=dest,
        choices=LIVE_CHOICES,
        default=None,
        help="live updates over Server-Sent Events, the /ws/ui WebSocket or polling "
        "(default auto: SSE where the backend has it, else the WebSocket, else polling)",
    )


def live_transport(args: argparse.Namespace) -> str:
    """The ``--live`` choice, given before or after the command."""
    return getattr(args, "sub_live", None) or args.live or "auto"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crux-tui`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "open":
            return _open(args)
        if args.command == "export":
            return _export(args)
        if args.command == "doctor":
            from crux_tui import doctor

            return doctor.run(args, backend_url, default_url())
        return _tui(
            backend_url(args.url or default_url()),
            args.token,
            source_roots=_roots(args),
            live=live_transport(args),
        )
    except CliError as exc:
        say(f"crux-tui: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


def _optional_import(module: str, name: str) -> Any:
    """Import ``module.name`` or fail with a one-line CLI error."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise CliError(f"{module}.{name} is not available in this build ({exc})") from exc


def _tui(
    url: str,
    token: str | None,
    notices: Sequence[str] = (),
    source_roots: Sequence[str] = (),
    live: str = "auto",
    source: str = "",
) -> int:
    run_tui = _optional_import("crux_tui.app.main", "run_tui")
    roots = list(source_roots)
    return int(run_tui(url, token, notices, source_roots=roots, live=live, source=source) or 0)


def _serve(args: argparse.Namespace) -> int:
    from crux_tui.backend.embedded import serve_forever
    from crux_tui.backend.timeutil import parse

    if args.clock is not None and parse(args.clock) is None:
        raise CliError(f"invalid --clock value {args.clock!r} (expected RFC3339)")
    if not 0 <= args.port <= 65535:
        raise CliError(f"invalid --port {args.port}")
    token = args.serve_token or args.token
    try:
        return serve_forever(
            args.host,
            args.port,
            args.db,
            args.clock,
            token,
            allowed_hosts=args.allow_host,
            exit_with_stdin=args.exit_with_stdin,
        )
    except KeyboardInterrupt:
        return 0


def _view_records(
    records: list[Any],
    problems: list[str],
    *,
    live: bool = False,
    lines: Sequence[int] | None = None,
    source: str = "",
    source_roots: Sequence[str] = (),
    transport: str = "auto",
) -> int:
    """Load ``records`` into an embedded backend (a child process) and open the viewer on
    it; when none is accepted, print the problems and fail instead (``source`` names the
    file in that message, and the runs list shows it instead of the backend's URL)."""
    with loaded_backend(records, problems, lines=lines, source=source) as (backend, problems):
        feeders: list[Any] = []
        if live:
            from crux_tui.demo import LateRootFeeder, LiveRunFeeder

            feeders = [LiveRunFeeder(backend.url).start(), LateRootFeeder(backend.url).start()]
        try:
            code = _tui(backend.url, None, problems, source_roots, transport, source)
        finally:
            for feeder in feeders:
                feeder.stop()
    for problem in problems:  # the notifications are gone with the screen; keep a record
        say(f"crux-tui: {problem}")
    return code


def _demo(args: argparse.Namespace) -> int:
    roots = _roots(args)
    build_demo_records = _optional_import("crux_tui.demo", "build_demo_records")
    if args.records:
        from crux_tui.demo import demo_file_records, write_jsonl

        records = demo_file_records(seed=args.seed)
        try:
            count = write_jsonl(args.records, records)
        except OSError as exc:
            raise CliError(f"cannot write {args.records}: {exc.strerror}") from exc
        say(f"wrote {count} records to {args.records}", sys.stdout)
        return 0
    return _view_records(
        build_demo_records(seed=args.seed),
        [],
        live=True,
        source="demo",
        source_roots=roots,
        transport=live_transport(args),
    )


def _open(args: argparse.Namespace) -> int:
    roots = _roots(args)
    path = Path(args.file)
    contents = read_records_file(path)
    return _view_records(
        contents.records,
        list(contents.errors),
        lines=contents.lines,
        source=str(path),
        source_roots=roots,
        transport=live_transport(args),
    )


def _roots(args: argparse.Namespace) -> list[str]:
    """Every ``--source-root``, given before the command or after it; each must be a directory."""
    roots = [*getattr(args, "source_roots", []), *getattr(args, "command_source_roots", [])]
    for root in roots:
        if not Path(root).expanduser().is_dir():
            raise CliError(f"--source-root {root}: not a directory")
    return roots


def _export(args: argparse.Namespace) -> int:
    from crux_tui.contract.client import CruxClient
    from crux_tui.contract.errors import CruxError, NotFound
    from crux_tui.contract.models import items

    url = backend_url(args.export_url or args.url or default_url())

    async def fetch() -> list[str]:
        async with CruxClient(url, args.token) as client:
            try:
                members = [args.run_id]
                try:  # a v5 backend exports the whole operation: every member run
                    detail = await client.run_detail(args.run_id)
                except NotFound:
                    raise
                except CruxError:
                    detail = None
                if detail is not None:
                    runs = [m.run.runId for m in items(detail.memberRuns) if m.run.runId]
                    members = runs or members
                lines: list[str] = []
                for run_id in members:
                    graph = await client.graph(run_id)
                    lines.extend(r.payloadJson for r in items(graph.records))
            except NotFound:
                await client.runs_page(limit=1)  # a server that is not Crux says so here
                raise
        return lines

    try:
        lines = asyncio.run(fetch())
    except NotFound as exc:
        raise CliError(f"run {args.run_id!r} not found at {url}") from exc
    except CruxError as exc:
        raise CliError(str(exc)) from exc
    text = "".join(line + "\n" for line in lines)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror}") from exc
        say(f"wrote {len(lines)} records to {args.output}")
    elif sys.stdout.isatty():
        shown = inert_json(text)
        sys.stdout.write(shown)
        if shown != text:
            say(
                "crux-tui: control and format characters were escaped as \\uXXXX for the"
                " terminal (same JSON values); write to a file or a pipe for the raw records"
            )
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
