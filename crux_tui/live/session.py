"""What the loaders (:mod:`~crux_tui.live.run_loader`, :mod:`~crux_tui.live.runs_loader`)
need from the viewer, without Textual: the services the whole viewer shares (a
:class:`Session`: the app implements it), where their background work runs (a
:class:`Runner`: Textual workers in the app, asyncio tasks in :class:`TaskRunner`), and
the one coalescing rule both loaders follow (:class:`Coalescer`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from crux_tui.contract.ports import BackendClient
from crux_tui.live.directory import RunDirectory
from crux_tui.symptoms import SymptomBook


class Session(Protocol):
    """The services every view of one viewer shares (``CruxApp`` is one)."""

    @property
    def url(self) -> str:
        """The backend's URL (said in errors)."""
        ...

    @property
    def client(self) -> BackendClient:
        """The backend's HTTP API."""
        ...

    @property
    def directory(self) -> RunDirectory:
        """member run id -> operation id, from everything read."""
        ...

    @property
    def symptom_book(self) -> SymptomBook:
        """The symptoms of the operations read."""
        ...

    @property
    def poll_interval(self) -> float:
        """Polling intervals are multiples of this (1.0; tests shorten it)."""
        ...

    def mark_reachable(self) -> None:
        """A read succeeded."""
        ...

    def mark_unreachable(self, message: str) -> None:
        """A read could not connect: ``message`` says so."""
        ...

    def note_revision(self, revision: int) -> None:
        """The views were read at ``revision`` (the live feed may catch up from there)."""
        ...


@dataclass(frozen=True, slots=True)
class Job:
    """A kind of background work: its worker group, what it is called, and whether a new
    one cancels the one running (``exclusive``)."""

    group: str
    description: str = ""
    exclusive: bool = False


class Handle(Protocol):
    """Something started that can be stopped (a worker, a task, a timer)."""

    def cancel(self) -> object:
        """Stop it (nothing happens when it has ended)."""
        ...


class Runner(Protocol):
    """Where a loader's background work runs."""

    def spawn(self, job: Job, work: Coroutine[Any, Any, None]) -> Handle:
        """Run ``work`` in the background."""
        ...

    def later(self, delay: float, callback: Callable[[], None]) -> Handle:
        """Call ``callback`` once, ``delay`` seconds from now."""
        ...


class TaskRunner:
    """A :class:`Runner` of plain asyncio tasks (loaders outside the app: tests, scripts).

    Errors of the work are kept in :attr:`errors` (a worker's go to the app's handler)."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[str, asyncio.Task[None]] = {}

    def spawn(self, job: Job, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        previous = self._latest.get(job.group)
        if job.exclusive and previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(work, name=job.description or job.group)
        self._latest[job.group] = task
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, callback)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self.errors.append(error)

    @property
    def busy(self) -> bool:
        """Some work has not ended."""
        return bool(self._tasks)

    async def idle(self) -> None:
        """Wait until every piece of work started (and started by it) has ended."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel what still runs."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Coalescer:
    """Loads again while asked: a burst of requests is one load in flight and at most one
    queued (never a queue of loads behind a slow answer)."""

    def __init__(self, runner: Runner, job: Job, load: Callable[[], Awaitable[None]]) -> None:
        self._runner = runner
        self._job = job
        self._load = load
        #: asked again since the current load started
        self.pending = False
        #: a load is in flight (or queued to start)
        self.running = False

    def request(self) -> None:
        """Ask for a load (now, or right after the one in flight)."""
        self.pending = True
        if self.running:
            return
        self.running = True
        self._runner.spawn(self._job, self._loop())

    async def _loop(self) -> None:
        try:
            while self.pending:
                self.pending = False
                await self._load()
        finally:
            self.running = False
