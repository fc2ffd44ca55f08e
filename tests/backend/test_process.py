"""The embedded backend as a child process (what ``demo`` and ``open`` run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from records import batch, simple_run

from crux_tui.backend.process import BackendProcess, BackendStartError

API = "/api/observability"


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie of ours would still answer: reap it if it is our child
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


def test_child_backend_serves_the_contract_and_stops() -> None:
    with BackendProcess() as backend:
        assert backend.url.startswith("http://127.0.0.1:") and not backend.url.endswith(":0")
        pid = backend.pid
        assert pid is not None and pid != os.getpid()
        posted = httpx.post(f"{backend.url}{API}/records", json=batch(simple_run("r1")))
        assert posted.status_code == 202
        rows = httpx.get(f"{backend.url}{API}/runs/page").json()["rows"]
        assert [r["runId"] for r in rows] == ["r1"]
    assert _gone(pid)
    backend.stop()  # stopping twice is harmless


def test_child_exits_when_its_parent_dies(tmp_path: Path) -> None:
    """SIGKILL the viewer's process: its backend notices the closed pipe and exits."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from crux_tui.backend.process import BackendProcess
            backend = BackendProcess().start()
            print(backend.pid, backend.url, flush=True)
            time.sleep(120)
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert parent.stdout is not None
        child_pid, url = parent.stdout.readline().split()
        assert httpx.get(f"{url}{API}/runs/page").status_code == 200
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _gone(int(child_pid)), "the backend outlived the viewer"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_backend_that_cannot_start_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(BackendStartError) as info:
        BackendProcess(db=str(blocker / "runs.db")).start()
    message = str(info.value)
    assert "did not start" in message and "cannot open the database" in message
    assert "Traceback" not in message
