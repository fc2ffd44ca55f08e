"""Faults through the real app: backend down at start, killed mid-run, slow responses."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from crux_tui.app.main import make_app
from crux_tui.app.screens.help import HelpScreen
from crux_tui.app.screens.run import RunScreen
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.store import Store
from crux_tui.contract.client import MIN_HEAD_BODY_BYTES, CruxClient
from crux_tui.contract.models import RunDetail, RunDetailNode, RunSummary
from tests.app.helpers import RunRecords, ago, post_records, screen_text, simple_run, wait_for
from tests.app.test_run_screen import open_run

API = "/api/observability"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- (a) down at start


async def test_backend_appears_after_start_on_the_same_port() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(url, poll_interval=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.connection_state == "offline", what="offline")
        text = screen_text(app)
        assert f"Cannot reach {url}" in text and "crux-tui serve" in text
        assert app.is_running
        backend = EmbeddedBackend(port=port, keepalive=0.5).start()
        try:
            await post_records(url, simple_run("run_late", "late arrival"))
            await wait_for(pilot, lambda: "late arrival" in screen_text(app), what="run listed")
            await wait_for(pilot, lambda: app.connection_state == "live", what="live", timeout=20)
            assert "Cannot reach" not in screen_text(app)
        finally:
            backend.stop()


# ---------------------------------------------------------------------- (b) killed mid-run


class ServeProcess:
    """``python -m crux_tui serve --port P --db FILE`` as a real subprocess."""

    def __init__(self, port: int, db: Path) -> None:
        self.port, self.db = port, db
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServeProcess:
        cmd = [sys.executable, "-m", "crux_tui", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--db", str(self.db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {self.proc.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + f"{API}/runs/page", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("serve did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def factory(port: int, db: Path | None = None) -> ServeProcess:
        process = ServeProcess(port, db or tmp_path / "devtools.sqlite3").start()
        started.append(process)
        return process

    yield factory
    for process in started:
        process.kill()


async def test_server_killed_while_a_run_is_open_catches_up_after_restart(
    serve: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    port = free_port()
    db = tmp_path / "devtools.sqlite3"
    server = serve(port, db)
    r = RunRecords("run_crash", name="crash test", started=ago(10))
    agent = "run_crash_agent"
    await post_records(
        server.url,
        [r.run_start(), r.span_start(agent, "agent.run", "crash agent", started=ago(10))],
    )
    app = make_app(server.url, poll_interval=0.2)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(app, pilot, "run_crash")
        await wait_for(pilot, lambda: app.connection_state == "live", what="live")
        server.kill()
        await wait_for(
            pilot,
            lambda: app.connection_state in ("offline", "reconnecting"),
            what="offline indicator",
        )
        # changes made while the app cannot see the backend (another writer of the file)
        store = Store(db)
        try:
            result = store.ingest_batch(
                [
                    r.span_start(
                        "run_crash_tool", "tool.call", "while away", parent=agent, started=ago(3)
                    ),
                    r.span_end("run_crash_tool", "ok", ended=ago(2)),
                    r.span_end(agent, "ok", ended=ago(1)),
                    r.run_end("ok", ended=ago(1)),
                ]
            )
            assert all(d.outcome == "accepted" for d in result.dispositions)
        finally:
            store.close()
        await pilot.pause(0.5)
        assert app.screen is screen and screen.detail is not None  # the view stays
        assert "crash test" in screen_text(app)
        assert app.connection_state in ("offline", "reconnecting")
        serve(port, db)  # the same port and file
        await wait_for(pilot, lambda: "while away" in screen_text(app), what="catch-up", timeout=25)
        await wait_for(pilot, lambda: screen.detail.run.status == "ok", what="run ended")
        await wait_for(pilot, lambda: app.connection_state == "live", what="live again")
        assert {"run_crash_agent", "run_crash_tool"} <= set(screen.detail.spanIndex or {})


# ---------------------------------------------------------------------- (c) slow backend


def slow_detail(name: str, span: str) -> dict[str, Any]:
    run = RunSummary(runId="run_slow", name=name, status="ok", startedAt=ago(5))
    root = RunDetailNode(id=f"span:{span}", spanId=span, name=span, kind="agent")
    import msgspec

    return msgspec.to_builtins(RunDetail(run=run, root=root, rows=[]))


async def slow_page(request: Request) -> JSONResponse:
    """The runs list of the slow backends: one run, ``run_slow``."""
    run = {"runId": "run_slow", "name": "slow run", "status": "ok", "startedAt": ago(5)}
    return JSONResponse({"revision": 1, "rows": [run]})


async def open_slow_run(pilot: Any, app: Any) -> RunScreen:
    """Enter on ``run_slow`` in the runs list; the run screen (its detail may still load)."""
    await wait_for(pilot, lambda: "slow run" in screen_text(app), what="runs")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run screen")
    return app.screen


def slow_app(delays: list[float], names: list[str]) -> Starlette:
    """Answers RunDetail #i after ``delays[i]`` seconds with run name ``names[i]``."""
    calls = {"n": 0}

    async def detail(request: Request) -> JSONResponse:
        i = min(calls["n"], len(delays) - 1)
        calls["n"] += 1
        await asyncio.sleep(delays[i])
        return JSONResponse(slow_detail(names[i], f"span_{i}"))

    async def missing(request: Request) -> PlainTextResponse:
        return PlainTextResponse("not found", 404)

    app = Starlette(
        routes=[
            Route(f"{API}/runs/page", slow_page),
            Route(f"{API}/runs/delta", missing),
            Route(f"{API}/stream", missing),
            Route(f"{API}/runs/{{run_id}}", detail),
        ]
    )
    app.state.calls = calls
    return app


