"""Rules of the run and runs loaders, without an app: plain asyncio against the real embedded
backend over HTTP on 127.0.0.1 (or a small server that holds an answer back). The session is
the real client, run directory and symptom book; what the app would show of reachability is
recorded. Clocks are injected where a rule counts seconds (helpers: ``loader_kit``)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import anyio
import pytest
from records import RunBuilder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.models import ObservabilityEvent, RunSummary
from crux_tui.live import run_loader, runs_loader
from crux_tui.live.run_loader import RunLoader
from crux_tui.live.runs_loader import RunsLoader
from crux_tui.live.session import TaskRunner
from crux_tui.timeline import build_model
from tests.app.helpers import RunRecords, post_records, simple_run
from tests.live.loader_kit import Clock, Viewer, body_app, padded_body, until, viewer_of
from tests.reliability.test_faults import slow_detail

API = "/api/observability"


def runs_loader_for(viewer: Viewer, runner: TaskRunner, **kwargs: Any) -> RunsLoader:
    loader: RunsLoader

    def visible() -> list[RunSummary]:
        return loader.state.runs

    loader = RunsLoader(
        viewer, runner, lambda state: None, visible=visible, shown=lambda: True, **kwargs
    )
    return loader


# ---------------------------------------------------------------------------- RunLoader


async def test_a_first_load_says_it_waits_from_half_a_second_on(serve_app) -> None:
    gate = threading.Event()

    async def detail(request: Request) -> JSONResponse:
        await anyio.to_thread.run_sync(gate.wait, 20)  # the backend is projecting
        return JSONResponse(slow_detail("held run", "span_0"))

    url = serve_app(Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)]))
    clock = Clock()
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_slow", viewer, runner, lambda state: None, clock=clock)
        loader.refresh()
        start = clock.now
        try:
            await until(lambda: loader._fetch_started == start, "the fetch started")
            clock.now = start + 0.25
            loader.tick(streaming=True)
            assert loader.state.waited is None  # a quarter second: not said
            clock.now = start + 0.5
            loader.tick(streaming=True)
            assert loader.state.waited == 0  # half a second: said (rounded)
            clock.now = start + 1.0
            loader.tick(streaming=True)
            assert loader.state.waited == 1
        finally:
            gate.set()
        await runner.idle()
        assert loader.state.detail is not None


async def test_a_settled_operation_is_read_again_by_the_symptom_pass_once_its_revision_moved(
    backend: EmbeddedBackend,
) -> None:
    """The symptoms a run view finds of a settled operation are current for its revision
    only: however recent, a newer revision is read again (only a running one is spared)."""
    await post_records(backend.url, simple_run("run_done", "done"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunLoader("run_done", viewer, runner, lambda state: None, clock=clock)
        loader.refresh()
        await runner.idle()
        detail = loader.state.detail
        assert detail is not None and run_loader.is_settled_operation(detail)
        book, revision = viewer.symptom_book, detail.run.revision
        assert book.count("run_done") == 0
        assert book.is_current("run_done", revision, clock.now + 1.0, every=10.0)
        assert not book.is_current("run_done", revision + 1, clock.now + 1.0, every=10.0)


async def test_a_big_runs_index_and_model_are_built_off_the_event_loop(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A RunDetail with more spans than ``INDEX_OFF_THREAD_SPANS`` is indexed and modelled
    in a worker thread: the event loop (the UI) is not held while that runs."""
    monkeypatch.setattr(run_loader, "INDEX_OFF_THREAD_SPANS", 0)  # every run counts as big
    built_in: list[int] = []

    def recording_build_model(*args: Any, **kwargs: Any) -> Any:
        built_in.append(threading.get_ident())
        return build_model(*args, **kwargs)

    monkeypatch.setattr(run_loader, "build_model", recording_build_model)
    await post_records(backend.url, simple_run("run_big", "big"))
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunLoader("run_big", viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        assert loader.state.detail is not None and loader.state.model is not None
        assert built_in and threading.get_ident() not in built_in


async def test_a_run_loader_that_has_not_asked_yet_says_it_waits_for_nothing() -> None:
    """The waiting note belongs to a first load on its way: before the loader asks, however
    late the clock, nothing is said to be waited for."""
    clock = Clock()
    async with viewer_of("http://127.0.0.1:9") as (viewer, runner):
        loader = RunLoader("run_x", viewer, runner, lambda state: None, clock=clock)
        clock.now += 2.0
        loader.tick(streaming=True)
        assert not loader.busy and loader.state.waited is None


async def test_a_preview_still_painting_holds_the_whole_body_no_longer_than_preview_wait(
    serve_app, backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole body waits for its preview at most ``PREVIEW_WAIT``: a view whose paint of
    the preview outlasts that (it cannot be cut short) gets the whole body shown anyway."""
    monkeypatch.setattr(run_loader, "PREVIEW_WAIT", 0.05)
    body, head_length = await padded_body(backend.url, "run_stuck", "stuck paint")

    painting, painted = asyncio.Event(), asyncio.Event()

    async def stubborn_paint() -> None:
        painting.set()
        while not painted.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await painted.wait()

    url = serve_app(body_app(body, head_length))
    async with viewer_of(url) as (viewer, runner):
        loader = RunLoader("run_stuck", viewer, runner, lambda state: None, painted=stubborn_paint)
        loader.refresh()
        try:
            await until(painting.is_set, "the preview painting", timeout=5)
            await until(
                lambda: not loader.state.partial or loader.state.error, "the whole body shown"
            )
            assert not loader.state.error, loader.state.error
            assert loader.state.detail is not None and loader.state.detail.run.runId == "run_stuck"
        finally:
            painted.set()
        await runner.idle()


async def test_an_event_naming_the_id_a_run_was_opened_by_concerns_it(
    backend: EmbeddedBackend,
) -> None:
    """The id a run view was opened by is the operation's own even when its RunDetail does
    not carry it: here the trace of a member run only, which the backend resolves to the
    operation. An event naming that trace makes the view read the run again."""
    root = RunBuilder("run_root", schema_version=5, trace_id="a" * 32)
    child = RunBuilder("run_child", schema_version=5, operation_id="run_root", trace_id="b" * 32)
    await post_records(backend.url, [root.run_start("root"), root.run_end()])
    await post_records(
        backend.url, [child.run_start("child", parentRunId="run_root"), child.run_end()]
    )
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunLoader("b" * 32, viewer, runner, lambda state: None)
        loader.refresh()
        await runner.idle()
        detail = loader.state.detail
        assert detail is not None and detail.run.runId == "run_root"
        assert "b" * 32 not in {detail.run.traceId, *(m.run.runId for m in detail.memberRuns or [])}
        loader.on_event(ObservabilityEvent(id="e1", kind="observability.records", refId="b" * 32))
        assert loader.busy
        await runner.idle()


# ---------------------------------------------------------------------------- RunsLoader


async def test_a_list_that_cannot_connect_tells_the_session_why() -> None:
    async with viewer_of("http://127.0.0.1:9") as (viewer, runner):
        loader = runs_loader_for(viewer, runner)
        loader.refresh()
        await runner.idle()
        assert loader.state.error.startswith("cannot reach http://127.0.0.1:9")
        assert not loader.state.error_reachable
        assert viewer.offline == [loader.state.error]


async def test_a_list_of_settled_rows_is_polled_every_five_intervals(
    backend: EmbeddedBackend,
) -> None:
    """Without a stream a list whose rows all settled is polled every 5 s (not every 1 s as
    while a row runs)."""
    await post_records(backend.url, simple_run("run_a", "a"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        loader = runs_loader_for(viewer, runner, clock=clock)
        loader.tick(streaming=False)  # the first poll
        assert loader.busy
        await runner.idle()
        assert [run.status for run in loader.state.runs] == ["ok"]
        clock.now += 1.0
        loader.tick(streaming=False)
        assert not loader.busy  # a running list would be read again now
        clock.now += 3.0
        loader.tick(streaming=False)
        assert not loader.busy
        clock.now += 1.0
        loader.tick(streaming=False)
        assert loader.busy  # five seconds since the last poll
        await runner.idle()


async def test_a_list_not_read_yet_is_polled_one_interval_after_its_clock_starts(
    backend: EmbeddedBackend,
) -> None:
    """Polling intervals of a list never polled count from the clock's zero: with a clock
    that starts at 0 the first poll comes one interval (1 s: nothing loaded yet) in."""
    clock = Clock()
    clock.now = 0.0
    async with viewer_of(backend.url) as (viewer, runner):
        loader = runs_loader_for(viewer, runner, clock=clock)
        clock.now = 1.0
        loader.tick(streaming=False)
        assert loader.busy
        await runner.idle()
        assert loader.state.loaded_once


async def test_a_status_filter_change_drops_the_old_lists_next_page(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status filter starts the list again from nothing: the cursor of the unfiltered
    list goes with its rows (no "more rows" to load) until the filtered first page says."""
    monkeypatch.setattr(runs_loader, "PAGE_SIZE", 2)
    for index in range(3):
        await post_records(backend.url, simple_run(f"run_{index}", f"run {index}"))
    async with viewer_of(backend.url) as (viewer, runner):
        loader = runs_loader_for(viewer, runner)
        loader.refresh()
        await runner.idle()
        assert len(loader.state.runs) == 2 and loader.state.next_cursor
        loader.set_status("error")
        assert loader.state.runs == [] and loader.state.next_cursor is None
        await runner.idle()
        assert loader.state.loaded_once and loader.state.runs == []


async def test_a_list_is_read_again_on_records_lifecycle_and_resync_events_only(
    backend: EmbeddedBackend,
) -> None:
    """A records or lifecycle event, or one without a kind (a resync), may change the list:
    it is read again; an event of any other kind (a token chunk) leaves it be."""
    async with viewer_of(backend.url) as (viewer, runner):
        loader = runs_loader_for(viewer, runner)
        for kind in ("observability.records", "observability.lifecycle", ""):
            loader.on_event(ObservabilityEvent(kind=kind))
            assert loader.busy, kind
            await runner.idle()
        loader.on_event(ObservabilityEvent(kind="token.chunk"))
        assert not loader.busy


async def test_symptom_marks_only_count_up(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list's symptom marks go up with every change of symptom counts (the rows read,
    each run the pass analysed): a view never sees again a value it already painted."""
    monkeypatch.setattr(runs_loader, "SYMPTOM_PASS_DELAY", 0.0)
    await post_records(backend.url, simple_run("run_a", "a"))
    marks: list[int] = []
    async with viewer_of(backend.url) as (viewer, runner):
        loader = RunsLoader(
            viewer,
            runner,
            lambda state: marks.append(state.marks),
            visible=lambda: loader.state.runs,
            shown=lambda: True,
        )
        loader.refresh()
        await until(lambda: viewer.symptom_book.count("run_a") is not None, "the pass")
        await runner.idle()
    changes = [mark for before, mark in zip([0, *marks], marks, strict=False) if mark != before]
    assert changes == [1, 2]


async def test_the_symptom_pass_spares_a_running_operation_ten_seconds_but_no_settled_one(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the list's pass found of a running operation holds for SYMPTOM_RUNNING_EVERY
    seconds (of the loader's clock) though its revision moves; of a settled one (no child
    running) only for the revision it was read at."""
    monkeypatch.setattr(runs_loader, "SYMPTOM_PASS_DELAY", 0.0)
    live = RunRecords("run_live", name="live")
    await post_records(
        backend.url,
        [live.run_start(), live.span_start("run_live_agent", "agent.run", "live")],
    )
    await post_records(backend.url, simple_run("run_done", "done"))
    clock = Clock()
    async with viewer_of(backend.url) as (viewer, runner):
        loader = runs_loader_for(viewer, runner, clock=clock)
        loader.refresh()
        await until(lambda: not runner.busy and not loader.symptoms_to_find(), "the pass")
        await runner.idle()
        book = viewer.symptom_book
        done = next(run for run in loader.state.runs if run.runId == "run_done")
        assert book.count("run_done") is not None
        assert not book.is_current("run_done", done.revision + 1, clock.now, every=10.0)

        await post_records(
            backend.url,
            [live.span_start("run_live_tool", "tool.call", "search", parent="run_live_agent")],
        )
        loader.refresh()
        await runner.idle()
        assert runs_loader.SYMPTOM_RUNNING_EVERY == 10.0
        clock.now += 9.9
        assert loader.symptoms_to_find() == []  # its revision moved, read 9.9 s ago
        clock.now += 0.1
        assert [run.runId for run in loader.symptoms_to_find()] == ["run_live"]
