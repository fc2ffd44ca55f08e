"""Run the backend in-process (background thread) or in the foreground (``crux-tui serve``)."""

from __future__ import annotations

import copy
import logging
import secrets
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
import uvicorn.config
import uvicorn.logging

from crux_tui.backend.access import is_loopback
from crux_tui.backend.detail_cache import DetailCache
from crux_tui.backend.events import EventBus
from crux_tui.backend.server import WS_QUEUE_SIZE, Clock, create_app
from crux_tui.backend.store import Store, default_db_path
from crux_tui.sanitize import clean, say

#: uvicorn's WebSocket protocol for ``/ws/ui`` (the sans-I/O one of the ``websockets`` package).
WS_IMPL = "websockets-sansio"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP; without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _silence_server_logs() -> None:
    """The in-process backend shares the terminal with the TUI: a server log line (say, a
    request cancelled at shutdown) must not be written over the screen."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


class EmbeddedBackend:
    """The devtools backend on a background thread (default: a free 127.0.0.1 port).

    Usage::

        with EmbeddedBackend() as backend:
            httpx.get(backend.url + "/api/observability/runs/page")
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        db: str | Path = ":memory:",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | datetime | str | None = None,
        token: str | None = None,
        keepalive: float = 15.0,
        lifecycle_interval: float | None = 1.0,
        detail_cache: DetailCache | None = None,
        allowed_hosts: Sequence[str] = (),
        ws_queue_size: int = WS_QUEUE_SIZE,
    ) -> None:
        self._owns_store = store is None
        self.store = store if store is not None else Store(db)
        self.host = host
        self.port = port
        self.token = token
        self.bus = EventBus()
        self.app = create_app(
            self.store,
            clock,
            token,
            bus=self.bus,
            keepalive=keepalive,
            lifecycle_interval=lifecycle_interval,
            detail_cache=detail_cache,
            allowed_hosts=allowed_hosts,
            ws_queue_size=ws_queue_size,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmbeddedBackend:
        """Bind, start serving, and wait until the server accepts connections."""
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        _silence_server_logs()
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            ws=WS_IMPL,
        )
        server = _Server(config, self.bus)
        self._server = server

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # surfaced by start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name="crux-backend", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"backend failed to start: {self._error}")
            if time.monotonic() > deadline:
                raise RuntimeError("backend did not start in time")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (ends open streams) and close the store if this object opened it."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            self.bus.close()
            server.should_exit = True
            thread.join(timeout)
        self._server = self._thread = None
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> EmbeddedBackend:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _stop_at_eof(server: uvicorn.Server) -> None:
    """Block until standard input closes (the parent is gone or done), then stop."""
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (OSError, ValueError):
        pass
    server.should_exit = True


class _Server(uvicorn.Server):
    """uvicorn's server that ends the event streams as soon as shutdown begins: an open
    SSE response would otherwise hold the shutdown for the whole grace period and then
    be cancelled with a traceback (Ctrl+C on ``serve`` while a viewer is connected)."""

    def __init__(self, config: uvicorn.Config, bus: EventBus) -> None:
        super().__init__(config)
        self.bus = bus

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.bus.close()
        await super().shutdown(sockets)


class CleanLogFormatter(uvicorn.logging.DefaultFormatter):
    """uvicorn's log lines cleaned like every other line crux-tui writes to a terminal
    (an exception message can quote a request's content)."""

    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record), multiline=True)


def _serve_log_config() -> dict[str, Any]:
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["()"] = f"{__name__}.CleanLogFormatter"
    return config


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 4400,
    db: str | Path | None = None,
    clock: Clock | datetime | str | None = None,
    token: str | None = None,
    *,
    allowed_hosts: Sequence[str] = (),
    exit_with_stdin: bool = False,
) -> int:
    """Run the backend in the foreground until interrupted (``crux-tui serve``).

    ``allowed_hosts``: ``Host`` names answered besides loopback (a tunnel's public name);
    they, like a non-loopback bind, require a token (one is generated and printed when
    none is given). ``exit_with_stdin``: also stop when standard input closes (the
    backend is a child of the viewer, see ``backend.process``). Port 0 picks a free port;
    the first line printed says which.
    """
    if not token and (allowed_hosts or not is_loopback(host)):
        token = secrets.token_hex(32)
        why = f"listening on {host}" if not is_loopback(host) else "serving other hosts"
        say(f"crux-tui: {why} requires a token: {token}")
    path = db if db is not None else default_db_path()
    try:
        store = Store(path)
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        say(f"crux-tui serve: cannot open the database {path}: {reason}")
        return 1
    try:
        bus = EventBus()
        app = create_app(store, clock, token, bus=bus, allowed_hosts=allowed_hosts)
        try:
            sock = _bind(host, port)
        except OSError as exc:
            say(f"crux-tui serve: cannot listen on {host}:{port}: {exc.strerror}")
            return 1
        shown = f"[{host}]" if ":" in host else host
        bound = sock.getsockname()[1]
        say(f"crux-tui devtools backend on http://{shown}:{bound} (db: {path})", sys.stdout)
        if allowed_hosts:
            say(f"crux-tui: also answering {', '.join(allowed_hosts)} (token required)")
        sys.stdout.flush()
        config = uvicorn.Config(
            app,
            log_config=_serve_log_config(),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            ws=WS_IMPL,
        )
        server = _Server(config, bus)
        if exit_with_stdin:
            threading.Thread(target=_stop_at_eof, args=(server,), daemon=True).start()
        server.run(sockets=[sock])
    finally:
        store.close()
    return 0
