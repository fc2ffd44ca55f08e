"""What the loader tests share: a session without Textual, an injected clock, a wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crux_tui.contract.client import MIN_HEAD_BODY_BYTES, CruxClient
from crux_tui.contract.models import HEAD_LENGTH_HEADER
from crux_tui.live.directory import RunDirectory
from crux_tui.live.session import TaskRunner
from crux_tui.symptoms import SymptomBook
from tests.app.helpers import post_records, simple_run

API = "/api/observability"


@dataclass
class Viewer:
    """A :class:`~crux_tui.live.session.Session` without Textual."""

    url: str
    client: CruxClient
    directory: RunDirectory = field(default_factory=RunDirectory)
    symptom_book: SymptomBook = field(default_factory=SymptomBook)
    poll_interval: float = 1.0
    #: True per read that succeeded, False per read that could not connect
    reachable: list[bool] = field(default_factory=list)
    #: what each read that could not connect said
    offline: list[str] = field(default_factory=list)
    revisions: list[int] = field(default_factory=list)

    def mark_reachable(self) -> None:
        self.reachable.append(True)

    def mark_unreachable(self, message: str) -> None:
        assert message
        self.reachable.append(False)
        self.offline.append(message)

    def note_revision(self, revision: int) -> None:
        self.revisions.append(revision)


class Clock:
    """A clock the test moves by hand (``clock.now = ...``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
    """Until ``predicate()`` holds; fails naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def viewer_of(url: str) -> AsyncIterator[tuple[Viewer, TaskRunner]]:
    """A viewer of the backend at ``url`` and the runner of its loaders' work; on the way out
    the runner must hold no error."""
    client = CruxClient(url)
    runner = TaskRunner()
    try:
        yield Viewer(url, client), runner
    finally:
        await runner.aclose()
        await client.aclose()
    assert not runner.errors, runner.errors


async def padded_body(backend_url: str, run_id: str, name: str) -> tuple[bytes, int]:
    """A small real run's RunDetail as the embedded backend serves it, padded past
    ``MIN_HEAD_BODY_BYTES`` so that a loader previews its head first; and the head's length."""
    await post_records(backend_url, simple_run(run_id, name))
    got = await asyncio.to_thread(httpx.get, f"{backend_url}{API}/runs/{run_id}", timeout=10)
    return got.content + b" " * MIN_HEAD_BODY_BYTES, int(got.headers[HEAD_LENGTH_HEADER])


def body_app(body: bytes, head_length: int) -> Starlette:
    """A server that answers every RunDetail with ``body`` at once, saying where its head ends."""

    async def detail(request: Request) -> Response:
        headers = {HEAD_LENGTH_HEADER: str(head_length)}
        return Response(body, media_type="application/json", headers=headers)

    return Starlette(routes=[Route(f"{API}/runs/{{run_id}}", detail)])
