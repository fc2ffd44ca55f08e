"""A real local HTTP + WebSocket server that answers like `crux dev` v5 (not our backend).

Routes (``crux-v5.md``): ``GET /api/observability/runs/page`` (one row per operation,
``firstSeenAt`` + operation id order, opaque cursor), ``GET /runs/delta`` (operation ids,
``changes: null``, ``expired``), ``GET /runs/{id}`` (run id or operation id -> the
operation's RunDetail), ``DELETE /runs/{id}`` (200 ``{"operationIds", "revision"}``, a
``deleted`` event), no SSE route (``/stream`` is a 404 like any unknown path), and
``/ws/ui``: an ``index`` message on connect (as big as asked), then ``flow:snapshot``,
then whatever the test pushes. Anything the client sends is read and discarded.

The test controls it: :meth:`GoCrux.push` / :meth:`push_event` send to every socket,
:meth:`change` moves an operation's revision (and says so on the socket),
:meth:`drop_sockets` closes them, :meth:`go_down` / :meth:`go_up` stop and restart it on
the same port, :meth:`count` counts requests by method and path.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from gocrux.fixtures import Operation, default_operations
from gocrux.shapes import JSON, deleted_event, ingested_event

with warnings.catch_warnings():
    # uvicorn's "websockets" protocol (the one that can answer an upgrade with a plain 404,
    # as a Go build without the route does) warns that it will be renamed one day
    warnings.simplefilter("ignore")
    import uvicorn.protocols.websockets.websockets_impl

API = "/api/observability"
NOT_FOUND = "404 page not found\n"  # Go's http.NotFound body


class GoCrux:
    """The Go-shaped `crux dev` stand-in. ``start()`` binds a free 127.0.0.1 port."""

    def __init__(
        self,
        operations: Iterable[Operation] | None = None,
        *,
        websocket: bool = True,
        index_bytes: int = 0,
        extra_rows: Iterable[JSON] = (),
        token: str | None = None,
    ) -> None:
        ops = list(operations) if operations is not None else default_operations()
        self.operations: dict[str, Operation] = {op.id: op for op in ops}
        #: serve ``/ws/ui`` (else the upgrade is answered 404, like a build without it)
        self.websocket = websocket
        #: pad the ``index`` message sent on connect to about this many bytes
        self.index_bytes = index_bytes
        #: rows listed after the operations' (e.g. a member run listed by an older build)
        self.extra_rows = list(extra_rows)
        #: when set, every request and socket must carry ``?t=<token>`` (else 401 / 403),
        #: as a `crux dev` served with a token
        self.token = token
        self.revision = 10
        #: the delta log: (operation id, revision); ``since`` below ``log_floor`` is expired
        self.log: list[tuple[str, int]] = []
        self.log_floor = 0
        #: answer ``runs/delta`` with a 500 (a catch-up that fails)
        self.delta_fails = False
        self.port = 0
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._sockets: set[WebSocket] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GoCrux:
        # ... and, on every connection, that websockets' legacy server will change its handler
        warnings.filterwarnings("ignore", message="remove second argument of ws_handler")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            log_level="warning",
            lifespan="off",
            ws="websockets",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            async def serve() -> None:
                self._loop = asyncio.get_running_loop()
                await server.serve(sockets=[sock])

            asyncio.run(serve())
            sock.close()

        self._thread = threading.Thread(target=run, daemon=True, name="gocrux")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Go-shaped test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        if self._loop is not None and self._sockets:
            # not waited for: the client may live on the calling thread's (blocked) loop
            asyncio.run_coroutine_threadsafe(self._close_sockets(), self._loop)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._loop = None

    def go_down(self) -> None:
        """Stop answering (connections refused); the port is kept for :meth:`go_up`."""
        self.stop()

    def go_up(self) -> None:
        """Answer again on the same port."""
        self.start()

    # ------------------------------------------------------------------ control

    def count(self, path: str, method: str = "GET") -> int:
        """Requests seen for ``path`` (a prefix ending in ``*`` matches every path under it)."""
        with self._lock:
            if path.endswith("*"):
                prefix = f"{method} {path[:-1]}"
                return sum(n for key, n in self._requests.items() if key.startswith(prefix))
            return self._requests[f"{method} {path}"]

    def requests(self) -> Counter[str]:
        with self._lock:
            return Counter(self._requests)

    @property
    def sockets_open(self) -> int:
        return len(self._sockets)

    async def push(self, message: JSON) -> None:
        """Send ``message`` (one JSON text frame) to every connected ``/ws/ui`` client."""
        await self._call(self._broadcast(json.dumps(message)))

    async def push_event(self, event: JSON) -> None:
        """Send an ``observability:event`` envelope."""
        await self.push({"type": "observability:event", "event": event})

    async def drop_sockets(self) -> None:
        """Close every WebSocket (the HTTP side keeps answering)."""
        await self._call(self._close_sockets())

    async def change(self, operation: Operation | str, *, notify: bool = True) -> int:
        """Replace (or touch) an operation: a new revision in the log and, with ``notify``,
        an ``ingested`` event on the sockets. Returns the revision."""
        op = operation if isinstance(operation, Operation) else self.operations[operation]
        with self._lock:
            self.revision += 1
            revision = self.revision
            op.row["revision"] = revision
            self.operations[op.id] = op
            self.log.append((op.id, revision))
        if notify:
            await self.push_event(ingested_event(op.id, revision))
        return revision

    def expire_log(self) -> None:
        """Forget the delta log: any ``since`` before now is ``expired``."""
        with self._lock:
            self.log.clear()
            self.log_floor = self.revision

    def operation_of(self, run_id: str) -> Operation | None:
        """The operation a run id or operation id belongs to (B.7)."""
        op = self.operations.get(run_id)
        if op is not None:
            return op
        return next((o for o in self.operations.values() if run_id in o.members), None)

    async def _call(self, coro: Any) -> None:
        loop = self._loop
        if loop is None:
            coro.close()
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    async def _broadcast(self, text: str) -> None:
        for ws in list(self._sockets):
            try:
                await ws.send_text(text)
            except Exception:
                self._sockets.discard(ws)

    async def _close_sockets(self) -> None:
        for ws in list(self._sockets):
            self._sockets.discard(ws)
            with contextlib.suppress(Exception):
                await ws.close(code=1001)

    # ------------------------------------------------------------------ the app

    def _note(self, method: str, path: str) -> None:
        with self._lock:
            self._requests[f"{method} {path}"] += 1

    def _app(self) -> Starlette:
        async def runs_page(request: Request) -> Response:
            return JSONResponse(self._page(request.query_params))

        async def runs_delta(request: Request) -> Response:
            if self.delta_fails:
                return PlainTextResponse("internal error\n", 500)
            raw = request.query_params.get("since", "0")
            try:
                since = int(raw)
            except ValueError:
                return PlainTextResponse("invalid since\n", 400)
            with self._lock:
                if since < self.log_floor:
                    return JSONResponse(
                        {"revision": self.revision, "changes": None, "expired": True}
                    )
                changes = [
                    {"entity": "run", "id": op_id, "revision": rev}
                    for op_id, rev in self.log
                    if rev > since
                ]
                return JSONResponse(
                    {"revision": self.revision, "changes": changes or None, "expired": False}
                )

        async def run(request: Request) -> Response:
            op = self.operation_of(request.path_params["run_id"])
            if op is None:
                return PlainTextResponse(NOT_FOUND, 404)
            if request.method == "DELETE":
                return await self._delete(op)
            return JSONResponse(op.detail)

        async def ui(websocket: WebSocket) -> None:
            if not self.websocket:
                await websocket.send_denial_response(PlainTextResponse(NOT_FOUND, 404))
                return
            await websocket.accept()
            self._sockets.add(websocket)
            try:
                await websocket.send_text(json.dumps(self._index()))
                await websocket.send_text(json.dumps({"type": "flow:snapshot", "flows": []}))
                while True:  # read and discard, like the Go
                    await websocket.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                self._sockets.discard(websocket)

        async def not_found(request: Request, exc: Exception) -> Response:
            return PlainTextResponse(NOT_FOUND, 404)

        app = Starlette(
            routes=[
                Route(f"{API}/runs/page", runs_page, methods=["GET"]),
                Route(f"{API}/runs/delta", runs_delta, methods=["GET"]),
                Route(f"{API}/runs/{{run_id}}", run, methods=["GET", "DELETE"]),
                WebSocketRoute("/ws/ui", ui),
            ],
            exception_handlers={404: not_found, 405: not_found},
        )
        return _Counting(app, self._note, lambda: self.token)  # type: ignore[return-value]

    def _page(self, query: Any) -> JSON:
        with self._lock:
            ops = sorted(self.operations.values(), key=lambda o: (o.first_seen, o.id), reverse=True)
            rows = [op.row for op in ops] + self.extra_rows
            revision = self.revision
        statuses = {s for s in (query.get("status") or "").split(",") if s}
        if statuses:
            rows = [r for r in rows if r["status"] in statuses]
        cursor = query.get("cursor")
        if cursor:
            padded = cursor + "=" * (-len(cursor) % 4)
            seen, _, op_id = base64.urlsafe_b64decode(padded).decode().partition("\x00")
            rows = [r for r in rows if (r["firstSeenAt"], r["runId"]) < (seen, op_id)]
        limit = int(query.get("limit") or 0) or 250
        body: JSON = {"revision": revision, "rows": rows[:limit] if limit > 0 else rows}
        if 0 < limit < len(rows):
            last = rows[limit - 1]
            key = f"{last['firstSeenAt']}\x00{last['runId']}".encode()
            body["nextCursor"] = base64.urlsafe_b64encode(key).decode().rstrip("=")
        return body

    async def _delete(self, op: Operation) -> Response:
        with self._lock:
            self.operations.pop(op.id, None)
            self.revision += 1
            revision = self.revision
            self.log.append((op.id, revision))
        await self._broadcast(
            json.dumps({"type": "observability:event", "event": deleted_event([op.id], revision)})
        )
        return JSONResponse({"operationIds": [op.id], "revision": revision})

    def _index(self) -> JSON:
        index: JSON = {
            "type": "index",
            "projectRoot": "/work/app",
            "serverVersion": "0.0.0-test",
            "generation": 1,
            "definitions": [],
        }
        padding = "x" * 200
        count = self.index_bytes // 260
        index["definitions"] = [
            {"id": f"def_{i}", "kind": "prompt", "text": padding} for i in range(count)
        ]
        return index


class _Counting:
    """ASGI middleware: counts every HTTP request and WebSocket connect by method + path, and
    refuses those without the token when the server has one (401; a socket is closed before
    it is accepted, which the server answers with 403)."""

    def __init__(self, app: Any, note: Any, token: Any) -> None:
        self.app = app
        self.note = note
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.note(scope["method"], scope["path"])
        elif scope["type"] == "websocket":
            self.note("WS", scope["path"])
        token = self.token()
        if token and scope["type"] in ("http", "websocket"):
            query = parse_qs(scope.get("query_string", b"").decode())
            if query.get("t") != [token]:
                if scope["type"] == "http":
                    await PlainTextResponse("unauthorized\n", 401)(scope, receive, send)
                else:
                    await receive()  # websocket.connect
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
