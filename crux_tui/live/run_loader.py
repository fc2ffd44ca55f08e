"""RunLoader: one run's RunDetail, kept current for a view, without Textual.

It fetches (bursts coalesce: one request in flight, at most one queued; an older answer
never replaces a newer one), paints a big run's rows first from the head of its body
(``timeline.preview``), says what the first load is doing (waiting for the backend,
receiving, decoding), polls when there is no stream (every second while the run goes on,
every 5 s for a minute after it settles, then not until an event or ``refresh``), follows
live events that name the operation or one of its member runs (``token.chunk`` bursts
arrive thinned by the feed), notices when the backend deleted the run, and finds the
operation's symptoms off the UI thread. After every change it publishes a new
:class:`RunState`: the view repaints from that.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from crux_tui.contract import errors as crux_errors
from crux_tui.contract.delta import DeltaMismatch, DetailAnswer, apply_delta
from crux_tui.contract.models import (
    ObservabilityEvent,
    RunDetail,
    RunDetailDetail,
    RunDetailHead,
    RunDetailNode,
    RunSummary,
    items,
)
from crux_tui.contract.statuses import is_settled
from crux_tui.live.session import Coalescer, Job, Runner, Session
from crux_tui.sanitize import clean
from crux_tui.symptoms import Symptom, analyse
from crux_tui.timeline import TimelineModel, build_model, operation_id
from crux_tui.timeline.preview import detail_from_head

#: What the detail pane shows: a node of the tree or a detail folded into one.
Subject = RunDetailNode | RunDetailDetail

#: After a run settles (ends, or is reconciled stale/incomplete/conflicted), keep polling
#: (when there is no stream) every 5 s this long, then stop until an event or a refresh.
TERMINAL_POLL_WINDOW = 60.0
#: Bodies smaller than this load too fast for a progress note to be readable.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024
#: The whole body of a first load waits at most this long (s) for its preview to be painted.
PREVIEW_WAIT = 3.0
#: RunDetails with more spans than this are indexed off the UI thread.
INDEX_OFF_THREAD_SPANS = 3000

LOAD = Job("run-detail", "load run")
HEAD = Job("run-head")
SYMPTOMS = Job("run-symptoms", "find symptoms", exclusive=True)


def is_settled_operation(detail: RunDetail) -> bool:
    """The run and every member run of its operation settled (nothing will change by itself)."""
    run = detail.run
    if not is_settled(run.status) or run.activeChildCount:
        return False
    return all(is_settled(m.run.status) for m in items(detail.memberRuns))


def index_subjects(detail: RunDetail) -> dict[str, Subject]:
    """node id / detail id / span id -> node or folded detail (iterative walk)."""
    index: dict[str, Subject] = {}
    stack: list[RunDetailNode] = [detail.root]
    while stack:
        node = stack.pop()
        if node.id:
            index.setdefault(node.id, node)
        if node.spanId:
            index.setdefault(node.spanId, node)
        for det in items(node.details):
            if det.id:
                index.setdefault(det.id, det)
            if det.spanId:
                index.setdefault(det.spanId, det)
        stack.extend(reversed(items(node.children)))
    return index


def _is_big(detail: RunDetail) -> bool:
    return max(detail.run.spanCount, len(items(detail.rows))) > INDEX_OFF_THREAD_SPANS


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a view needs of a RunDetail besides itself, made with it off the UI thread."""

    #: ``index_subjects(detail)``
    subjects: dict[str, Subject]
    #: the timeline's model of it (``timeline.build_model``)
    model: TimelineModel


def prepare(detail: RunDetail) -> Prepared:
    """The subjects index and the timeline model of ``detail`` (no Textual: any thread)."""
    return Prepared(index_subjects(detail), build_model(detail))


async def prepare_async(detail: RunDetail) -> Prepared:
    """:func:`prepare`, in a thread for a big run (the model of 100k spans takes a second)."""
    if _is_big(detail):
        return await asyncio.to_thread(prepare, detail)
    return prepare(detail)


def preview_of(head: RunDetailHead) -> tuple[RunDetail, Prepared]:
    """The provisional RunDetail painted from a body's head, with what it needs."""
    preview = detail_from_head(head)
    return preview, prepare(preview)