async def test_slow_run_detail_times_out_clearly_and_keys_keep_working(serve_app) -> None:
    url = serve_app(slow_app([6.0, 0.0], ["never shown", "fast second"]))
    client = CruxClient(url, timeout=httpx.Timeout(2.0, connect=2.0))
    app = make_app(url, client=client, poll_interval=100.0, start_feed=False)  # no polling
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_slow_run(pilot, app)
        # the fetch is pending: keys still work (handled before it times out)
        await pilot.press("p")
        assert not screen.detail_pane.display
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        assert screen.detail is None and not screen.error_message  # still pending
        await wait_for(pilot, lambda: "timed out" in screen.error_message, what="timeout")
        await wait_for(pilot, lambda: "timed out" in screen_text(app), what="message shown")
        assert app.screen is screen and app.is_running
        await pilot.press("r")  # retry: the backend answers quickly now
        await wait_for(pilot, lambda: screen.detail is not None, what="retry succeeds")
        assert screen.detail.run.name == "fast second" and not screen.error_message
    await client.aclose()


async def test_older_response_never_overwrites_newer(serve_app) -> None:
    url = serve_app(slow_app([1.0, 0.0, 0.0], ["first (slow)", "second", "third"]))
    app = make_app(url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_slow_run(pilot, app)
        await pilot.press("r")  # a newer request while the first one is in flight
        await wait_for(
            pilot,
            lambda: screen.detail is not None and screen.detail.run.name == "second",
            what="newest response",
        )
        newest = screen.detail
        # a late, older response (seq 1) is dropped
        old = RunDetail(run=RunSummary(runId="run_slow", name="stale"))
        assert screen.apply_detail(old, seq=1) is False
        assert screen.detail is newest
        await pilot.pause()
        assert "stale" not in screen_text(app)


async def test_polling_never_stacks_requests_behind_a_slow_answer(serve_app) -> None:
    backend = slow_app([2.0, 0.0], ["first (slow)", "polled"])
    url = serve_app(backend)
    # No stream: the run screen polls every 1 s while running, every 5 s once the run ended.
    app = make_app(url, poll_interval=1.0, start_feed=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_slow_run(pilot, app)
        await wait_for(pilot, lambda: screen.detail is not None, what="first answer")
        await asyncio.sleep(1.0)  # the next poll is due 5 s after the answer
        # Poll ticks passed during the slow answer; none of them queued a second request.
        assert backend.state.calls["n"] == 1


async def test_first_load_says_what_it_is_waiting_for(serve_app) -> None:
    import json

    from starlette.responses import StreamingResponse

    # Past the size where the screen bothers to report progress (JSON allows the padding).
    body = json.dumps(slow_detail("trickled run", "span_0")).encode() + b" " * (5 << 20)
    parts = [body[i : i + len(body) // 6 + 1] for i in range(0, len(body), len(body) // 6 + 1)]

    async def detail(request: Request) -> StreamingResponse:
        await asyncio.sleep(1.2)  # the backend is projecting: no byte yet

        async def trickle():
            for part in parts:
                yield part
                await asyncio.sleep(0.3)

        return StreamingResponse(
            trickle(), media_type="application/json", headers={"content-length": str(len(body))}
        )

    url = serve_app(
        Starlette(
            routes=[Route(f"{API}/runs/page", slow_page), Route(f"{API}/runs/{{run_id}}", detail)]
        )
    )
    app = make_app(url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_slow_run(pilot, app)
        await wait_for(
            pilot, lambda: "waiting for the backend" in screen_text(app), what="waiting note"
        )
        await wait_for(
            pilot,
            lambda: "receiving the run:" in screen_text(app) and " of " in screen_text(app),
            what="download progress",
        )
        await wait_for(pilot, lambda: screen.detail is not None, what="loaded")
        await wait_for(pilot, lambda: "receiving" not in screen_text(app), what="note cleared")
        assert screen.detail.run.name == "trickled run"


async def held_back_big_run(
    serve_app: Any, make_backend: Any, *, drop_first_tail: bool = False
) -> tuple[str, asyncio.Event]:
    """A backend serving the embedded backend's RunDetail of a 1k-span run with its tail
    held back until the returned event is set: ``(url, release)``. With
    ``drop_first_tail`` the first response dies instead of sending its tail."""
    from starlette.responses import StreamingResponse

    from crux_tui.demo import scaled_run_records
    from crux_tui.loading import batches

    records = scaled_run_records(1000)
    real = make_backend(lifecycle_interval=None)
    for chunk in batches(records):
        await post_records(real.url, chunk)
    got = httpx.get(f"{real.url}{API}/runs/{records[0]['runId']}", timeout=30)
    body, head_length = got.content, int(got.headers["x-crux-rundetail-head-length"])
    assert len(body) > MIN_HEAD_BODY_BYTES and head_length < len(body) // 4
    release = asyncio.Event()
    served = {"n": 0}

    async def page(request: Request) -> JSONResponse:
        return JSONResponse(httpx.get(f"{real.url}{API}/runs/page").json())

    async def detail(request: Request) -> StreamingResponse:
        served["n"] += 1
        dies = drop_first_tail and served["n"] == 1

        async def held_back():
            yield body[: head_length + 10]
            await release.wait()
            if dies:
                raise ConnectionResetError("the backend died mid-body")
            yield body[head_length + 10 :]

        headers = {
            "content-length": str(len(body)),
            "x-crux-rundetail-head-length": str(head_length),
        }
        return StreamingResponse(held_back(), media_type="application/json", headers=headers)

    url = serve_app(
        Starlette(routes=[Route(f"{API}/runs/page", page), Route(f"{API}/runs/{{run_id}}", detail)])
    )
    return url, release


async def open_held_back_run(app: Any, pilot: Any) -> RunScreen:
    """Enter on the big run; the run screen once its rows are painted (the preview)."""
    await wait_for(pilot, lambda: "1,000 spans" in screen_text(app), what="runs")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.partial and screen.row_count > 1, what="rows painted")
    return screen


async def test_big_run_paints_its_rows_before_the_rest_arrives(serve_app, make_backend) -> None:
    """The timeline shows the rows from the head, says the details are loading, refuses to
    export half a run, and becomes the whole run once the tail arrives."""
    url, release = await held_back_big_run(serve_app, make_backend)
    app = make_app(url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await open_held_back_run(app, pilot)
        await wait_for(pilot, lambda: "step-2" in screen_text(app), what="rows on screen")
        assert "loading span details" in screen_text(app)
        assert "loading attributes, events and artifacts" in screen.detail_pane.plain_text()
        preview_rows = screen.row_count
        assert screen.hidden_count == 0  # rows carry no folded details
        await pilot.press("x")
        await wait_for(
            pilot,
            lambda: any("still loading" in n.message for n in app._notifications),
            what="export refused",
        )
        assert not screen.export_path().exists()
        release.set()
        await wait_for(pilot, lambda: not screen.partial, what="whole run")
        await wait_for(pilot, lambda: screen.hidden_count > 0, what="folded spans known")
        assert screen.row_count == preview_rows  # the preview showed every node row
        assert "loading span details" not in screen_text(app)
        assert screen.detail.spanIndex and screen.detail.run.runId.startswith("run_scale")


async def test_the_whole_run_replaces_the_preview_keeping_cursor_expansion_and_toggles(
    serve_app, make_backend
) -> None:
    """What the user did on the rows of the preview survives the swap to the whole run:
    the row under the cursor, the expansion and the toggles. Both are shown from the
    timeline model the loader built with them (off the UI thread for a big run)."""
    url, release = await held_back_big_run(serve_app, make_backend)
    app = make_app(url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await open_held_back_run(app, pilot)
        view = screen.timeline
        assert view.model is screen.run_state.model is not None
        preview_model = view.model
        await pilot.press("down", "down", "down", "down", "down")
        cursor_key = view.selected_row.key
        await pilot.press("i", "c")
        options = view.options
        assert options.show_infrastructure and options.canonical_parents
        assert screen.partial and view.selected_row.key == cursor_key
        release.set()
        await wait_for(pilot, lambda: not screen.partial, what="whole run")
        await wait_for(
            pilot, lambda: view.model is not preview_model, what="the whole run laid out"
        )
        assert view.model is screen.run_state.model
        assert view.selected_row.key == cursor_key
        assert view.options == options


async def test_leaving_a_big_run_while_it_loads_loses_nothing(serve_app, make_backend) -> None:
    """Escape while only the rows are in; the rest arrives after the screen is gone: no
    error, the runs list works, and opening the run again shows all of it."""
    from crux_tui.app.screens.runs import RunsScreen

    url, release = await held_back_big_run(serve_app, make_backend)
    app = make_app(url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(140, 36)) as pilot:
        await open_held_back_run(app, pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="back")
        release.set()
        await pilot.pause(0.5)
        assert app.is_running and isinstance(app.screen, RunsScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run again")
        screen = app.screen
        await wait_for(
            pilot, lambda: screen.detail is not None and not screen.partial, what="whole run"
        )
        assert not any(n.severity == "error" for n in app._notifications)


async def test_a_big_run_whose_body_breaks_off_says_so_and_loads_on_retry(
    serve_app, make_backend
) -> None:
    """The rows are up, then the connection dies: the screen says the run could not be
    loaded (no endless 'loading'), keeps what it showed, and `r` loads the whole run."""
    url, release = await held_back_big_run(serve_app, make_backend, drop_first_tail=True)
    app = make_app(url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await open_held_back_run(app, pilot)
        release.set()
        await wait_for(pilot, lambda: bool(screen.error_message), what="error shown")
        text = screen_text(app)
        assert "loading span details" not in text and "step-2" in text
        assert "loading attributes" not in screen.detail_pane.plain_text()
        await pilot.press("r")
        await wait_for(pilot, lambda: not screen.partial, what="whole run on retry")
        assert not screen.error_message and screen.detail.spanIndex
