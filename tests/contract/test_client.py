"""CruxClient against the real embedded backend (and tiny real apps for odd bodies)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import msgspec
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
    NotCruxBackend,
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
        with pytest.raises(NotCruxBackend) as page:
            await client.runs_page()
        assert str(page.value) == (
            "this is not a Crux devtools backend"
            f" (GET {url}/api/observability/runs/page answered 200 with text/html)"
        )
        with pytest.raises(ProtocolError):
            await client.runs_delta(0)


async def test_run_detail_reports_download_progress(backend: EmbeddedBackend) -> None:
    from crux_tui.demo import scaled_run_records

    records = scaled_run_records(2000)
    run_id = records[0]["runId"]
    for start in range(0, len(records), 2000):
        backend.store.ingest_batch(records[start : start + 2000])
    seen: list[tuple[int, int | None]] = []
    async with CruxClient(backend.url) as client:
        with_progress, problems = await client.run_detail_checked(
            run_id, progress=lambda got, total: seen.append((got, total))
        )
        plain = await client.run_detail(run_id)
    assert with_progress == plain and problems == []
    body_size = seen[-1][0]
    assert seen[0] == (0, body_size) and seen[-1] == (body_size, body_size)
    assert len(seen) > 2  # the ~5 MB body arrived in several chunks
    received = [got for got, _ in seen]
    assert received == sorted(received)


async def test_head_of_a_big_run_arrives_first(backend: EmbeddedBackend) -> None:
    """``on_head`` gets the run and its rows before the call returns; small bodies and
    backends that do not say where the head ends go without it."""
    from crux_tui.contract.models import RunDetailHead
    from crux_tui.demo import scaled_run_records

    records = scaled_run_records(1000)
    run_id = records[0]["runId"]
    backend.store.ingest_batch(records)
    backend.store.ingest_batch(simple_run("small"))
    heads: list[RunDetailHead] = []
    async with CruxClient(backend.url) as client:
        detail, problems = await client.run_detail_checked(run_id, on_head=heads.append)
        assert problems == [] and len(heads) == 1
        assert heads[0].rows == detail.rows and heads[0].run == detail.run
        assert len(items(detail.rows)) > 500
        await client.run_detail_checked("small", on_head=heads.append)
    assert len(heads) == 1


async def test_a_head_length_that_is_not_a_plain_number_is_ignored(
    backend: EmbeddedBackend, serve_app: Callable[[object], str]
) -> None:
    """A bogus header costs the early head, never the run."""
    import httpx

    from crux_tui.demo import scaled_run_records

    records = scaled_run_records(1000)
    run_id = records[0]["runId"]
    backend.store.ingest_batch(records)
    real = httpx.get(f"{backend.url}/api/observability/runs/{run_id}", timeout=30)
    values = iter(["\u00b2", "9" * 5000, str(len(real.content) + 1), "-5", "1e6"])

    async def detail(request: object) -> Response:
        bogus = next(values).encode("latin-1", "replace")
        return Response(
            real.content,
            media_type="application/json",
            headers={"x-crux-rundetail-head-length": bogus.decode("latin-1")},
        )

    url = serve_app(Starlette(routes=[Route("/api/observability/runs/{run_id}", detail)]))
    heads: list[object] = []
    async with CruxClient(url) as client:
        for _ in range(5):
            detail_, problems = await client.run_detail_checked(run_id, on_head=heads.append)
            assert problems == [] and detail_.run.runId == run_id
    assert heads == []


async def test_download_progress_without_a_length(serve_app: Callable[[object], str]) -> None:
    from starlette.responses import StreamingResponse

    from crux_tui.contract.models import RunDetail, RunDetailNode, RunSummary

    body = msgspec.json.encode(
        RunDetail(run=RunSummary(runId="r"), root=RunDetailNode(id="run:r"), rows=[])
    )

    async def detail(request: object) -> StreamingResponse:
        async def chunks():  # no Content-Length: chunked transfer
            for start in range(0, len(body), 16):
                yield body[start : start + 16]

        return StreamingResponse(chunks(), media_type="application/json")

    url = serve_app(Starlette(routes=[Route("/api/observability/runs/{run_id}", detail)]))
    seen: list[tuple[int, int | None]] = []
    async with CruxClient(url) as client:
        result, _ = await client.run_detail_checked(
            "r", progress=lambda got, total: seen.append((got, total))
        )
    assert result.run.runId == "r"
    assert seen[0] == (0, None) and seen[-1] == (len(body), len(body))
    assert all(total is None for _, total in seen[1:-1])
