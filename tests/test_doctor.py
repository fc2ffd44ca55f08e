"""`crux-tui doctor`: each input kind (a file, a run id, the latest runs of a backend), each
exit status, text and JSON, against the real embedded backend and real files."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.cli import main
from crux_tui.demo import build_demo_records, write_jsonl
from crux_tui.demo import scenarios as demo
from crux_tui.demo import symptoms as sym
from crux_tui.doctor import EXIT_BACKEND, EXIT_CLEAN, EXIT_SYMPTOMS, EXIT_USAGE
from crux_tui.loading import load_records
from crux_tui.symptoms import KINDS


def scenario_records(*builds: Any) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    out: list[dict[str, Any]] = []
    for index, build in enumerate(builds):
        built = build(random.Random(index), now)
        for run in [built] if hasattr(built, "records") else built:
            out.extend(run.records)
    return out


@pytest.fixture
def demo_backend(backend: EmbeddedBackend) -> EmbeddedBackend:
    assert load_records(backend.url, build_demo_records()) == []
    return backend


def test_file_with_symptoms_exits_1_and_says_how_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "recorded.jsonl"
    write_jsonl(path, scenario_records(sym.unnamed_tool, demo.chat_action, sym.raw_convex_agent))
    assert main(["doctor", str(path)]) == EXIT_SYMPTOMS
    out = capsys.readouterr().out
    assert "⚑ Tool row shows only call ID [tool-label-call-id]" in out
    assert "wrapConvexTool(tool, { name })" in out
    assert "⚑ Chat agent has tools but no generation [agent-tools-without-generation]" in out
    assert "support chat" not in out  # the clean run is checked, not listed
    assert out.rstrip().splitlines()[-1] == "2 symptoms in 2 of 3 runs checked"


def test_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clean.jsonl"
    write_jsonl(path, scenario_records(demo.chat_action, demo.research_action))
    assert main(["doctor", str(path)]) == EXIT_CLEAN
    assert capsys.readouterr().out.strip() == "no symptoms: 2 runs checked"


def test_file_json_lists_every_run_and_bad_lines_go_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.jsonl"
    write_jsonl(path, scenario_records(demo.chat_action))
    with path.open("a") as handle:
        handle.write("{not json\n")
    assert main(["doctor", str(path), "--json"]) == EXIT_CLEAN
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["checked"] == 1 and report["symptomCount"] == 0
    assert report["runs"][0]["runId"] == "run_chat_support"
    assert report["runs"][0]["symptoms"] == []
    assert report["problems"] and report["problems"][0].startswith("line ")
    assert "invalid JSON" in captured.err


def test_file_json_of_the_whole_demo_names_every_symptom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.jsonl"
    write_jsonl(path, build_demo_records())
    assert main(["doctor", str(path), "--json"]) == EXIT_SYMPTOMS
    report = json.loads(capsys.readouterr().out)
    found = {s["code"] for run in report["runs"] for s in run["symptoms"]}
    assert found == {kind.code for kind in KINDS}
    symptom = next(s for run in report["runs"] for s in run["symptoms"])
    assert set(symptom) == {"code", "title", "spanIds", "evidence", "fix", "runId"}


def test_latest_runs_on_a_backend(
    demo_backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--url", demo_backend.url]) == EXIT_SYMPTOMS
    out = capsys.readouterr().out
    assert "[child-action-separate-run]" in out and "[flow-as-chat-root]" in out
    assert out.rstrip().endswith("18 runs checked")
    # --limit: only the newest operations (the demo's oldest carry the new symptoms)
    assert main(["--url", demo_backend.url, "doctor", "--limit", "3", "--json"]) == EXIT_CLEAN
    report = json.loads(capsys.readouterr().out)
    assert report["checked"] == 3 and report["source"] == demo_backend.url


def test_one_run_by_id(demo_backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]) -> None:
    url = demo_backend.url
    assert main(["doctor", "run_unnamed_tool", "--url", url]) == EXIT_SYMPTOMS
    out = capsys.readouterr().out
    assert out.startswith("shipping quote (unnamed tool)  (run_unnamed_tool, ok)")
    assert "[tool-label-call-id]" in out
    assert main(["doctor", "run_chat_support", "--url", url]) == EXIT_CLEAN
    assert capsys.readouterr().out.strip() == "support chat  (run_chat_support): no symptoms"
    # the separate child run: its caller is read to see the boundary it started in
    assert main(["doctor", "run_weekly_summarize", "--url", url, "--json"]) == EXIT_SYMPTOMS
    report = json.loads(capsys.readouterr().out)
    (run,) = report["runs"]
    assert [s["code"] for s in run["symptoms"]] == ["child-action-separate-run"]
    assert "run_weekly_report" in run["symptoms"][0]["evidence"]


def test_unknown_run_is_a_usage_error(
    demo_backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "run_nope", "--url", demo_backend.url]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run 'run_nope' not found" in err


def test_unreachable_backend_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["doctor", "--url", f"127.0.0.1:{port}"]) == EXIT_BACKEND
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Crux devtools backend" in err


def test_not_a_crux_backend_exits_3(serve_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse("<html>hello</html>")

    url = serve_app(Starlette(routes=[Route("/{path:path}", page)]))
    assert main(["doctor", "--url", url]) == EXIT_BACKEND
    assert main(["doctor", "run_x", "--url", url]) == EXIT_BACKEND
    err = capsys.readouterr().err
    assert err.count("not a Crux devtools backend") == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["doctor", "--limit", "0"], "--limit must be 1 or more"),
        (["doctor", "missing.jsonl"], "no such file"),
        (["doctor", "x.jsonl", "--url", "http://127.0.0.1:9"], "a file or --url, not both"),
        (["doctor", "--url", "ftp://example"], "invalid backend URL"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_empty_file_and_argparse_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["doctor", str(empty)]) == EXIT_USAGE
    assert "holds no records" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--limit", "many"])
    assert info.value.code == EXIT_USAGE


def test_record_strings_reach_the_terminal_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = scenario_records(sym.unnamed_tool)
    for record in records:
        if record["type"] == "run:start":
            record["name"] = "quote \x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[31mred\u202e"
    path = tmp_path / "hostile.jsonl"
    write_jsonl(path, records)
    assert main(["doctor", str(path)]) == EXIT_SYMPTOMS
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "quote" in out
    assert main(["doctor", str(path), "--json"]) == EXIT_SYMPTOMS
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert json.loads(out)["runs"][0]["name"].startswith("quote \x1b]52")  # same value


def test_exit_status_of_the_installed_command(tmp_path: Path) -> None:
    """What CI sees: the real process exit status."""
    path = tmp_path / "recorded.jsonl"
    write_jsonl(path, scenario_records(sym.bridge_command_error))
    done = subprocess.run(
        [sys.executable, "-m", "crux_tui", "doctor", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_SYMPTOMS, done.stderr
    assert "[bridge-command-message-only]" in done.stdout


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: crux-tui doctor") and "Exit status" in out
