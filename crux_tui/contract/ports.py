"""What the viewer needs from the services it talks to: the backend's HTTP API and the live
feed, as Protocols. The app and the loaders (``live/run_loader.py``, ``live/runs_loader.py``)
are typed against these; :class:`~crux_tui.contract.client.CruxClient` and
:class:`~crux_tui.live.feed.LiveFeed` are the implementations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from crux_tui.contract.delta import DetailAnswer
from crux_tui.contract.models import (
    DeleteResult,
    ObservabilityEvent,
    RunDetail,
    RunDetailHead,
    RunsPage,
)

#: ``progress(received_bytes, total_bytes)`` while a body downloads; ``total`` is ``None``
#: when the server sent no length. The last call has ``received == total``.
Progress = Callable[[int, int | None], None]


class BackendClient(Protocol):
    """The reads and the delete the viewer makes (``crux-api.md``)."""

    async def runs_page(
        self, limit: int | None = None, cursor: str | None = None, status: str | None = None
    ) -> RunsPage:
        """One page of the runs list (operations on a v5 backend)."""
        ...

    async def run_detail(self, run_id: str) -> RunDetail:
        """A run's (or operation's) RunDetail."""
        ...

    async def run_detail_checked(
        self,
        run_id: str,
        progress: Progress | None = None,
        on_head: Callable[[RunDetailHead], None] | None = None,
    ) -> tuple[RunDetail, list[str]]:
        """The RunDetail and the fields that could not be parsed; ``on_head`` may get the
        run and its rows before the rest of a big body has arrived."""
        ...

    async def run_detail_answer(
        self,
        run_id: str,
        since: str = "",
        progress: Progress | None = None,
        on_head: Callable[[RunDetailHead], None] | None = None,
        before_decode: Callable[[], Awaitable[None]] | None = None,
    ) -> DetailAnswer:
        """As ``run_detail_checked``, with the RunDetail's tag; given ``since`` (a tag the
        backend sent), the answer may be a delta against that RunDetail (``contract.delta``).
        ``before_decode`` is awaited before a big body is decoded (its head is painted
        first)."""
        ...

    async def delete_run(self, run_id: str) -> DeleteResult:
        """Delete the run's operation with all its member runs."""
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


class EventFeed(Protocol):
    """The live invalidations, over whatever transport the backend has."""

    @property
    def state(self) -> str:
        """``connecting``, ``live``, ``reconnecting``, ``polling`` or ``offline``."""
        ...

    def events(self) -> AsyncIterator[ObservabilityEvent]:
        """The events, until the consumer stops (or is cancelled)."""
        ...

    def note_revision(self, revision: int) -> None:
        """The views were read at ``revision``: a catch-up may start there."""
        ...
