"""``/ws/ui`` served by the embedded backend, with Crux's envelope (crux-v5.md D.3), over a
real WebSocket connection (the ``websockets`` client)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from crux_tui import __version__
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.models import ObservabilityEvent
from tests.backend.operation_records import OP, child_records, root_records
from tests.records import batch

API = "/api/observability"


def ws_url(backend: EmbeddedBackend, query: str = "") -> str:
    return backend.url.replace("http://", "ws://") + "/ws/ui" + query


def open_ws(url: str, **options: Any) -> connect:
    return connect(url, proxy=None, open_timeout=10, **options)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_index_first_then_every_event_in_crux_envelope(
    pinned_backend: EmbeddedBackend,
) -> None:
    async with open_ws(ws_url(pinned_backend)) as ws:
        assert await receive(ws) == {
            "type": "index",
            "projectRoot": "",
            "serverVersion": f"crux-tui {__version__}",
        }
        await ws.send("hello")  # read and dropped
        await ws.send(json.dumps({"type": "subscribe"}))
        async with httpx.AsyncClient() as client:
            posted = await client.post(
                pinned_backend.url + f"{API}/records",
                json=batch(root_records() + child_records("run_child")),
            )
            assert posted.status_code == 202
            message = await receive(ws)
            assert message["type"] == "observability:event"
            event = message["event"]
            assert (event["_tag"], event["kind"], event["action"]) == (
                "ObservabilityEvent",
                "observability.records",
                "ingested",
            )
            # one event for the operation the batch touched, not one per member run
            assert event["refId"] == OP
            revision = pinned_backend.store.revision()
            assert event["payload"] == {
                "operationId": OP,
                "entity": "operation",
                "revision": revision,
                "traceId": "trace_run_op",
            }
            deleted = await client.delete(pinned_backend.url + f"{API}/runs/{OP}")
            assert deleted.status_code == 200
        message = await receive(ws)
        assert message["event"]["action"] == "deleted"
        assert (message["event"]["id"], message["event"]["timestamp"]) == ("", 0)
        assert message["event"]["payload"] == {"operationIds": [OP], "revision": revision + 1}
    # the server lets go of a client that left
    await wait_until(lambda: pinned_backend.bus.subscriber_count() == 0, "subscription released")


async def test_lifecycle_events_name_the_member_run(make_backend) -> None:
    backend = make_backend(clock="2026-05-16T18:10:00Z")
    async with open_ws(ws_url(backend)) as ws:
        await receive(ws)
        open_child = child_records("run_open_child")[:1]  # started, then silence
        async with httpx.AsyncClient() as client:
            await client.post(
                backend.url + f"{API}/records", json=batch(root_records() + open_child)
            )
        seen = []
        while not any(e["kind"] == "observability.lifecycle" for e in seen):
            seen.append((await receive(ws))["event"])
    lifecycle = next(e for e in seen if e["kind"] == "observability.lifecycle")
    assert lifecycle["refId"] == "run_open_child"
    assert lifecycle["payload"]["runId"] == "run_open_child"
    assert lifecycle["payload"]["status"] == "incomplete"
    members = httpx.get(backend.url + f"{API}/runs/{OP}").json()["memberRuns"]
    child = next(m for m in members if m["run"]["runId"] == "run_open_child")
    assert child["run"]["status"] == lifecycle["payload"]["status"]
    (row,) = httpx.get(backend.url + f"{API}/runs/page").json()["rows"]
    assert (row["status"], row["activeChildCount"], row["failedChildCount"]) == ("ok", 0, 1)


async def test_token_and_origin_rules_match_the_http_routes(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    backend = make_backend(token="s3cret")
    with pytest.raises(InvalidStatus) as refused:
        async with open_ws(ws_url(backend)):
            pass
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        async with open_ws(ws_url(backend, "?t=wrong")):
            pass
    async with open_ws(ws_url(backend, "?t=s3cret")) as ws:
        assert (await receive(ws))["type"] == "index"

    open_backend = make_backend()
    with pytest.raises(InvalidStatus) as foreign:
        async with open_ws(ws_url(open_backend), origin="https://evil.example"):
            pass
    assert foreign.value.response.status_code == 403
    same_origin = f"http://127.0.0.1:{open_backend.port}"
    async with open_ws(ws_url(open_backend), origin=same_origin) as ws:
        assert (await receive(ws))["type"] == "index"


async def test_a_client_that_does_not_read_is_disconnected(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    backend = make_backend(ws_queue_size=4, lifecycle_interval=None)
    # compression off and incompressible payloads: the socket buffers really fill up
    async with open_ws(ws_url(backend), compression=None, max_queue=1) as ws:
        await wait_until(lambda: backend.bus.subscriber_count() == 1, "client subscribed")
        blob = os.urandom(128 * 1024).hex()
        sent = 0
        while backend.bus.subscriber_count() and sent < 2000:
            sent += 1
            backend.bus.publish(
                sent, ObservabilityEvent(kind="test.flood", refId=str(sent), payload={"b": blob})
            )
            await asyncio.sleep(0)
        await wait_until(lambda: backend.bus.subscriber_count() == 0, "slow client dropped")
        received = 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 30)
                received += 1
        assert received < sent  # it was cut off, not served everything
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


def _frame_opcodes(data: bytes) -> list[int]:
    """The opcodes of the (unmasked, server-sent) WebSocket frames in ``data``."""
    opcodes, at = [], 0
    while at + 2 <= len(data):
        opcodes.append(data[at] & 0x0F)
        length, at = data[at + 1] & 0x7F, at + 2
        if length >= 126:
            size = 2 if length == 126 else 8
            length, at = int.from_bytes(data[at : at + size], "big"), at + size
        at += length
    return opcodes


async def test_a_client_whose_close_cannot_be_sent_is_let_go_without_an_error(
    make_backend: Callable[..., EmbeddedBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the bus ends a client's subscription (shutting down) and the close frame
    cannot be written in time (the client reads nothing: its buffers are full), the
    connection is let go without the close, and without an error in the server's log
    (``crux-tui serve`` prints that log)."""
    import logging
    import logging.handlers
    import socket

    from crux_tui.backend import server

    monkeypatch.setattr(server, "WS_WRITE_TIMEOUT", 0.1)
    backend = make_backend(lifecycle_interval=None)
    handler = logging.handlers.BufferingHandler(capacity=1000)
    handler.setLevel(logging.ERROR)
    log = logging.getLogger("uvicorn.error")
    log.addHandler(handler)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.settimeout(20)
        sock.connect(("127.0.0.1", backend.port))
        sock.sendall(
            b"GET /ws/ui HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += await asyncio.to_thread(sock.recv, 1)
        assert answer.startswith(b"HTTP/1.1 101")
        await wait_until(lambda: backend.bus.subscriber_count() == 1, "client subscribed")
        # an event far bigger than the socket buffers: the server cannot write any more
        backend.bus.publish(
            1, ObservabilityEvent(kind="test.flood", payload={"b": "x" * (16 << 20)})
        )
        await wait_until(lambda: len(sock.recv(65536, socket.MSG_PEEK)) > 1000, "event sent")
        backend.bus.close()  # as at shutdown: the subscription ends, the close is due
        await asyncio.sleep(1.5)  # the close times out meanwhile
        received = bytearray()
        while chunk := await asyncio.to_thread(sock.recv, 1 << 20):
            received += chunk  # read on: the server lets go of the connection
    finally:
        sock.close()
        log.removeHandler(handler)
    assert _frame_opcodes(bytes(received)) == [1, 1]  # the index, the event: no close
    assert [record.getMessage() for record in handler.buffer] == []
