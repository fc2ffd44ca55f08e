"""``serve`` stopped with Ctrl+C while a viewer is connected (issue #15 item 7), over SSE
or over ``/ws/ui``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def start_serve() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crux_tui", "serve", "--port", "0", "--db", ":memory:"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_quiet_exit(code: int, err: str) -> None:
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert "graceful shutdown exceeded" not in err, err
    assert code in (0, 130, -signal.SIGINT), code


def test_ctrl_c_with_a_stream_open_exits_quietly() -> None:
    proc = start_serve()
    assert proc.stdout is not None and proc.stderr is not None
    try:
        first = proc.stdout.readline()
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        received: list[bytes] = []
        ended = threading.Event()
        connected = threading.Event()

        def viewer() -> None:
            with httpx.stream("GET", url + "/api/observability/stream", timeout=30) as response:
                for chunk in response.iter_raw():
                    received.append(chunk)
                    connected.set()
            ended.set()  # the server ended the stream (no reset, no timeout)

        thread = threading.Thread(target=viewer, daemon=True)
        thread.start()
        assert connected.wait(30), "the stream did not start"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        thread.join(30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b": connected" in b"".join(received)
    assert ended.is_set(), "the stream was not closed by the server"
    assert_quiet_exit(code, err)


def test_ctrl_c_with_a_ws_ui_client_connected_exits_quietly() -> None:
    """The ``/ws/ui`` counterpart: the connection ends with the event bus, by a close frame
    from the server, and the server exits without waiting out its grace period."""
    proc = start_serve()
    assert proc.stdout is not None and proc.stderr is not None
    try:
        first = proc.stdout.readline()
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        with connect(url.replace("http://", "ws://") + "/ws/ui", proxy=None, open_timeout=30) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "index"
            proc.send_signal(signal.SIGINT)
            code = proc.wait(30)
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # nothing is published: the next thing is the end
                    ws.recv(timeout=30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert closed.value.rcvd is not None, "no close frame from the server (a reset)"
    assert_quiet_exit(code, err)