@dataclass(frozen=True, slots=True)
class Download:
    """How much of a big run's body has arrived (``total``: ``None`` when not said)."""

    received: int
    total: int | None

    @property
    def done(self) -> bool:
        """All of it: decoding comes next."""
        return self.total is not None and self.received >= self.total


@dataclass(frozen=True, eq=False, slots=True)
class RunState:
    """What a view shows of the run; a new one after every change (compare by identity)."""

    #: the RunDetail (``None`` until the first answer or preview)
    detail: RunDetail | None = None
    #: ``detail`` is the preview painted from the body's rows; the whole one is on its way
    partial: bool = False
    #: ``index_subjects(detail)``
    subjects: dict[str, Subject] = field(default_factory=dict)
    #: the timeline's model of ``detail`` (built with the index, off the UI thread when big)
    model: TimelineModel | None = None
    #: paths of fields of the last answer that could not be parsed
    problems: tuple[str, ...] = ()
    #: why the last load failed ("" once one succeeds)
    error: str = ""
    #: the backend no longer has this run (a ``deleted`` event, or a 404 once loaded): what
    #: is shown is the last copy, and nothing polls until a refresh
    deleted: bool = False
    #: first load of a big run: how much of its body has arrived
    download: Download | None = None
    #: first load: seconds waited for the backend to project the run (before the first byte)
    waited: int | None = None
    #: the operation's symptoms (``crux_tui.symptoms``)
    symptoms: tuple[Symptom, ...] = ()


