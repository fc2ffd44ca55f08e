"""A real TCP proxy for live-feed tests: it sits between a client and a real backend on
127.0.0.1 and can cut the connections that go through it, or refuse new ones, so a test
can break the network path without stopping the backend (which goes on taking records).

Runs in the test's event loop::

    async with TcpProxy(backend.url) as proxy:
        feed = LiveFeed(proxy.url)
        ...
        proxy.refusing = True   # every new connection is accepted and closed at once
        proxy.cut()             # the connections open now are closed

``on_connect(n)`` is called as connection ``n`` (1, 2, ...) is accepted, before anything is
forwarded: at that instant the client is waiting on that connection. ``requests`` keeps the
first bytes each forwarded connection sent (the request line and headers). The ``Host``
header is rewritten to the backend's own address (as a port forward that the backend's
loopback-only host check sees as itself); with ``keep_alive=False`` every request is made a
connection of its own (``Connection: close``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any


class TcpProxy:
    def __init__(
        self,
        upstream: str,
        on_connect: Callable[[int], None] | None = None,
        *,
        keep_alive: bool = True,
    ) -> None:
        host, port = upstream.removeprefix("http://").rstrip("/").split(":")
        self.upstream = (host, int(port))
        self.on_connect = on_connect
        #: ``False``: requests are forwarded with ``Connection: close``, so the backend closes
        #: each connection after its answer and every request is a connection of its own
        self.keep_alive = keep_alive
        self.refusing = False
        #: connections accepted so far (refused ones too)
        self.connections = 0
        #: the request head (up to the blank line) of every forwarded connection, in order
        self.requests: list[bytes] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()

    def cut(self) -> None:
        """Close every connection open through the proxy (both sides)."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.on_connect is not None:
            self.on_connect(self.connections)
        if self.refusing:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        head = bytearray()
        index = len(self.requests)
        self.requests.append(b"")

        own, upstream = (
            f"Host: {self.url.removeprefix('http://')}\r\n".encode(),
            f"Host: {self.upstream[0]}:{self.upstream[1]}\r\n".encode(),
        )

        def request(chunk: bytes) -> bytes:
            if b"\r\n\r\n" not in head:
                head.extend(chunk)
                self.requests[index] = bytes(head).split(b"\r\n\r\n")[0]
            chunk = chunk.replace(own, upstream)
            if not self.keep_alive:
                chunk = chunk.replace(b"Connection: keep-alive\r\n", b"Connection: close\r\n")
            return chunk

        for pipe in (
            self._pipe(reader, up_writer, request),
            self._pipe(up_reader, writer, None),
        ):
            task = asyncio.ensure_future(pipe)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        rewrite: Callable[[bytes], bytes] | None,
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(rewrite(chunk) if rewrite is not None else chunk)
                await writer.drain()
        except (OSError, RuntimeError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
