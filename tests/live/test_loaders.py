"""The run and runs loaders without an app: plain asyncio against the real embedded backend,
the Go-shaped `crux dev` stand-in, and small servers that hold an answer back. The session
is the real client, run directory and symptom book; what the app would show of
reachability and revisions is recorded. Clocks are injected where a rule counts seconds."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import msgspec
import pytest
from gocrux import fixtures as fx
from gocrux.server import GoCrux
from gocrux.shapes import deleted_event, lifecycle_event, token_chunk_event
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.models import (
    HEAD_LENGTH_HEADER,
    ObservabilityEvent,
    RunDetail,
    RunSummary,
)
from crux_tui.demo import build_demo_records
from crux_tui.live import run_loader, runs_loader
from crux_tui.live.run_loader import RunLoader, RunState
from crux_tui.live.runs_loader import RunsLoader, RunsState
from crux_tui.live.session import TaskRunner
from crux_tui.loading import load_records
from tests.app.helpers import ago, post_records, simple_run
from tests.live.loader_kit import Clock, Viewer, body_app, padded_body, until, viewer_of
from tests.reliability.test_faults import held_back_big_run, slow_detail, slow_page

API = "/api/observability"


def event(shape: dict[str, Any]) -> ObservabilityEvent:
    return msgspec.convert(shape, ObservabilityEvent)


async def load_demo(backend: EmbeddedBackend) -> None:
    assert await asyncio.to_thread(load_records, backend.url, build_demo_records()) == []


# ---------------------------------------------------------------------------- RunLoader


async def test_a_run_loads_then_its_symptoms_are_found(backend: EmbeddedBackend) -> None:
    await load_demo(backend)
    async with viewer_of(backend.url) as (viewer, runner):
        states: list[RunState] = []
        loader = RunLoader("run_unnamed_tool", viewer, runner, states.append)
        loader.refresh()
        assert loader.busy
        await runner.idle()
        state = loader.state
        assert state.detail is not None and state.detail.run.runId == "run_unnamed_tool"
        assert not state.partial and not state.error and state.subjects
        assert [s.code for s in state.symptoms] == ["tool-label-call-id"]
        assert viewer.symptom_book.count("run_unnamed_tool") == 1
        assert viewer.reachable == [True]
        # published: the run, then its symptoms (each a new state)
        assert states[-1] is state and any(s.detail is not None and not s.symptoms for s in states)


async def test_a_folded_detail_is_a_subject_by_its_id_and_by_its_span_id(
    backend: EmbeddedBackend,
) -> None:
    await load_demo(backend)
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunLoader("run_unnamed_tool", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        detail = loader.state.detail
        assert detail is not None
        nodes, folded = [detail.root], []
        while nodes:
            node = nodes.pop()
            folded += node.details or []
            nodes += node.children or []
        assert folded
        for det in folded:
            assert det.id and det.spanId
            assert loader.state.subjects[det.id] is det
            assert loader.state.subjects[det.spanId] is det


async def test_a_burst_of_refreshes_is_one_request_in_flight_and_one_queued(serve_app) -> None:
    gate = threading.Event()
    served = {"n": 0}

    async def detail(request: Request) -> JSONResponse:
        served["n"] += 1
        await anyio.to_thread.run_sync(gate.wait, 20)
        return JSONResponse(slow_detail(f"answer {served['n']}", "span_0"))

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_slow", viewer, runner, lambda state: None)
        loader.refresh()
        await until(lambda: served["n"] == 1, "the first request")
        for _ in range(3):
            loader.refresh()  # while it is in flight: one more, queued
            await asyncio.sleep(0.05)  # (a second loop, if one started, would ask now)
        gate.set()
        await runner.idle()
        assert served["n"] == 2 and loader.applied == 2
        assert loader.state.detail is not None and loader.state.detail.run.name == "answer 2"
        # a late answer to an older request never replaces the newer one
        stale = RunDetail(run=RunSummary(runId="run_slow", name="stale"))
        assert loader.apply(stale, seq=1) is False
        assert loader.state.detail.run.name == "answer 2"


async def test_polling_slows_down_then_stops_once_the_run_settled(backend: EmbeddedBackend) -> None:
    await post_records(backend.url, simple_run("run_done", "done"))
    await post_records(backend.url, simple_run("run_going", "going", status="running"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        done = RunLoader("run_done", viewer, runner, lambda state: None, clock=clock)
        going = RunLoader("run_going", viewer, runner, lambda state: None, clock=clock)
        done.refresh()
        going.refresh()
        await runner.idle()
        assert done.terminal_since == clock.now and going.terminal_since is None

        def polls(loader: RunLoader, *, streaming: bool = False) -> bool:
            loader.tick(streaming=streaming)
            return loader.busy

        clock.now += 1.0
        assert not polls(done, streaming=True) and not polls(going, streaming=True)  # live
        assert polls(going)  # no stream, running: every second
        assert not polls(done)  # settled: every 5 s for a minute
        await runner.idle()
        clock.now += 4.0
        assert polls(done)
        await runner.idle()
        clock.now = done.terminal_since + run_loader.TERMINAL_POLL_WINDOW + 1
        assert not polls(done)  # then not until an event or a refresh
        done.refresh()
        assert done.busy
        await runner.idle()


async def test_live_events_naming_the_operation_or_a_member_run_refetch(gocrux: GoCrux) -> None:
    detail_path = f"{API}/runs/{fx.CHAT}"
    async with viewer_of(gocrux.url) as (viewer, runner):
        loader = RunLoader(fx.CHAT, viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        assert fx.CHILD_NOTIFY in loader.own_ids()
        reads = gocrux.count(detail_path)
        for shape in (
            lifecycle_event(fx.CHILD_NOTIFY, "error"),  # a member run, through memberRuns
            token_chunk_event(fx.CHILD_SUM, "span_x", 1),  # a member run streaming
            {"id": "resync", "timestamp": 1, "kind": "observability.records"},  # names nothing
        ):
            loader.on_event(event(shape))
            assert loader.busy, shape
            await runner.idle()
        assert gocrux.count(detail_path) == reads + 3
        for shape in (
            lifecycle_event("run_of_someone_else", "error"),
            token_chunk_event("run_of_someone_else", "span_x", 1),
            # a token chunk naming no run is of no run in particular (unlike a resync)
            {"id": "chunk", "timestamp": 1, "kind": "token.chunk", "action": "appended"},
        ):
            loader.on_event(event(shape))
            assert not loader.busy, shape
        loader.on_event(event(deleted_event([fx.CHAT], 99)))
        assert loader.state.deleted and not loader.busy
        loader.on_event(event(lifecycle_event(fx.CHILD_NOTIFY, "error")))
        loader.tick(streaming=False)
        assert not loader.busy  # deleted: nothing to refetch until a refresh


async def test_a_run_deleted_at_the_backend_keeps_its_last_copy(backend: EmbeddedBackend) -> None:
    await post_records(backend.url, simple_run("run_gone", "gone"))
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunLoader("run_gone", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        shown = loader.state.detail
        await viewer.client.delete_run("run_gone")
        loader.refresh()
        await runner.idle()
        assert loader.state.deleted and not loader.state.error
        assert loader.state.detail is shown
        loader.tick(streaming=False)
        assert not loader.busy
        # never there: said, and not asked for every second
        missing = RunLoader("run_never", viewer, runner, lambda state: None)
        missing.refresh()
        await runner.idle()
        assert missing.state.deleted and missing.state.error.startswith("not found")
        missing.tick(streaming=False)
        assert not missing.busy


async def test_a_refetch_no_newer_than_the_answer_shown_keeps_the_deleted_mark_until_answered(
    serve_app,
) -> None:
    """Only a request newer than the answer shown takes the deleted mark back as it asks
    ("asked again: say so again if it is still gone"); one numbered like the answer the
    caller applied keeps it until its own answer is shown."""
    gate = threading.Event()
    asked: list[int] = []

    async def detail(request: Request) -> JSONResponse:
        asked.append(1)
        await anyio.to_thread.run_sync(gate.wait, 20)
        return JSONResponse(slow_detail("still here", "span_0"))

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_slow", viewer, runner, lambda state: None)
        shown = msgspec.convert(slow_detail("shown", "span_0"), RunDetail)
        assert loader.apply(shown, 1)  # as the run screen may: the answer of request 1
        await runner.idle()
        loader.mark_deleted()
        loader.refresh()  # the loader's request 1: not newer than what is shown
        await until(lambda: asked, "the refetch asked")
        assert loader.state.deleted
        gate.set()
        await runner.idle()
        assert not loader.state.deleted and loader.state.detail is not None
        assert loader.state.detail.run.name == "still here"


async def test_an_unreachable_backend_is_said_and_polled() -> None:
    clock = Clock()
    async with viewer_of("http://127.0.0.1:9") as (viewer, runner):
        loader = RunLoader("run_x", viewer, runner, lambda state: None, clock=clock)
        loader.refresh()
        await runner.idle()
        assert loader.state.error.startswith("cannot reach http://127.0.0.1:9")
        assert viewer.reachable == [False] and loader.state.detail is None
        clock.now += 1.0
        loader.tick(streaming=True)  # even with a stream: the read failed
        assert loader.busy
        await runner.idle()


async def test_a_big_run_shows_its_rows_first(serve_app, make_backend) -> None:
    url, release = await held_back_big_run(serve_app, make_backend)
    async with viewer_of(url) as (viewer, runner):
        states: list[RunState] = []
        run_id = (await viewer.client.runs_page()).rows[0].runId
        loader = RunLoader(run_id, viewer, runner, states.append)
        loader.refresh()
        await until(lambda: loader.state.partial, "the rows painted from the head")
        preview = loader.state.detail
        assert preview is not None and len(preview.rows or []) > 1 and loader.busy
        assert viewer.symptom_book.count(run_id) is None  # not analysed from a preview
        release.set()
        await runner.idle()
        assert not loader.state.partial and loader.state.detail is not preview
        assert next(s.partial for s in states if s.detail is not None) is True
        assert viewer.symptom_book.count(run_id) is not None


@pytest.mark.parametrize("off_thread", [False, True])
async def test_a_big_body_paints_its_head_rows_before_its_tail(
    serve_app, backend, monkeypatch: pytest.MonkeyPatch, off_thread: bool
) -> None:
    """The first load of a RunDetail body of a megabyte or more paints the rows of its head
    (a partial state, not analysed) while the tail is still on its way; the whole body then
    replaces it; a head of many rows is previewed in a thread. (The quick form of the test
    above: a small real run, its body padded.)"""
    if off_thread:
        monkeypatch.setattr(run_loader, "INDEX_OFF_THREAD_SPANS", 0)
    body, head_length = await padded_body(backend.url, "run_padded", "padded run")
    release = threading.Event()

    async def detail(request: Request) -> StreamingResponse:
        async def held_back() -> AsyncIterator[bytes]:
            yield body[: head_length + 10]
            await anyio.to_thread.run_sync(release.wait, 20)
            yield body[head_length + 10 :]

        headers = {"content-length": str(len(body)), HEAD_LENGTH_HEADER: str(head_length)}
        return StreamingResponse(held_back(), media_type="application/json", headers=headers)

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    async with viewer_of(url) as (viewer, runner):
        states: list[RunState] = []
        loader = RunLoader("run_padded", viewer, runner, states.append)
        loader.refresh()
        await until(lambda: loader.state.partial, "the rows painted from the head")
        preview = loader.state.detail
        assert preview is not None and preview.run.runId == "run_padded"
        assert [row.spanId for row in preview.rows or []] == ["run_padded_agent", "run_padded_gen"]
        assert loader.busy and viewer.symptom_book.count("run_padded") is None
        release.set()
        await runner.idle()
        assert not loader.state.partial and loader.state.detail is not preview
        assert loader.state.detail is not None and loader.state.detail.run.runId == "run_padded"
        assert viewer.symptom_book.count("run_padded") is not None


async def test_a_view_that_never_says_it_painted_holds_nothing_for_long(
    serve_app, backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader waits for the view to paint a preview at most ``PREVIEW_WAIT``: a view that
    never says so holds neither the whole body nor any work of the loader."""
    monkeypatch.setattr(run_loader, "PREVIEW_WAIT", 0.05)
    body, head_length = await padded_body(backend.url, "run_unpainted", "unpainted run")

    async def never() -> None:
        await asyncio.Event().wait()

    url = serve_app(body_app(body, head_length))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_unpainted", viewer, runner, lambda state: None, painted=never)
        loader.refresh()
        await asyncio.wait_for(runner.idle(), 20)
        assert loader.state.detail is not None and not loader.state.partial


