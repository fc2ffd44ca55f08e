"""Starlette app speaking the Crux devtools observability HTTP contract, with live events
both as our SSE stream and as Crux's ``/ws/ui`` WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from crux_tui import __version__
from crux_tui.backend.access import INGEST_PATH, AccessMiddleware
from crux_tui.backend.detail_cache import DetailCache
from crux_tui.backend.detail_delta import LiveAnswer, LiveDetails, live_detail_answer
from crux_tui.backend.details import DetailWarmer, run_detail_body
from crux_tui.backend.events import EventBus, deleted_event, records_event
from crux_tui.backend.ingest import BatchError, batch_version_dispositions, check_batch
from crux_tui.backend.ingest_limits import answer_bound, collapse_rejections, too_many_records
from crux_tui.backend.lifecycle import LifecycleReconciler
from crux_tui.backend.store import IngestResult, InvalidQuery, Store, TransientStoreError
from crux_tui.backend.stored_bodies import BodyKeeper
from crux_tui.contract.delta import DELTA_BASE_HEADER, DETAIL_TAG_HEADER, SINCE_PARAM
from crux_tui.contract.models import (
    HEAD_LENGTH_HEADER,
    IngestDisposition,
    ObservabilityEvent,
    items,
)
from crux_tui.contract.tolerant import decode_json

MAX_BODY_BYTES = 1024 * 1024
API = "/api/observability"
WS_UI_PATH = "/ws/ui"
#: Per-client queue of ``/ws/ui`` messages: a client this far behind is disconnected.
WS_QUEUE_SIZE = 256
#: A ``/ws/ui`` frame that cannot be written within this many seconds drops the client.
WS_WRITE_TIMEOUT = 5.0

_encoder = msgspec.json.Encoder()


class _Disposition(msgspec.Struct, omit_defaults=True):
    """Wire form of an IngestDisposition: ``message`` omitted when empty."""

    index: int
    recordId: str
    outcome: str
    code: str
    retryable: bool
    message: str | None = None


class _IngestBody(msgspec.Struct):
    dispositions: list[_Disposition]


def ingest_body(dispositions: list[IngestDisposition]) -> _IngestBody:
    """The ``{"dispositions": [...]}`` response body."""
    return _IngestBody(
        [
            _Disposition(d.index, d.recordId, d.outcome, d.code, d.retryable, d.message or None)
            for d in dispositions
        ]
    )


Clock = Callable[[], datetime]


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A msgspec-encoded JSON body with a trailing newline."""
    return Response(
        _encoder.encode(value) + b"\n",
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def dispositions_response(
    dispositions: list[IngestDisposition],
    status: int,
    request_bytes: int,
    headers: dict[str, str] | None = None,
) -> Response:
    """The ``{"dispositions": [...]}`` answer, its identical rejections collapsed when it
    would be much bigger than the request (see ``ingest_limits``)."""
    body = _encoder.encode(ingest_body(dispositions)) + b"\n"
    if len(body) > answer_bound(request_bytes):
        body = _encoder.encode(ingest_body(collapse_rejections(dispositions))) + b"\n"
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def live_detail_response(answer: LiveAnswer) -> Response:
    """A running operation's RunDetail, tagged: a full body, or a delta against
    ``answer.base`` (see ``contract.delta``)."""
    headers = {DETAIL_TAG_HEADER: answer.tag} if answer.tag else {}
    if answer.base:
        headers[DELTA_BASE_HEADER] = answer.base
    elif answer.head_length is not None:
        headers[HEAD_LENGTH_HEADER] = str(answer.head_length)
    return Response(bytes(answer.body), media_type="application/json", headers=headers)


def text_response(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """A plain-text error body (Go ``http.Error`` style)."""
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def make_clock(clock: Clock | datetime | str | None) -> Clock:
    """Normalize a clock argument: a callable, a fixed datetime/RFC3339 string, or wall time."""
    if clock is None:
        return lambda: datetime.now(UTC)
    if isinstance(clock, str):
        fixed = datetime.fromisoformat(clock)
        clock = fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)
    if isinstance(clock, datetime):
        frozen = clock if clock.tzinfo else clock.replace(tzinfo=UTC)
        return lambda: frozen
    return clock


#: SQLite integers are signed 64-bit: a number outside this range is a bad request.
_INT_RANGE = range(-(2**63), 2**63)


def _bounded_int(raw: str, name: str) -> int:
    """``raw`` as an integer SQLite can bind; :class:`InvalidQuery` (400) otherwise."""
    try:
        value = int(raw.strip()) if len(raw) <= 40 else None
    except ValueError as exc:
        raise InvalidQuery(f"invalid {name}") from exc
    if value is None or value not in _INT_RANGE:
        raise InvalidQuery(f"{name} out of range (expected a 64-bit integer)")
    return value


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return _bounded_int(raw, f"{name} query parameter")


def create_app(
    store: Store,
    clock: Clock | datetime | str | None = None,
    token: str | None = None,
    *,
    bus: EventBus | None = None,
    keepalive: float = 15.0,
    lifecycle_interval: float | None = 1.0,
    max_body: int = MAX_BODY_BYTES,
    detail_cache: DetailCache | None = None,
    allowed_hosts: Sequence[str] = (),
    ws_queue_size: int = WS_QUEUE_SIZE,
) -> Starlette:
    """Build the backend app over ``store``.

    ``clock`` freezes the projection clock (RunDetail, lifecycle) when given; ``token``
    enables the ``?t=`` / bearer checks; ``allowed_hosts`` are ``Host`` names answered besides
    loopback (see :mod:`crux_tui.backend.access`); ``lifecycle_interval=None`` disables the
    ticker.
    """
    now = make_clock(clock)
    events = bus or EventBus()
    details = detail_cache if detail_cache is not None else DetailCache()
    keeper = BodyKeeper(store)
    warmer = DetailWarmer(store, details, now, publish=events.publish, keeper=keeper)
    live = LiveDetails()

    async def ingest(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return text_response("Request Entity Too Large", 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return text_response("Request Entity Too Large", 413)
        try:
            data = decode_json(bytes(body))  # too-deep values come back marked, not raised
        except (msgspec.DecodeError, RecursionError):
            return text_response("invalid JSON", 400)
        try:
            records, version, health = check_batch(data)
        except BatchError as exc:
            return text_response(str(exc), 400)
        refusal = too_many_records(len(records))
        if refusal is not None:
            return text_response(refusal, 413)
        if version is None:
            return dispositions_response(batch_version_dispositions(records), 422, len(body))

        def ingest_and_publish() -> IngestResult:
            # revisions are assigned and published under the same lock: a later commit's
            # events can never leave before an earlier one's (SSE ids only go up)
            with store.write_lock:
                result = store.ingest_batch(records, health, version=version)
                for change in result.changes:
                    event = records_event(change.operationId, change.traceId, change.revision)
                    events.publish(change.revision, event)
            return result

        try:
            result = await run_in_threadpool(ingest_and_publish)
        except TransientStoreError:
            return text_response("observability store busy", 503, {"Retry-After": "1"})
        for change in result.changes:
            warmer.schedule(change.operationId)
        headers = {"Retry-After": "1"} if any(d.retryable for d in result.dispositions) else None
        return dispositions_response(result.dispositions, 202, len(body), headers)

    async def read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def runs_page(request: Request) -> Response:
        q = request.query_params
        status = [s.strip() for s in q.get("status", "").split(",") if s.strip()]
        page = await read(
            store.runs_page,
            limit=_int_param(request, "limit"),
            cursor=q.get("cursor") or None,
            status=status,
            session_id=q.get("sessionId") or None,
            since=q.get("since") or None,
            until=q.get("until") or None,
        )
        return json_response(page)

    async def runs_delta(request: Request) -> Response:
        since = _int_param(request, "since", 0) or 0
        return json_response(await read(store.runs_delta, since))

    async def run_detail(request: Request) -> Response:
        ref, since = request.path_params["run_id"], request.query_params.get(SINCE_PARAM)
        answer = await read(live_detail_answer, store, details, live, ref, now(), since)
        if answer is not None:
            return live_detail_response(answer)
        body = await read(run_detail_body, store, details, ref, now(), keeper)
        if body is None:
            return text_response("not found", 404)
        headers = {HEAD_LENGTH_HEADER: str(body.head_length)}
        data = body.in_memory
        if data is not None:
            return Response(data, media_type="application/json", headers=headers)
        # a big body lives on disk: stream it in chunks instead of reading it into memory
        headers["content-length"] = str(body.length)
        return StreamingResponse(body.chunks(), media_type="application/json", headers=headers)

    async def delete_run(request: Request) -> Response:
        ref = request.path_params["run_id"]

        def delete_and_publish() -> tuple[list[str], int] | None:
            with store.write_lock:  # published in revision order, like ingest's events
                deleted = store.delete_operation(ref)
                if deleted is not None:
                    operation_ids, revision = deleted
                    details.forget(operation_ids)
                    live.forget(operation_ids)
                    events.publish(revision, deleted_event(operation_ids, revision))
            return deleted

        deleted = await run_in_threadpool(delete_and_publish)
        if deleted is None:
            return text_response("not found", 404)
        operation_ids, revision = deleted
        return json_response({"operationIds": operation_ids, "revision": revision})

    async def run_graph(request: Request) -> Response:
        graph = await read(store.graph, request.path_params["run_id"])
        if graph is None:
            return text_response("not found", 404)
        return json_response(graph)

    async def span_events(request: Request) -> Response:
        limit = _int_param(request, "limit", 200)
        result = await read(
            store.span_events,
            request.path_params["run_id"],
            request.path_params["span_id"],
            name=request.query_params.get("name") or None,
            after=request.query_params.get("after") or None,
            limit=200 if limit is None or limit <= 0 else limit,
        )
        if result is None:
            return text_response("not found", 404)
        return json_response(result)

    async def stream(request: Request) -> Response:
        header = request.headers.get("last-event-id")
        raw = header or request.query_params.get("lastEventId")
        after: int | None = None
        # an id that is not a number is not one of ours (another backend's): start from now
        if raw and raw.strip().lstrip("-").isdigit():
            after = _bounded_int(raw, "Last-Event-ID" if header else "lastEventId")

        # The ring is in memory: after a restart (or once it has rolled over) catch the
        # client up from the store's persistent change log instead.
        catch_up: list[tuple[int, ObservabilityEvent]] = []
        if after is not None and not events.covers(after):
            delta = await run_in_threadpool(store.runs_delta, after)
            catch_up = [
                (change.revision, records_event(change.id, "", change.revision))
                for change in items(delta.changes)
            ]
            if catch_up:
                after = max(after, catch_up[-1][0])

        async def body() -> AsyncIterator[bytes]:
            yield b"retry: 1000\n: connected\n\n"
            for seq, event in catch_up:
                yield b"event: observability\nid: %d\ndata: %s\n\n" % (seq, _encoder.encode(event))
            async for item in events.subscribe(after=after, keepalive=keepalive):
                if item is None:
                    yield b": keep-alive\n\n"
                    continue
                seq, event = item
                yield b"event: observability\nid: %d\ndata: %s\n\n" % (seq, _encoder.encode(event))

        return StreamingResponse(
            body(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    index_message = _encoder.encode(
        {"type": "index", "projectRoot": "", "serverVersion": f"crux-tui {__version__}"}
    ).decode()

    async def ws_ui(websocket: WebSocket) -> None:
        """Crux's ``/ws/ui``: an ``index`` message, then every ObservabilityEvent as
        ``{"type": "observability:event", "event": ...}``; what the client sends is read
        and dropped; a client that falls behind is disconnected."""
        await websocket.accept()
        gone = asyncio.Event()

        async def drain_client() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
            gone.set()

        reader = asyncio.create_task(drain_client())
        try:
            await asyncio.wait_for(websocket.send_text(index_message), WS_WRITE_TIMEOUT)
            async for item in events.subscribe(
                keepalive=min(keepalive, 1.0), queue_size=ws_queue_size
            ):
                if gone.is_set():
                    return
                if item is None:
                    continue
                frame = b'{"type":"observability:event","event":%s}' % _encoder.encode(item[1])
                await asyncio.wait_for(websocket.send_text(frame.decode()), WS_WRITE_TIMEOUT)
            # the bus ended the subscription: shutting down, or this client fell behind
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code=1013), WS_WRITE_TIMEOUT)
        except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
            with contextlib.suppress(Exception):
                await websocket.close(code=1013)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapper(request: Request) -> Response:
            try:
                return await handler(request)
            except InvalidQuery as exc:
                return text_response(str(exc), 400)
            except TransientStoreError:
                return text_response("observability service unavailable", 503, {"Retry-After": "1"})

        return wrapper

    routes = [
        Route(INGEST_PATH, guarded(ingest), methods=["POST"]),
        Route(f"{API}/runs/page", guarded(runs_page), methods=["GET"]),
        Route(f"{API}/runs/delta", guarded(runs_delta), methods=["GET"]),
        Route(f"{API}/stream", guarded(stream), methods=["GET"]),
        Route(f"{API}/runs/{{run_id}}", guarded(run_detail), methods=["GET"]),
        Route(f"{API}/runs/{{run_id}}", guarded(delete_run), methods=["DELETE"]),
        Route(f"{API}/runs/{{run_id}}/graph", guarded(run_graph), methods=["GET"]),
        Route(
            f"{API}/runs/{{run_id}}/spans/{{span_id}}/events", guarded(span_events), methods=["GET"]
        ),
        WebSocketRoute(WS_UI_PATH, ws_ui),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(warmer.run())]
        if lifecycle_interval:
            reconciler = LifecycleReconciler(store, events, now, lifecycle_interval)
            app.state.lifecycle = reconciler
            tasks.append(asyncio.create_task(reconciler.run()))
        try:
            yield
        finally:
            events.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(keeper.close)  # bodies queued to be kept are written

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = {404: "not found", 405: "method not allowed"}.get(status, "error")
        return text_response(message, status)

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    app.add_middleware(AccessMiddleware, token=token, allowed_hosts=allowed_hosts)
    app.state.store = store
    app.state.bus = events
    app.state.clock = now
    app.state.detail_cache = details
    app.state.body_keeper = keeper
    return app
