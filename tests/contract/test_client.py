"""CruxClient against the real embedded backend (and tiny real apps for odd bodies)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from records import RunBuilder, simple_run
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.client import CruxClient
from crux_tui.contract.errors import (
    BackendUnreachable,
    CruxError,
    HttpError,
    NotFound,
    ProtocolError,
    Unauthorized,
)
from crux_tui.contract.models import items


async def test_client_routes(pinned_backend: EmbeddedBackend) -> None:
    async with CruxClient(pinned_backend.url) as client:
        for i in range(5):
            dispositions = await client.post_records(
                simple_run(f"r{i}", base=f"2026-05-16T17:5{i}:00", session_id="s")
            )
            assert {d.outcome for d in dispositions} == {"accepted"}
        page = await client.runs_page(limit=2, status=["ok", "error"], session_id="s")
        assert [r.runId for r in items(page.rows)] == ["r4", "r3"] and page.nextCursor
        assert [r.runId async for r in client.iter_runs(page_size=2)] == [
            f"r{i}" for i in range(4, -1, -1)
        ]
        assert items((await client.runs_page(since="2026-05-16T17:53:00Z")).rows)[-1].runId == "r3"
        detail = await client.run_detail("r1")
        assert detail.run.runId == "r1" and detail.root.id
        graph = await client.graph("trace_r1")
        assert graph.run.runId == "r1" and len(items(graph.records)) == len(simple_run("r1"))
        events = await client.span_events("r1", "gen", name="token.chunk", limit=5)
        assert [e.name for e in events] == ["token.chunk"]
        delta = await client.runs_delta(3)
        assert delta.revision == 5 and [c.id for c in items(delta.changes)] == ["r3", "r4"]
        bad = await client.post_records([{**RunBuilder("x").run_start(), "segmentSeq": 0}])
        assert bad[0].code == "missing_segment_identity"


async def test_client_errors(backend: EmbeddedBackend) -> None:
    async with CruxClient(backend.url) as client:
        with pytest.raises(NotFound):
            await client.run_detail("missing")
        with pytest.raises(HttpError) as info:
            await client.runs_page(cursor="%%%")
        assert info.value.status == 400


async def test_token_is_sent_as_query(make_backend: Callable[..., EmbeddedBackend]) -> None:
    backend = make_backend(token="tok")
    async with CruxClient(backend.url, token="tok") as client:
        await client.post_records(simple_run("a"))
        assert items((await client.runs_page()).rows)[0].runId == "a"
    async with CruxClient(backend.url) as client:
        with pytest.raises(Unauthorized):
            await client.runs_page()


async def test_unreachable_backend() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with CruxClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(BackendUnreachable) as info:
            await client.runs_page()
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "crux-tui serve" in message
    assert isinstance(info.value, CruxError)


async def test_protocol_error_has_snippet(serve_app: Callable[[object], str]) -> None:
    async def garbage(request: object) -> Response:
        return Response(b"<html>surprise</html>", media_type="text/html")

    async def wrong_shape(request: object) -> Response:
        return PlainTextResponse('{"changes": 5}')

    url = serve_app(
        Starlette(
            routes=[
                Route("/api/observability/runs/page", garbage),
                Route("/api/observability/runs/delta", wrong_shape),
            ]
        )
    )
    async with CruxClient(url) as client:
        with pytest.raises(ProtocolError) as info:
            await client.runs_page()
        assert "<html>surprise" in info.value.snippet
        with pytest.raises(ProtocolError):
            await client.runs_delta(0)