async def test_the_whole_body_waits_for_its_preview_to_be_painted(serve_app, backend) -> None:
    """A first load paints the preview of a big body's head before the whole body is
    decoded and shown: the whole body waits while the view says it is still painting."""
    body, head_length = await padded_body(backend.url, "run_painting", "painting run")

    painting, painted = asyncio.Event(), asyncio.Event()

    async def paint() -> None:
        painting.set()
        await painted.wait()

    url = serve_app(body_app(body, head_length))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_painting", viewer, runner, lambda state: None, painted=paint)
        loader.refresh()
        await until(painting.is_set, "the preview painting", timeout=5)
        await asyncio.sleep(0.3)  # the whole body is in by now: it waits for the paint
        assert loader.state.partial and loader.busy
        painted.set()
        await runner.idle()
        assert loader.state.detail is not None and not loader.state.partial


async def test_a_preview_whose_load_failed_first_is_not_painted(
    serve_app, backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A head previewed off the UI thread, whose body died before the preview was ready, is
    not painted: the failure is what the view says. (The loop's executor has two workers:
    one downloads the body, then both are kept busy until the failure is shown, so the
    preview waits its turn.)"""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(run_loader, "INDEX_OFF_THREAD_SPANS", 0)  # every head off the loop
    body, head_length = await padded_body(backend.url, "run_dies", "dying run")
    asked, head, tail = threading.Event(), threading.Event(), threading.Event()

    async def detail(request: Request) -> StreamingResponse:
        asked.set()

        async def dies() -> AsyncIterator[bytes]:
            await anyio.to_thread.run_sync(head.wait, 20)
            yield body[: head_length + 10]
            await anyio.to_thread.run_sync(tail.wait, 20)
            raise ConnectionResetError("the backend died mid-body")

        headers = {"content-length": str(len(body)), HEAD_LENGTH_HEADER: str(head_length)}
        return StreamingResponse(dies(), media_type="application/json", headers=headers)

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(2))
    workers = threading.Event()
    async with viewer_of(url) as (viewer, runner):
        states: list[RunState] = []
        loader = RunLoader("run_dies", viewer, runner, states.append)
        loader.refresh()  # the download takes the first worker
        await until(asked.is_set, "the body asked for")
        busy = [loop.run_in_executor(None, workers.wait, 20) for _ in range(2)]  # second, queued
        head.set()
        await until(lambda: loader._preview_done is not None, "the head arrived")
        tail.set()
        await until(lambda: loader.state.error, "the failure said")
        workers.set()
        await asyncio.gather(*busy)
        await runner.idle()
        assert loader.state.detail is None and not loader.state.partial
        assert loader.state.error and all(s.detail is None for s in states)


@pytest.mark.parametrize("length_said", [True, False])
async def test_the_download_note_of_a_first_load_is_thinned(serve_app, length_said: bool) -> None:
    """A big first load says how much has arrived at most every 0.1 s (on the loader's
    clock, frozen here: once), then once when all of it is in; a body whose length is not
    said (chunked) is noted without a total until then."""
    import json

    body = json.dumps(slow_detail("chunked run", "span_0")).encode() + b" " * (5 << 20)
    step = len(body) // 6 + 1

    async def detail(request: Request) -> StreamingResponse:
        async def trickle() -> AsyncIterator[bytes]:
            for start in range(0, len(body), step):
                yield body[start : start + step]
                await asyncio.sleep(0.02)

        headers = {"content-length": str(len(body))} if length_said else {}
        return StreamingResponse(trickle(), media_type="application/json", headers=headers)

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    async with viewer_of(url) as (viewer, runner):
        states: list[RunState] = []
        loader = RunLoader("run_slow", viewer, runner, states.append, clock=Clock())
        loader.refresh()
        await runner.idle()
        assert loader.state.detail is not None and not loader.state.error
        notes: list[run_loader.Download] = []
        for state in states:  # each note once (a later state carries it on)
            if state.download is not None and (not notes or state.download is not notes[-1]):
                notes.append(state.download)
        total = len(body) if length_said else None
        assert [(n.total, n.done) for n in notes] == [(total, False), (len(body), True)]


def _busy_once_then_from(backend: EmbeddedBackend):
    """An endpoint that answers 503 the first time, then what ``backend`` answers at the
    same path and query."""
    answers = {"n": 0}

    async def endpoint(request: Request) -> JSONResponse:
        answers["n"] += 1
        if answers["n"] == 1:
            return JSONResponse({"error": "busy"}, status_code=503)
        async with httpx.AsyncClient(timeout=30) as client:
            got = await client.get(f"{backend.url}{request.url.path}", params=request.query_params)
        return JSONResponse(got.json())

    return endpoint


async def test_a_run_load_that_succeeds_clears_the_last_error(
    backend: EmbeddedBackend, serve_app
) -> None:
    """The error of a failed load is said until a load succeeds, then cleared."""
    await post_records(backend.url, simple_run("run_a", "a"))
    busy_once = _busy_once_then_from(backend)
    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", busy_once)]))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_a", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        assert loader.state.error and loader.state.detail is None
        loader.refresh()
        await runner.idle()
        assert loader.state.detail is not None and loader.state.error == ""


async def test_apply_shows_a_detail_unless_a_newer_request_was_applied(
    backend: EmbeddedBackend,
) -> None:
    """``apply`` (what the run screen calls too) shows a RunDetail, its index and model made
    when not given, unless the answer of a newer request is shown: the same request again
    is not older."""
    await post_records(backend.url, simple_run("run_a", "a"))
    async with viewer_of(backend.url) as (viewer, runner):
        detail = await viewer.client.run_detail("run_a")
        loader = RunLoader("run_a", viewer, runner, lambda state: None)
        assert loader.apply(detail, 2, ["run.costUsd"])
        assert loader.state.detail is detail and loader.state.model is not None
        assert loader.state.problems == ("run.costUsd",)  # what could not be parsed
        subject = loader.state.subjects["run_a_gen"]  # by span id, as by node id
        assert subject.spanId == "run_a_gen" and subject is loader.state.subjects[subject.id]
        again = await viewer.client.run_detail("run_a")
        assert loader.apply(again, 2) and loader.state.detail is again
        assert loader.state.problems == ()
        assert not loader.apply(detail, 1) and loader.state.detail is again
        assert loader.applied == 2
        await runner.idle()


async def test_a_delta_that_does_not_fit_what_is_shown_is_read_again_whole(
    pinned_backend: EmbeddedBackend, serve_app
) -> None:
    """When the changes the backend sends do not fit the RunDetail shown (here: the first
    body lost a node on its way), the loader asks for the whole RunDetail and shows it."""
    from crux_tui.contract.delta import DELTA_BASE_HEADER, DETAIL_TAG_HEADER
    from tests.backend.test_detail_delta import pinned_run

    records = pinned_run(40, "run_misfit")
    await post_records(pinned_backend.url, records[:30])
    answers: list[str] = []

    async def detail(request: Request) -> JSONResponse:
        async with httpx.AsyncClient(timeout=30) as client:
            got = await client.get(
                f"{pinned_backend.url}{API}/runs/run_misfit", params=request.query_params
            )
        body = got.json()
        is_delta = DELTA_BASE_HEADER in got.headers
        answers.append("delta" if is_delta else "whole")
        if len(answers) == 1:
            body["root"]["children"].pop()  # the first body loses its last subtree
        headers = {
            name: got.headers[name]
            for name in (DETAIL_TAG_HEADER, DELTA_BASE_HEADER)
            if name in got.headers
        }
        return JSONResponse(body, headers=headers)

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_misfit", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        assert loader.state.detail is not None
        await post_records(pinned_backend.url, records[30:-2])  # still running
        loader.refresh()
        await runner.idle()
        assert answers == ["whole", "delta", "whole"]
        whole = await viewer.client.run_detail("run_misfit")  # as the backend has it
        assert loader.state.detail == whole and not loader.state.error


async def test_symptoms_found_by_the_run_loader_count_from_when_it_read_them(
    backend: EmbeddedBackend,
) -> None:
    """The symptoms a run view finds go to the shared book stamped with the loader's clock:
    a running operation counts as current (the runs list does not read it again) for
    a while after that, whatever revision the list shows."""
    await post_records(backend.url, simple_run("run_live", "live", status="running"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunLoader("run_live", viewer, runner, lambda state: None, clock=clock)
        loader.refresh()
        await runner.idle()
        detail = loader.state.detail
        assert detail is not None and loader.state.symptoms == ()
        book, newer = viewer.symptom_book, detail.run.revision + 1
        assert book.count("run_live") == 0
        assert book.is_current("run_live", newer, clock.now + 9.0, every=10.0)
        assert not book.is_current("run_live", newer, clock.now + 10.0, every=10.0)


async def test_the_first_load_says_what_it_waits_for(serve_app) -> None:
    import json

    body = json.dumps(slow_detail("trickled run", "span_0")).encode() + b" " * (5 << 20)
    step = len(body) // 6 + 1
    gate = threading.Event()

    async def detail(request: Request) -> StreamingResponse:
        await anyio.to_thread.run_sync(gate.wait, 20)  # the backend is projecting

        async def trickle() -> AsyncIterator[bytes]:
            for start in range(0, len(body), step):
                yield body[start : start + step]
                await asyncio.sleep(0.05)

        headers = {"content-length": str(len(body))}
        return StreamingResponse(trickle(), media_type="application/json", headers=headers)

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    clock = Clock()
    async with viewer_of(url) as (viewer, runner):
        states: list[RunState] = []
        loader = RunLoader("run_slow", viewer, runner, states.append, clock=clock)
        loader.refresh()
        await until(lambda: loader._fetch_started == clock.now, "the fetch started")
        clock.now += 0.3
        loader.tick(streaming=True)
        assert loader.state.waited is None  # not worth saying yet
        clock.now += 1.8
        loader.tick(streaming=True)
        assert loader.state.waited == 2
        gate.set()
        await runner.idle()
        downloads = [s.download for s in states if s.download is not None]
        assert downloads and downloads[-1].done and downloads[-1].total == len(body)
        assert loader.state.detail is not None and loader.state.detail.run.name == "trickled run"


async def test_the_waiting_note_ends_with_the_load_that_waited(serve_app) -> None:
    """A first load says how long it has waited for the backend; a load that fails drops
    the note, and a later load does not carry on the note of the one before."""
    held = [threading.Event(), threading.Event(), threading.Event()]
    held[2].set()  # the refetch is answered at once
    statuses = [503, 200, 200]
    asked: list[int] = []

    async def detail(request: Request) -> JSONResponse:
        n = len(asked)
        asked.append(n)
        await anyio.to_thread.run_sync(held[n].wait, 20)
        if statuses[n] != 200:
            return JSONResponse({"error": "busy"}, status_code=statuses[n])
        return JSONResponse(slow_detail("waited run", "span_0"))

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    clock = Clock()
    async with viewer_of(url) as (viewer, runner):

        async def load_that_waits(n: int) -> RunLoader:
            loader = RunLoader("run_slow", viewer, runner, lambda state: None, clock=clock)
            loader.refresh()
            await until(lambda: len(asked) > n, "the load asked")
            clock.now += 2.0
            loader.tick(streaming=True)
            assert loader.state.waited == 2
            held[n].set()
            await runner.idle()
            return loader

        failed = await load_that_waits(0)
        assert failed.state.error and failed.state.waited is None  # said, no longer waiting
        loaded = await load_that_waits(1)
        assert loaded.state.detail is not None and not loaded.state.error
        loaded.refresh()
        await runner.idle()
        assert len(asked) == 3 and loaded.state.waited is None


async def test_the_fields_a_load_could_not_parse_are_said(
    backend: EmbeddedBackend, serve_app
) -> None:
    """A RunDetail with a field that could not be parsed is shown, and the field is named
    in the state (the view says how many); an answer without one clears them."""
    await post_records(backend.url, simple_run("run_odd", "odd"))
    answers: list[int] = []

    async def detail(request: Request) -> JSONResponse:
        async with httpx.AsyncClient(timeout=30) as client:
            got = await client.get(f"{backend.url}{request.url.path}")
        body = got.json()
        answers.append(1)
        if len(answers) == 1:
            body["run"]["spanCount"] = "many"
        return JSONResponse(body)

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_odd", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        assert loader.state.detail is not None and loader.state.detail.run.runId == "run_odd"
        assert loader.state.problems == ("run.spanCount",)
        loader.refresh()
        await runner.idle()
        assert loader.state.problems == () and len(answers) == 2


# ---------------------------------------------------------------------------- RunsLoader


def runs_loader_for(
    viewer: Viewer, runner: TaskRunner, shown: list[bool], **kwargs: Any
) -> tuple[RunsLoader, list[RunsState]]:
    states: list[RunsState] = []
    loader: RunsLoader

    def visible() -> list[RunSummary]:
        return loader.state.runs

    loader = RunsLoader(
        viewer, runner, states.append, visible=visible, shown=lambda: shown[0], **kwargs
    )
    return loader, states


async def test_the_list_is_read_and_paged(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_loader, "PAGE_SIZE", 4)
    for index in range(10):
        status = "error" if index == 3 else "ok"
        records = simple_run(
            f"run_{index:02d}", f"run {index}", status=status, started=ago(99 - index)
        )
        await post_records(backend.url, records)
    async with viewer_of(backend.url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [True])
        loader.refresh()
        await runner.idle()
        state = loader.state
        assert len(state.runs) == 4 and state.next_cursor and state.loaded_once
        assert viewer.revisions == [state.revision] and viewer.reachable == [True]
        loader.fill(1)  # a text filter keeps 1 of them: page on
        await runner.idle()
        assert len(loader.state.runs) == 8
        loader.load_next_page()
        await runner.idle()
        assert len(loader.state.runs) == 10 and loader.state.next_cursor is None
        loader.refresh()  # a refresh reads as many rows as are loaded
        await runner.idle()
        assert len(loader.state.runs) == 10
        loader.set_status("error")
        assert loader.state.runs == [] and not loader.state.loaded_once
        await runner.idle()
        assert [run.runId for run in loader.state.runs] == ["run_03"]


def proxied_page(backend_url: str, hold: Callable[[Request], threading.Event | None]) -> Starlette:
    """The real backend's runs pages, each held until ``hold(request)`` is set (when it
    names an event)."""

    async def page(request: Request) -> JSONResponse:
        gate = hold(request)
        if gate is not None:
            await anyio.to_thread.run_sync(gate.wait, 20)
        async with httpx.AsyncClient() as client:
            got = await client.get(f"{backend_url}{API}/runs/page", params=request.query_params)
        return JSONResponse(got.json(), status_code=got.status_code)

    return Starlette(routes=[Route(f"{API}/runs/page", page)])


@pytest.mark.parametrize("page_first", [True, False])
async def test_a_page_asked_before_a_status_filter_change_is_dropped(
    backend: EmbeddedBackend, serve_app, monkeypatch: pytest.MonkeyPatch, page_first: bool
) -> None:
    """A status filter starts the list again: the next page of the unfiltered list, still
    on its way when the filter changed, is never added to the filtered one, whether it
    arrives before or after the filtered list's first page."""
    monkeypatch.setattr(runs_loader, "PAGE_SIZE", 4)
    for index in range(8):
        status = "error" if index == 3 else "ok"
        await post_records(
            backend.url,
            simple_run(f"run_{index:02d}", f"run {index}", status=status, started=ago(99 - index)),
        )
    next_page, filtered, page_asked = threading.Event(), threading.Event(), threading.Event()

    def hold(request: Request) -> threading.Event | None:
        if "cursor" in request.query_params:
            page_asked.set()
            return next_page
        return filtered if request.query_params.get("status") else None

    url = serve_app(proxied_page(backend.url, hold))
    pages: list[asyncio.Task[None]] = []

    class Runner(TaskRunner):
        def spawn(self, job: Any, work: Any) -> asyncio.Task[None]:
            task = super().spawn(job, work)
            if job is runs_loader.PAGE:
                pages.append(task)
            return task

    async with viewer_of(url) as (viewer, _):
        runner = Runner()
        try:
            loader, _ = runs_loader_for(viewer, runner, [True])
            loader.refresh()
            await runner.idle()
            assert len(loader.state.runs) == 4 and loader.state.next_cursor
            loader.load_next_page()  # held at the backend
            await until(page_asked.is_set, "the next page asked for")
            loader.set_status("error")  # its first page held too
            if page_first:
                next_page.set()
                await pages[0]
                assert loader.state.runs == [] and loader.state.status == "error"
                filtered.set()
            else:
                filtered.set()
                await until(lambda: loader.state.loaded_once, "the filtered first page")
                next_page.set()
                await pages[0]
            await runner.idle()
            assert [run.runId for run in loader.state.runs] == ["run_03"]
        finally:
            await runner.aclose()
        assert not runner.errors


