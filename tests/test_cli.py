"""The command line: help, one-line errors, `serve` in a subprocess, `export`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from records import RunBuilder, batch, simple_run
from websockets.sync.client import connect

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.cli import main
from crux_tui.loading import batches


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crux_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("command", [[], ["serve"], ["demo"], ["open"], ["export"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: crux-tui")


@pytest.mark.parametrize("args", [["--bogus"], ["serve", "--nope"], ["export"], ["frobnicate"]])
def test_usage_errors_are_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


def test_serve_subprocess_answers_http(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crux_tui",
            "serve",
            "--port",
            str(port),
            "--db",
            ":memory:",
            "--clock",
            "2026-05-16T18:00:05Z",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(url + "/api/observability/runs/page", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["rows"] == []
        with connect(url.replace("http", "ws") + "/ws/ui", proxy=None, open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "index"
            r = httpx.post(url + "/api/observability/records", json=batch(simple_run("a")))
            assert r.status_code == 202
            event = json.loads(ws.recv(timeout=10))
            assert (event["type"], event["event"]["refId"]) == ("observability:event", "a")
        assert httpx.get(url + "/api/observability/runs/a").json()["run"]["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_rejects_bad_clock() -> None:
    result = run_cli("serve", "--clock", "noon", "--db", ":memory:")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "--clock" in result.stderr


def test_export_writes_canonical_records(
    backend: EmbeddedBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = simple_run("a")
    httpx.post(backend.url + "/api/observability/records", json=batch(records))
    out = tmp_path / "a.jsonl"
    assert main(["export", "a", "--url", backend.url, "-o", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == records
    assert main(["--url", backend.url, "export", "trace_a"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(records)
    assert main(["export", "nope", "--url", backend.url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err


def test_export_unreachable_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["export", "x", "--url", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "crux-tui serve" in err


def test_default_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from crux_tui.cli import default_url

    monkeypatch.setenv("CRUX_DEVTOOLS_URL", "http://127.0.0.1:9999")
    assert default_url() == "http://127.0.0.1:9999"
    monkeypatch.delenv("CRUX_DEVTOOLS_URL")
    assert default_url() == "http://localhost:4400"


def test_batches_respect_limits() -> None:
    records = [{"i": i, "pad": "x" * 100_000} for i in range(30)]
    chunks = batches(records)
    assert [r for chunk in chunks for r in chunk] == records
    assert all(len(json.dumps(c)) < 1024 * 1024 for c in chunks)
    assert [len(c) for c in batches([{"i": i} for i in range(120)])] == [50, 50, 20]
    assert os.environ.get("CRUX_NOTHING") is None


def test_load_records_posts_batches_and_reports_problems(backend: EmbeddedBackend) -> None:
    from crux_tui.loading import load_records

    records = [simple_run(f"r{i}") for i in range(6)]
    flat = [r for run in records for r in run]
    bad = {**flat[0], "recordId": "bad", "segmentSeq": 0}
    problems = load_records(backend.url, [*flat, bad])
    assert len(problems) == 1
    assert problems[0].startswith(f"record {len(flat) + 1} (bad): missing_segment_identity")
    page = httpx.get(backend.url + "/api/observability/runs/page").json()
    assert len(page["rows"]) == 6


def test_export_round_trips_through_open(make_backend: Any, tmp_path: Path) -> None:
    """`export` writes what `open` reads: the same run, presented the same way."""
    from crux_tui.demo import build_demo_records, read_jsonl
    from crux_tui.loading import load_records

    source = make_backend()
    assert load_records(source.url, build_demo_records()) == []
    out = tmp_path / "chat.jsonl"
    assert main(["export", "run_chat_support", "--url", source.url, "-o", str(out)]) == 0

    records, errors = read_jsonl(out)
    assert errors == []
    target = make_backend()
    assert load_records(target.url, records) == []
    first = httpx.get(source.url + "/api/observability/runs/run_chat_support/graph").json()
    second = httpx.get(target.url + "/api/observability/runs/run_chat_support/graph").json()
    assert [r["payloadJson"] for r in first["records"]] == [
        r["payloadJson"] for r in second["records"]
    ]
    assert first["run"]["spanCount"] == second["run"]["spanCount"] > 10


def test_export_writes_the_whole_operation_each_record_in_its_version(
    make_backend: Any, tmp_path: Path
) -> None:
    """An operation whose member runs were written by SDKs of different versions exports
    every member, each record as stored, and opens again as the same operation."""
    from crux_tui.demo import read_jsonl
    from crux_tui.loading import load_records
    from tests.backend.operation_records import OP, child_records, root_records

    legacy = RunBuilder("run_legacy", schema_version=2)  # an unrelated v2 run
    v4_child = [
        {**r, "schemaVersion": 4} for r in child_records("run_v4_child", base="2026-05-16T18:00:02")
    ]
    mixed = [
        *root_records(),
        *child_records("run_v5_child", base="2026-05-16T18:00:01"),
        *v4_child,
        legacy.run_start(),
        legacy.run_end(),
    ]
    assert [len(b) for b in batches(mixed)] == [9, 3, 2]  # one schema version per batch
    source = make_backend()
    assert load_records(source.url, mixed) == []
    out = tmp_path / "operation.jsonl"
    assert main(["export", "run_v4_child", "--url", source.url, "-o", str(out)]) == 0
    records, errors = read_jsonl(out)
    assert errors == []
    assert [r["runId"] for r in records] == [OP] * 6 + ["run_v5_child"] * 3 + ["run_v4_child"] * 3
    assert [r["schemaVersion"] for r in records] == [5] * 9 + [4] * 3
    assert records == [r for r in mixed if r["runId"] != "run_legacy"]

    target = make_backend()
    assert load_records(target.url, records) == []
    detail = httpx.get(target.url + f"/api/observability/runs/{OP}").json()
    assert [m["run"]["runId"] for m in detail["memberRuns"]] == [
        OP,
        "run_v5_child",
        "run_v4_child",
    ]


def test_open_reads_a_v2_file(tmp_path: Path, backend: EmbeddedBackend) -> None:
    """Files exported before v5 (schema v2 records, one per line or in batches) still load."""
    from crux_tui.demo import read_jsonl
    from crux_tui.loading import load_records

    run = simple_run("run_exported_v2")
    path = tmp_path / "old.jsonl"
    lines = [json.dumps(r) for r in run[:4]]
    lines.append(json.dumps({"schemaVersion": 2, "records": run[4:]}))
    path.write_text("\n".join(lines) + "\n")
    records, errors = read_jsonl(path)
    assert errors == [] and records == run
    assert load_records(backend.url, records) == []
    (row,) = httpx.get(backend.url + "/api/observability/runs/page").json()["rows"]
    assert (row["runId"], row["status"], row["recordCount"]) == ("run_exported_v2", "ok", len(run))


def test_loading_a_big_file_says_how_far_it_got() -> None:
    """On a terminal, one line that updates in place and is cleared at the end; nothing
    for small loads or when standard error is not a terminal."""
    import io

    from crux_tui.loading import LoadProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    progress = LoadProgress(shown)
    total = LoadProgress.MIN_RECORDS * 2
    for sent in range(0, total + 1, 50):
        progress(sent, total)
    text = shown.getvalue()
    assert text.startswith(f"\rcrux-tui: loading records: 0 of {total:,}")
    assert text.endswith("\r\x1b[2K")  # the line is cleared before the viewer starts
    small, piped = Terminal(), io.StringIO()
    LoadProgress(small)(10, 100)
    LoadProgress(piped)(50, total)
    assert small.getvalue() == "" and piped.getvalue() == ""


def test_source_roots_before_and_after_the_command(tmp_path: Path) -> None:
    from crux_tui.cli import _roots, build_parser

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    parse = build_parser().parse_args
    assert _roots(parse(["--source-root", str(a), "demo", "--source-root", str(b)])) == [
        str(a),
        str(b),
    ]
    assert _roots(parse(["open", "x.jsonl", "--source-root", str(b)])) == [str(b)]
    assert _roots(parse([])) == []


def test_source_root_that_is_not_a_directory_is_one_line(tmp_path: Path) -> None:
    done = run_cli("--source-root", str(tmp_path / "nope"), "open", str(tmp_path / "x.jsonl"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"crux-tui: --source-root {tmp_path / 'nope'}: not a directory"
    ]
