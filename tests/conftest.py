"""Shared fixtures: a real embedded backend on a free 127.0.0.1 port."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gocrux.server import GoCrux

from crux_tui.backend.embedded import EmbeddedBackend

#: The pinned projection clock: 5 s after the default record base time of tests/records.py.
PINNED_CLOCK = "2026-05-16T18:00:05Z"


@pytest.fixture
def make_backend() -> Iterator[Callable[..., EmbeddedBackend]]:
    """Factory: ``make_backend(db=..., clock=..., token=..., port=...)`` -> started backend."""
    started: list[EmbeddedBackend] = []

    def factory(**kwargs: Any) -> EmbeddedBackend:
        kwargs.setdefault("keepalive", 0.5)
        kwargs.setdefault("lifecycle_interval", 0.2)
        backend = EmbeddedBackend(**kwargs).start()
        started.append(backend)
        return backend

    yield factory
    for backend in reversed(started):
        backend.stop()


@pytest.fixture
def backend(make_backend: Callable[..., EmbeddedBackend]) -> EmbeddedBackend:
    """A backend with an in-memory DB and the wall clock."""
    return make_backend()


@pytest.fixture
def pinned_backend(make_backend: Callable[..., EmbeddedBackend]) -> EmbeddedBackend:
    """A backend whose projection clock is frozen at :data:`PINNED_CLOCK`."""
    return make_backend(clock=PINNED_CLOCK)


@pytest.fixture
def file_backend(make_backend: Callable[..., EmbeddedBackend], tmp_path: Path) -> EmbeddedBackend:
    """A backend over a SQLite file in ``tmp_path`` (pinned clock)."""
    return make_backend(db=tmp_path / "devtools.sqlite3", clock=PINNED_CLOCK)


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    """Factory: serve any ASGI app on a free 127.0.0.1 port; returns its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def factory(app: Any) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return f"http://127.0.0.1:{port}"

    yield factory
    for server, thread in running:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def make_gocrux() -> Iterator[Callable[..., GoCrux]]:
    """Factory: ``make_gocrux(operations=..., websocket=..., ...)`` -> a started Go-shaped
    `crux dev` v5 stand-in (``tests/gocrux``)."""
    started: list[GoCrux] = []

    def factory(**kwargs: Any) -> GoCrux:
        server = GoCrux(**kwargs).start()
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        server.stop()


@pytest.fixture
def gocrux(make_gocrux: Callable[..., GoCrux]) -> GoCrux:
    """The Go-shaped server with the default operations and ``/ws/ui``."""
    return make_gocrux()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut (``MUTANT_UNDER_TEST`` names a mutant), run the quickest tests first.

    mutmut runs each mutant's tests with ``-x``: a mutant dies at its first failing test, so
    putting the sub-second unit tests before the backend round trips makes most mutants die
    in about a second instead of half a minute. The durations are those mutmut measured
    while it mapped tests to functions (``mutants/mutmut-stats.json``). Ordinary runs are
    left alone.
    """
    import os

    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    import json

    try:
        durations = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