async def test_a_filtered_list_pages_with_its_filter(
    backend: EmbeddedBackend, serve_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next pages of a list filtered by status are filtered too; a text filter that
    keeps fewer than half a page of rows pages on (half a page or more: it does not); a
    page asked again while one is on its way is not asked twice."""
    monkeypatch.setattr(runs_loader, "PAGE_SIZE", 4)
    for index in range(9):
        status = "error" if index % 3 == 0 else "ok"
        await post_records(
            backend.url,
            simple_run(f"run_{index:02d}", f"run {index}", status=status, started=ago(99 - index)),
        )
    next_page = threading.Event()
    pages_asked: list[str] = []

    def hold(request: Request) -> threading.Event | None:
        if "cursor" in request.query_params:
            pages_asked.append(request.query_params["cursor"])
            return next_page
        return None

    url = serve_app(proxied_page(backend.url, hold))
    async with viewer_of(url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [True])
        loader.set_status("ok")
        await runner.idle()
        assert len(loader.state.runs) == 4 and loader.state.next_cursor
        loader.fill(2)  # half a page matches: enough
        await runner.idle()
        assert pages_asked == []
        loader.fill(1)  # fewer: page on
        await until(lambda: pages_asked, "the next page asked for")
        loader.load_next_page()  # asked again while it is on its way: nothing more
        await asyncio.sleep(0.1)
        next_page.set()
        await runner.idle()
        assert len(pages_asked) == 1
        statuses = {run.runId: run.status for run in loader.state.runs}
        assert len(statuses) == 6 and set(statuses.values()) == {"ok"}


async def test_forgotten_operations_leave_the_list(backend: EmbeddedBackend) -> None:
    """Deleted operations' rows go (and their member runs from the directory)."""
    for run_id in ("run_a", "run_b"):
        await post_records(backend.url, simple_run(run_id, run_id))
    async with viewer_of(backend.url) as (viewer, runner):
        loader, states = runs_loader_for(viewer, runner, [True])
        loader.refresh()
        await runner.idle()
        viewer.directory.note_runs([RunSummary(runId="run_a_child", operationId="run_a")])
        loader.forget(["run_a"])
        assert [run.runId for run in loader.state.runs] == ["run_b"]
        assert states[-1] is loader.state
        assert viewer.directory.operation_of("run_a_child") == "run_a_child"


async def test_the_symptom_pass_reads_on_past_a_run_it_cannot_read(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run deleted between the list read and the symptom pass is skipped: the pass reads
    the rows after it all the same."""
    monkeypatch.setattr(runs_loader, "SYMPTOM_PASS_DELAY", 0.0)
    for index in range(3):
        await post_records(
            backend.url, simple_run(f"run_{index}", f"run {index}", started=ago(30 - index))
        )
    async with viewer_of(backend.url) as (viewer, runner):
        shown = [False]
        loader, _ = runs_loader_for(viewer, runner, shown)
        loader.refresh()
        await runner.idle()
        await asyncio.sleep(0.05)  # the pass's timer fired: covered, it read nothing
        rows = [run.runId for run in loader.state.runs]
        assert len(rows) == 3
        await viewer.client.delete_run(rows[0])
        shown[0] = True
        loader.resume()
        await until(lambda: not runner.busy and not loader.symptoms_to_find()[1:], "the pass")
        await runner.idle()
        book = viewer.symptom_book
        assert book.count(rows[0]) is None
        assert [book.count(run) for run in rows[1:]] == [0, 0]


async def test_the_symptom_pass_reads_runs_of_up_to_its_span_limit(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_records(backend.url, simple_run("run_a", "a"))
    async with viewer_of(backend.url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [False])
        loader.refresh()
        await runner.idle()
        (row,) = loader.state.runs
        monkeypatch.setattr(runs_loader, "SYMPTOM_SPAN_LIMIT", row.spanCount)
        assert [run.runId for run in loader.symptoms_to_find()] == ["run_a"]
        monkeypatch.setattr(runs_loader, "SYMPTOM_SPAN_LIMIT", row.spanCount - 1)
        assert loader.symptoms_to_find() == []


async def test_list_polling_scales_with_the_poll_interval_and_resumes_when_shown(
    backend: EmbeddedBackend,
) -> None:
    """Without a stream a list with a running row is read every poll interval (1 s, shorter
    in tests); covered, it is not polled, and it is read once shown again."""
    await post_records(backend.url, simple_run("run_a", "a", status="running"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        viewer.poll_interval = 0.1
        shown = [True]
        loader, _ = runs_loader_for(viewer, runner, shown, clock=clock)
        loader.tick(streaming=False)  # the first poll
        assert loader.busy
        await runner.idle()
        clock.now += 0.1
        loader.tick(streaming=False)
        assert loader.busy
        await runner.idle()
        shown[0] = False
        clock.now += 1.0
        loader.tick(streaming=False)  # covered: not polled, read once shown
        assert not loader.busy
        shown[0] = True
        loader.resume()
        assert loader.busy
        await runner.idle()


async def test_a_list_read_that_succeeds_clears_the_last_error(
    backend: EmbeddedBackend, serve_app
) -> None:
    """The error of a failed list read is said until a read succeeds, then cleared."""
    await post_records(backend.url, simple_run("run_a", "a"))
    url = serve_app(Starlette(routes=[Route(f"{API}/runs/page", _busy_once_then_from(backend))]))
    async with viewer_of(url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [True])
        loader.refresh()
        await runner.idle()
        assert loader.state.error and loader.state.error_reachable and not loader.state.runs
        loader.refresh()
        await runner.idle()
        assert [run.runId for run in loader.state.runs] == ["run_a"]
        assert loader.state.error == ""


async def test_list_polling_asks_again_once_a_whole_interval_has_passed(
    backend: EmbeddedBackend,
) -> None:
    """Without a stream a list with a running row is polled again when the interval since
    the last poll has passed: exactly one interval later, not a moment after."""
    await post_records(backend.url, simple_run("run_a", "a", status="running"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [True], clock=clock)
        loader.tick(streaming=False)  # the first poll
        assert loader.busy
        await runner.idle()
        clock.now += 0.5
        loader.tick(streaming=False)
        assert not loader.busy  # half an interval: not yet
        clock.now += 0.5
        loader.tick(streaming=False)
        assert loader.busy  # a whole one (1 s: a running row)
        await runner.idle()


async def test_a_list_covered_while_nothing_changed_is_not_read_again_when_shown(
    backend: EmbeddedBackend,
) -> None:
    await post_records(backend.url, simple_run("run_a", "a"))
    async with viewer_of(backend.url) as (viewer, runner):
        shown = [True]
        loader, _ = runs_loader_for(viewer, runner, shown)
        loader.refresh()
        await runner.idle()
        shown[0] = False
        loader.suspend()
        shown[0] = True
        loader.resume()
        assert not loader.busy


async def test_a_covered_list_does_not_poll_and_reads_when_shown(backend: EmbeddedBackend) -> None:
    await post_records(backend.url, simple_run("run_a", "a", status="running"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        shown = [True]
        loader, _ = runs_loader_for(viewer, runner, shown, clock=clock)
        loader.refresh()
        await runner.idle()
        clock.now += 1.0
        loader.tick(streaming=False)
        assert loader.busy  # no stream and a running row: every second
        await runner.idle()
        shown[0] = False
        clock.now += 5.0
        loader.tick(streaming=False)
        loader.on_event(event({"id": "e", "timestamp": 1, "kind": "observability.records"}))
        assert not loader.busy
        shown[0] = True
        loader.resume()
        assert loader.busy  # what changed meanwhile is read once shown
        await runner.idle()


async def test_the_symptom_pass_is_bounded_and_waits_for_the_list_to_be_shown(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_loader, "SYMPTOM_PASS_DELAY", 0.0)
    monkeypatch.setattr(runs_loader, "SYMPTOM_PASS_ROWS", 3)
    await load_demo(backend)
    async with viewer_of(backend.url) as (viewer, runner):
        shown = [False]
        loader, states = runs_loader_for(viewer, runner, shown)
        loader.refresh()
        await runner.idle()
        await asyncio.sleep(0.05)  # the pass's timer fired: covered, it read nothing
        book = viewer.symptom_book
        rows = loader.state.runs
        assert all(book.count(run.runId) is None for run in rows)
        todo = loader.symptoms_to_find()
        assert 0 < len(todo) <= 3
        shown[0] = True
        loader.resume()
        await until(lambda: not loader.symptoms_to_find(), "the pass over the first rows")
        await runner.idle()
        marked = {run.runId for run in rows if book.count(run.runId) is not None}
        assert marked == {run.runId for run in todo}
        assert states[-1].marks > states[0].marks


async def test_a_backend_that_is_not_crux_is_said_once(serve_app) -> None:
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("<html>hello</html>", media_type="text/html")

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/page", page)]))
    async with viewer_of(url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [True])
        loader.refresh()
        await runner.idle()
        assert "not a Crux devtools backend" in loader.state.error
        assert loader.state.error_reachable and viewer.reachable == []
    url = serve_app(Starlette(routes=[Route(f"{API}/runs/page", slow_page)]))
    async with viewer_of(url) as (viewer, runner):
        loader, _ = runs_loader_for(viewer, runner, [True])
        loader.refresh()
        await runner.idle()
        assert [run.runId for run in loader.state.runs] == ["run_slow"]
        assert not loader.state.error


@pytest.mark.parametrize("off_thread", [False, True])
async def test_a_running_run_is_refetched_as_a_delta_equal_to_the_whole_body(
    pinned_backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch, off_thread: bool
) -> None:
    """(A delta to a run of many spans is applied in a thread.)"""
    if off_thread:
        monkeypatch.setattr(run_loader, "INDEX_OFF_THREAD_SPANS", 0)
    from crux_tui.contract.delta import node_index
    from tests.backend.test_detail_delta import pinned_run

    records = pinned_run(80, "run_loader_delta")
    await post_records(pinned_backend.url, records[:60])
    async with viewer_of(pinned_backend.url) as (viewer, runner):
        loader = RunLoader("run_loader_delta", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        before = loader.state.detail
        assert before is not None and before.run.status == "running"
        await post_records(pinned_backend.url, records[60:-2])  # still running
        loader.refresh()
        await runner.idle()
        after = loader.state.detail
        assert after is not None and after is not before
        assert after == await viewer.client.run_detail("run_loader_delta")
        # merged: what did not change is the object shown before, not decoded again
        olds = node_index(before.root)
        assert any(node is olds.get(node_id) for node_id, node in node_index(after.root).items())
        assert len(node_index(after.root)) > len(olds)
