"""``crux-tui open``: every problem names its line, bad files say so and fail, a line is
read up to the batch limit, and nothing a file holds reaches the terminal raw
(issue #13 items 2 and 9, issue #15 item 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from records import RunBuilder, simple_run

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.cli import main
from crux_tui.demo.jsonl import MAX_LINE_BYTES, read_jsonl_lines
from crux_tui.loading import load_records_report
from tests.reliability.terminal import finish, read_until, spawn

#: A record id that would set the clipboard, the window title and the colours.
EVIL_ID = "rec\x1b]52;c;ZXZpbA==\x07\x1b]2;pwned\x07\x1b[31mred\x9b1m\u202eevil"
ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e")


def run_open(path: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crux_tui", "open", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def write_lines(path: Path, lines: list[Any]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_names_its_line(tmp_path: Path) -> None:
    good = simple_run("a")
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            good[0],
            {"foo": 1},
            "[1, 2]",
            "{broken",
            {"schemaVersion": 99, "records": good[1:]},
            {"schemaVersion": 2, "records": [good[1], 7, good[2]]},
            "",
            good[3],
        ],
    )
    contents = read_jsonl_lines(path)
    assert contents.lines == [1, 6, 6, 8]
    assert [r["recordId"] for r in contents.records] == [
        good[0]["recordId"],
        good[1]["recordId"],
        good[2]["recordId"],
        good[3]["recordId"],
    ]
    errors = contents.errors
    assert [e.split(":", 1)[0] for e in errors] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 6",
    ]
    assert '"type"' in errors[0] and '"records"' in errors[0] and "foo" in errors[0]
    assert "expected an object" not in errors[0]  # it is an object: say what is missing
    assert "JSON array" in errors[1]
    assert "invalid JSON" in errors[2]
    assert "schemaVersion 99 is not supported" in errors[3] and "skipped" in errors[3]
    assert "entry 2 of 3 is not a record" in errors[4]


def test_batches_of_every_supported_version_are_read(
    tmp_path: Path, backend: EmbeddedBackend
) -> None:
    """``open`` reads v2-v5 batch lines (a Crux file of any supported version) and loads
    them; another version is still one message naming its line."""

    def small_run(version: int) -> list[dict[str, Any]]:
        run = RunBuilder(f"v{version}", schema_version=version)
        return [run.run_start(), run.span("s", "tool.call", at=1, end=5), run.run_end()]

    path = write_lines(
        tmp_path / "versions.jsonl",
        [
            *({"schemaVersion": v, "records": small_run(v)} for v in (2, 3, 4, 5)),
            {"schemaVersion": 1, "records": small_run(2)},
        ],
    )
    contents = read_jsonl_lines(path)
    assert contents.lines == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    (error,) = contents.errors
    assert error.startswith("line 5: batch schemaVersion 1 is not supported")
    assert "reads 2, 3, 4, 5" in error and "its 3 records skipped" in error
    report = load_records_report(backend.url, contents.records, lines=contents.lines)
    assert (report.problems, report.accepted) == ([], 12)


def test_backend_rejections_name_the_line(backend: EmbeddedBackend) -> None:
    run = RunBuilder("r")
    records = [run.run_start(), {**run.span_start("s", "tool.call"), "family": "agent"}]
    bad = {**records[0], "recordId": "bad", "segmentSeq": 0}
    report = load_records_report(backend.url, [*records, bad], lines=[1, 4, 4])
    assert report.accepted == 1
    assert report.problems[0].startswith("line 4, record 1 of its batch (")
    assert report.problems[1].startswith("line 4, record 2 of its batch (bad): ")


def test_empty_file_says_so_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    result = run_open(path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "holds no records" in result.stderr and "empty" in result.stderr


def test_all_bad_lines_say_so_and_fail(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [{"foo": 1}, "nope"])
    result = run_open(path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("crux-tui: line 1: ") and lines[1].startswith("crux-tui: line 2: ")
    assert "no valid records" in lines[-1]


def test_all_rejected_records_fail_with_clean_lines(tmp_path: Path) -> None:
    """Every record reaches the backend and is refused: nothing to view, so `open` says
    why (by line, record ids cleaned) and fails instead of opening an empty viewer."""
    records = [
        {**r, "recordId": f"{EVIL_ID}{i}", "segmentSeq": 0} for i, r in enumerate(simple_run("x"))
    ]
    path = write_lines(tmp_path / "rejected.jsonl", records)
    result = run_open(path)
    assert result.returncode == 1
    err = result.stderr
    for escape in ESCAPES:
        assert escape not in err, repr(err)
    assert "ZXZpbA" not in err and "]2;" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("crux-tui: line 1 (rec") and "missing_segment_identity" in lines[0]
    assert len(lines) == len(records) + 1 and "was accepted" in lines[-1]


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_not_a_regular_file(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "directory":
        path = tmp_path
    elif kind == "fifo":
        path = tmp_path / "pipe.jsonl"
        os.mkfifo(path)
    else:
        path = Path("/dev/null")
    assert main(["open", str(path)]) == 1  # returns: a FIFO is not opened (it would block)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a regular file" in err, err
    assert "no such file" not in err


def test_missing_file_and_hostile_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["open", str(tmp_path / "x\x1b]0;title\x07.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
    assert "\x1b" not in err and "\x07" not in err


def test_a_line_is_read_up_to_the_batch_limit(tmp_path: Path) -> None:
    good = simple_run("a")
    path = tmp_path / "long.jsonl"
    with open(path, "wb") as handle:
        handle.write(json.dumps(good[0]).encode() + b"\n")
        handle.write(b'{"pad":"' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
        handle.write(json.dumps(good[1]).encode() + b"\n")
    contents = read_jsonl_lines(path)
    assert contents.lines == [1, 3]
    assert len(contents.errors) == 1 and contents.errors[0].startswith("line 2: longer than")


def test_a_huge_line_costs_no_more_than_the_limit(tmp_path: Path) -> None:
    """A sparse 256 MiB file without a newline (the red team used 20 GB) is skipped with
    memory bounded by the line limit, not by the file."""
    path = tmp_path / "sparse.jsonl"
    with open(path, "wb") as handle:
        handle.truncate(256 * 1024 * 1024)
    tracemalloc.start()
    try:
        contents = read_jsonl_lines(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert contents.records == [] and contents.errors[0].startswith("line 1: longer than")
    assert peak < 4 * MAX_LINE_BYTES, peak


def test_problems_printed_after_the_viewer_are_clean(tmp_path: Path) -> None:
    """The viewer opens on the good run; on exit the rejected record's problem is printed
    to the terminal with its hostile id made inert."""
    good = simple_run("ok")
    evil = {**good[0], "runId": "other", "recordId": EVIL_ID, "segmentSeq": 0}
    path = write_lines(tmp_path / "some-bad.jsonl", [*good, evil])
    pid, fd = spawn(["open", str(path)], {"TERM": "xterm-256color"})
    try:
        shown = read_until(fd, lambda d: b"While loading" in d or b"missing_segment" in d)
        assert b"missing_segment" in shown or b"While loading" in shown, shown[-2000:]
        os.write(fd, b"q")
        rest = read_until(fd, lambda d: False, limit=30)
    finally:
        code = finish(pid, fd)
    after_screen = rest.rsplit(b"\x1b[?1049l", 1)[-1].decode("utf-8", "replace")
    assert "missing_segment_identity" in after_screen, after_screen
    printed = next(line for line in after_screen.splitlines() if "missing_segment" in line)
    printed = printed[printed.index("crux-tui: ") :]  # after the viewer's own mode resets
    for escape in ESCAPES:
        assert escape not in printed, repr(printed)
    assert "ZXZpbA" not in printed
    assert f"crux-tui: line {len(good) + 1} (recredevil): missing_segment_identity" in printed
    assert code == 0
