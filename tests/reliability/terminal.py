"""Run crux-tui on a real pseudo-terminal and read what it writes (bounded in time)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from collections.abc import Callable


def spawn(args: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    """``python -m crux_tui ARGS`` on a new terminal: ``(pid, terminal fd)``."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command, its output on the terminal
        os.environ.update(env or {})
        os.execv(sys.executable, [sys.executable, "-m", "crux_tui", *args])
    return pid, fd


def read_until(fd: int, done: Callable[[bytes], bool], limit: float = 60) -> bytes:
    """What the terminal shows until ``done(output)``, end of output, or ``limit`` s."""
    data = b""
    deadline = time.monotonic() + limit
    while not done(data) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child is gone
            break
        if not chunk:
            break
        data += chunk
    return data


def finish(pid: int, fd: int) -> int:
    """Wait for the child and close its terminal; returns its exit code."""
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status)


def run(args: list[str], limit: float = 60) -> tuple[int, str]:
    """Run to the end on a terminal: ``(exit code, everything it wrote)``."""
    pid, fd = spawn(args)
    try:
        data = read_until(fd, lambda _: False, limit)
    finally:
        code = finish(pid, fd)
    return code, data.decode("utf-8", "replace")
