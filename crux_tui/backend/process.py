"""The embedded backend in a child process, for ``crux-tui demo`` and ``crux-tui open``.

The viewer and the backend then share nothing but HTTP, as with a real Crux backend:
projecting and encoding a big run (seconds of CPU, and single calls that hold the
interpreter lock for hundreds of milliseconds) cannot stall the UI, and each process
holds only its own side of a run in memory.

The child is ``crux-tui serve --port 0 --exit-with-stdin``: it prints its URL on the
first line of its output and exits when its standard input closes, which happens when
this process stops it, exits, or dies.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
from typing import IO

_URL = re.compile(r"(http://\S+:\d+)")


class BackendStartError(Exception):
    """The child backend did not come up; the message ends with what it printed."""


class BackendProcess:
    """``crux-tui serve`` on a free loopback port, in a child process.

    Usage::

        with BackendProcess() as backend:
            load_records(backend.url, records)
    """

    def __init__(self, db: str = ":memory:") -> None:
        self.db = db
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._errors: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 30.0) -> BackendProcess:
        """Start the child and wait until it says where it listens."""
        args = ["serve", "--host", "127.0.0.1", "--port", "0", "--db", self.db]
        try:
            # the child's complaints go to a file: a pipe nobody reads could fill up and
            # stall it, and the terminal belongs to the viewer
            self._errors = tempfile.TemporaryFile(prefix="crux-tui-backend-")  # noqa: SIM115
            # -P: the current directory must not shadow the installed package
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "crux_tui", *args, "--exit-with-stdin"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                text=True,
            )
        except OSError as exc:
            self._close_errors()
            raise BackendStartError(f"the embedded backend did not start: {exc}") from exc
        found: list[str] = []

        def read_url() -> None:
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                match = _URL.search(line)
                if match:
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read_url, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.stop()
            tail = self._stderr_tail()
            self._close_errors()
            raise BackendStartError(f"the embedded backend did not start: {tail}")
        self.url = found[0]
        return self

    def _stderr_tail(self, limit: int = 400) -> str:
        if self._errors is None:
            return "(no output)"
        self._errors.seek(0)
        text = self._errors.read().decode("utf-8", "replace").strip()
        return text[-limit:] or "(no output)"

    def stop(self, timeout: float = 5.0) -> None:
        """Close the child's input (it exits on its own), then make sure it is gone."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> BackendProcess:
        return self.start() if self._proc is None else self

    def _close_errors(self) -> None:
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._close_errors()