class RunLoader:
    """Loads run ``run_id`` for a view that repaints from each published :class:`RunState`."""

    def __init__(
        self,
        run_id: str,
        session: Session,
        runner: Runner,
        publish: Callable[[RunState], None],
        *,
        summary: RunSummary | None = None,
        clock: Callable[[], float] = time.monotonic,
        painted: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.run_id = run_id
        #: the runs-list row the view was opened from (its ids count as this run's)
        self.summary = summary
        self.session = session
        self.runner = runner
        self._publish = publish
        self._clock = clock
        #: until the view has painted what was published last (the preview is painted
        #: before the whole body is decoded: the decoder holds the interpreter)
        self._painted = painted
        #: set once the preview of the current first load is shown (or will not be)
        self._preview_done: asyncio.Event | None = None
        self.state = RunState()
        self._loads = Coalescer(runner, LOAD, self._load_next)
        self._request_seq = 0
        self._applied_seq = 0
        self._failed_seq = 0
        #: when the current fetch started, when the download note last changed
        self._fetch_started = 0.0
        self._download_shown_at = 0.0
        #: when polling last asked (poll intervals run from the last answer)
        self._last_poll = 0.0
        #: the backend's tag of the RunDetail shown, and that RunDetail (``contract.delta``):
        #: a refetch asks for the changes since it while it is the one shown
        self._tag = ""
        self._tagged: RunDetail | None = None
        #: when the run (and every member run) was first seen settled; ``None`` while it runs
        self.terminal_since: float | None = None
        self.closed = False

    # ------------------------------------------------------------------ state

    def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        if not self.closed:
            self._publish(self.state)

    @property
    def busy(self) -> bool:
        """A fetch is in flight (or queued)."""
        return self._loads.running

    @property
    def applied(self) -> int:
        """The number of the request whose answer is shown (requests count from 1)."""
        return self._applied_seq

    def close(self) -> None:
        """The view is gone: publish nothing more."""
        self.closed = True

    # ------------------------------------------------------------------ fetching

    def refresh(self) -> None:
        """Refetch the RunDetail; bursts coalesce (one request in flight, at most one queued)."""
        self._loads.request()

    async def _load_next(self) -> None:
        self._request_seq += 1
        await self._fetch(self._request_seq)
        # Poll intervals run from the last answer: a slow fetch is not doubled.
        self._last_poll = self._clock()

    async def _fetch(self, seq: int) -> None:
        state = self.state
        first_load = state.detail is None or state.partial
        self._fetch_started = self._clock()
        self._preview_done = None
        if state.download is not None or state.waited is not None:
            self._set(download=None, waited=None)
        if seq > self._applied_seq and self.state.deleted:
            self._set(deleted=False)  # asked again: say so again if it is still gone
        shown = state.detail
        since = self._tag if shown is not None and shown is self._tagged else ""
        try:
            answer = await self.session.client.run_detail_answer(
                self.run_id,
                since=since,
                progress=self._show_download if first_load else None,
                on_head=(lambda head: self._show_head(head, seq)) if first_load else None,
                before_decode=self._after_preview if first_load else None,
            )
            detail = await self._merged(shown, answer)
            if detail is None:  # the delta did not fit what is shown: ask for all of it
                answer = await self.session.client.run_detail_answer(self.run_id)
                detail = answer.detail
        except Exception as error:  # said by the view; the next poll or a refresh retries
            self._failed(error, seq)
            return
        assert detail is not None
        self.session.mark_reachable()
        prepared = await prepare_async(detail)
        if self.apply(detail, seq, answer.problems, prepared=prepared):
            self._tag, self._tagged = answer.tag, detail

    @staticmethod
    async def _merged(shown: RunDetail | None, answer: DetailAnswer) -> RunDetail | None:
        """The answer's RunDetail: a delta applied to the one shown (``None`` when it does
        not fit it); in a thread for a big run."""
        if answer.delta is None:
            return answer.detail
        if shown is None:
            return None
        try:
            if shown.run.spanCount > INDEX_OFF_THREAD_SPANS:
                return await asyncio.to_thread(apply_delta, shown, answer.delta)
            return apply_delta(shown, answer.delta)
        except DeltaMismatch:
            return None

    def _failed(self, error: Exception, seq: int) -> None:
        self._failed_seq = seq
        state = self.state
        loaded = state.detail is not None and not state.partial
        if isinstance(error, crux_errors.NotFound) and loaded:
            self.mark_deleted()  # it was here: the backend deleted it
            return
        if isinstance(error, crux_errors.CruxError):
            message = crux_errors.describe_error(error, self.session.url)
        else:
            message = f"could not load the run: {clean(f'{type(error).__name__}: {error}')}"
        if isinstance(error, crux_errors.BackendUnreachable):
            self.session.mark_unreachable(message)
        # no such run: not worth asking every second
        deleted = state.deleted or isinstance(error, crux_errors.NotFound)
        self._set(error=message, deleted=deleted, download=None, waited=None)

    def _show_head(self, head: RunDetailHead, seq: int) -> None:
        """First load of a big run: paint its rows while the rest of the body arrives."""
        self._preview_done = done = asyncio.Event()
        self.runner.spawn(HEAD, self._apply_head(head, seq, done))

    async def _apply_head(self, head: RunDetailHead, seq: int, done: asyncio.Event) -> None:
        try:
            if len(items(head.rows)) > INDEX_OFF_THREAD_SPANS:
                preview, prepared = await asyncio.to_thread(preview_of, head)
            else:  # a few milliseconds: a thread would only wait for the interpreter
                preview, prepared = preview_of(head)
            # only while its own fetch is still the latest and has neither failed nor finished
            current = seq == self._request_seq and self._failed_seq != seq
            if current and self.state.detail is None and not self.closed:
                self.apply(preview, partial=True, prepared=prepared)
                if self._painted is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._painted(), PREVIEW_WAIT)
        finally:
            done.set()

    async def _after_preview(self) -> None:
        """The whole body is in: its preview, if one is on its way, is painted first
        (bounded: a preview that does not come holds nothing up for long)."""
        done = self._preview_done
        if done is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), PREVIEW_WAIT)

    def apply(
        self,
        detail: RunDetail,
        seq: int | None = None,
        problems: list[str] | None = None,
        *,
        partial: bool = False,
        prepared: Prepared | None = None,
    ) -> bool:
        """Show ``detail`` unless a newer request was already applied.

        ``problems`` are the fields of the response that could not be parsed.
        ``partial`` marks a preview built from the rows alone (see ``timeline.preview``).
        ``prepared`` is ``prepare(detail)`` when the caller made it already.
        """
        if seq is not None:
            if seq < self._applied_seq:
                return False
            self._applied_seq = seq
        self.session.directory.note_detail(detail)
        if is_settled_operation(detail):
            if self.terminal_since is None:
                self.terminal_since = self._clock()
        else:
            self.terminal_since = None
        if prepared is None:
            prepared = prepare(detail)
        self._set(
            detail=detail,
            partial=partial,
            subjects=prepared.subjects,
            model=prepared.model,
            problems=tuple(problems or ()),
            error="",
            deleted=False,
        )
        if not partial:
            self.runner.spawn(SYMPTOMS, self._analyse(detail))
        return True

    async def _analyse(self, detail: RunDetail) -> None:
        """The operation's symptoms, found in a thread (a walk of the whole tree), kept in the
        session's book (the runs list marks the run)."""
        local, facts = await asyncio.to_thread(analyse, detail)
        if detail is not self.state.detail or self.closed:
            return
        book = self.session.symptom_book
        op = operation_id(detail)
        book.note(
            op,
            detail.run.revision,
            local,
            facts,
            at=self._clock(),
            settled=is_settled_operation(detail),
        )
        self._set(symptoms=tuple(book.symptoms(op) or ()))

    def _show_download(self, received: int, total: int | None) -> None:
        """First load of a big run: say how much of the body has arrived, then decoding."""
        if max(received, total or 0) < PROGRESS_MIN_BYTES:
            return  # arrives in a blink: a note would only flicker
        done = total is not None and received >= total
        now = self._clock()
        if not done and now - self._download_shown_at < 0.1:
            return
        self._download_shown_at = now
        self._set(download=Download(received, total))

    # ------------------------------------------------------------------ polling

    def tick(self, *, streaming: bool) -> None:
        """Called every quarter second. The first load says how long it has waited for the
        backend to project the run. Without a stream (``streaming`` false), or after a
        failed load: poll every 1 s while running, every 5 s for a minute after it settles
        (ended, stale, incomplete, conflicted), then not until an event or a refresh."""
        self._show_waiting()
        state = self.state
        if self.busy or state.deleted or (streaming and not state.error):
            return
        now = self._clock()
        scale = max(self.session.poll_interval, 0.05)
        if self.terminal_since is None:
            interval = 1.0 * scale
        elif now - self.terminal_since <= TERMINAL_POLL_WINDOW:
            interval = 5.0 * scale
        else:
            return
        if now - self._last_poll >= interval:
            self._last_poll = now
            self.refresh()

    def _show_waiting(self) -> None:
        """First load: before the first byte, the backend is still projecting the run."""
        state = self.state
        if state.detail is not None or not self.busy or state.download or state.error:
            return
        waited = self._clock() - self._fetch_started
        if waited >= 0.5 and round(waited) != state.waited:
            self._set(waited=round(waited))

    # ------------------------------------------------------------------ live

    def own_ids(self) -> set[str]:
        """This operation's id, its member runs' ids, the id it was opened with (and the
        trace id a v2 backend may name)."""
        detail = self.state.detail
        mine = {self.run_id}
        run = detail.run if detail is not None else self.summary
        if run is not None:
            mine |= {v for v in (run.runId, run.traceId, run.operationId, run.rootRunId) if v}
        if detail is not None:
            mine |= {m.run.runId for m in items(detail.memberRuns) if m.run.runId}
        return mine

    def concerns(self, event: ObservabilityEvent) -> bool:
        """Whether ``event`` concerns this operation (an event naming nothing concerns all);
        a member run's id (lifecycle) counts through the session's directory."""
        if not event.run_refs():
            return True
        return bool(self.session.directory.operations(event) & self.own_ids())

    def on_event(self, event: ObservabilityEvent) -> None:
        """A live event: refetch when it concerns the run; a ``deleted`` one marks it gone."""
        if self.state.deleted:
            return  # nothing to refetch; a refresh asks again
        if event.kind == "token.chunk":
            # a member run is streaming (the feed thins the bursts): the run changed
            if event.run_refs() and self.concerns(event):
                self.refresh()
            return
        if event.action == "deleted" and event.run_refs() and self.concerns(event):
            self.mark_deleted()
            return
        if self.concerns(event):
            self.refresh()

    def mark_deleted(self) -> None:
        """The backend deleted this run: say so and stop asking for it."""
        self._set(deleted=True, error="")
