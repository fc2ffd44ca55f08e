"""RunsLoader: the runs list (one row per operation from a v5 backend), kept current for a
view, without Textual.

It reads the first page (bursts of refreshes coalesce: one read in flight, at most one
queued), pages on when asked, filters by status at the backend, polls when there is no
stream (every second while a row runs, else every 5 s; never while the view is covered: it
reads once when shown again), and runs the bounded symptom pass: a while after a list
read, and only while the view is shown, the RunDetails of the first rows shown whose
symptoms are not known at their revision are read and analysed off the UI thread, into the
session's :class:`~crux_tui.symptoms.SymptomBook`. After every change it publishes a new
:class:`RunsState`: the view repaints from that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from crux_tui.contract import errors as crux_errors
from crux_tui.contract.models import ObservabilityEvent, RunSummary, items
from crux_tui.contract.statuses import is_settled
from crux_tui.live.session import Coalescer, Handle, Job, Runner, Session
from crux_tui.symptoms import analyse

PAGE_SIZE = 50
MAX_REFRESH_LIMIT = 500

#: The live events that may change the list (an event without a kind: a resync).
EVENT_KINDS = frozenset({"observability.records", "observability.lifecycle"})

#: The symptom pass reads the RunDetail of at most this many rows (the first shown) ...
SYMPTOM_PASS_ROWS = 50
#: ... leaving out bigger runs (their symptoms are found when they are opened) ...
SYMPTOM_SPAN_LIMIT = 5_000
#: ... and reading a running operation again at most this often (seconds). The pass starts
#: this long after a list read, and only while the list is shown: a run opened at once gets
#: the backend to itself.
SYMPTOM_RUNNING_EVERY = 10.0
SYMPTOM_PASS_DELAY = 1.5

REFRESH = Job("runs-refresh", "refresh runs")
PAGE = Job("runs-page", "load more runs", exclusive=True)
SYMPTOM_PASS = Job("runs-symptoms", "find symptoms", exclusive=True)


@dataclass(frozen=True, eq=False, slots=True)
class RunsState:
    """What a view shows of the list; a new one after every change (compare by identity)."""

    #: the rows loaded, in the backend's order (a v5 backend lists operations by first seen,
    #: an "Incomplete operation" without a start time included where it belongs)
    runs: list[RunSummary] = field(default_factory=list)
    #: where the next page starts (``None``: nothing more)
    next_cursor: str | None = None
    #: the revision the first page was read at
    revision: int = 0
    #: a first page arrived (since the last status filter change)
    loaded_once: bool = False
    #: the status filter the backend applies (its ``status`` query; ``None``: all)
    status: str | None = None
    #: why the last read failed ("" once one succeeds)
    error: str = ""
    #: the backend answered that read (a wrong URL or route), rather than not at all
    error_reachable: bool = False
    #: bumped whenever symptom counts of rows may have changed
    marks: int = 0


class RunsLoader:
    """Loads the runs list for a view that repaints from each published :class:`RunsState`.

    ``visible()`` gives the rows the view shows now, in order (its text filter applied):
    the symptom pass covers the first of them. ``shown()`` says whether the view is on
    screen (covered: no polling, no symptom pass)."""

    def __init__(
        self,
        session: Session,
        runner: Runner,
        publish: Callable[[RunsState], None],
        *,
        visible: Callable[[], list[RunSummary]],
        shown: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.runner = runner
        self._publish = publish
        self._visible = visible
        self._shown = shown
        self._clock = clock
        self.state = RunsState()
        self._reads = Coalescer(runner, REFRESH, self._read_first_page)
        #: bumped when the list is read again from its start (a page for an older list is
        #: dropped: the new read carries its own cursor)
        self._generation = 0
        self._page_loading = False
        self._last_poll = 0.0
        #: a change arrived while the view was covered (read when shown again)
        self._missed_changes = False
        self._symptom_timer: Handle | None = None
        self._symptom_pass: Handle | None = None

    def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self._publish(self.state)

    @property
    def busy(self) -> bool:
        """A read of the first page is in flight (or queued)."""
        return self._reads.running

    @property
    def generation(self) -> int:
        """Bumped by every read of the list from its start (and a status filter change)."""
        return self._generation

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Read the list again; bursts coalesce (one read in flight, at most one queued)."""
        self._reads.request()

    async def _read_first_page(self) -> None:
        state = self.state
        limit = min(max(PAGE_SIZE, len(state.runs)), MAX_REFRESH_LIMIT)
        try:
            page = await self.session.client.runs_page(limit=limit, status=state.status)
        except crux_errors.CruxError as error:
            self._failed(error)
            return
        self._generation += 1
        runs = items(page.rows)
        self.session.directory.note_runs(runs)
        self.session.note_revision(page.revision)
        self.session.mark_reachable()
        self._set(
            runs=runs,
            next_cursor=page.nextCursor or None,
            revision=page.revision,
            loaded_once=True,
            error="",
        )
        self.find_symptoms()

    def _failed(self, error: crux_errors.CruxError) -> None:
        message = crux_errors.describe_error(error, self.session.url)
        reachable = not isinstance(error, crux_errors.BackendUnreachable)
        if not reachable:
            self.session.mark_unreachable(message)
        self._set(error=message, error_reachable=reachable)

    def load_next_page(self) -> None:
        """Read the page after the rows loaded (unless one is on its way, or none is left)."""
        cursor = self.state.next_cursor
        if self._page_loading or not cursor:
            return
        self._page_loading = True
        self.runner.spawn(PAGE, self._read_page(cursor, self._generation))

    def fill(self, matching: int) -> None:
        """A text filter keeps ``matching`` of the rows loaded: page on while that is less
        than half a page."""
        if matching < PAGE_SIZE // 2:
            self.load_next_page()

    async def _read_page(self, cursor: str, generation: int) -> None:
        try:
            page = await self.session.client.runs_page(
                limit=PAGE_SIZE, cursor=cursor, status=self.state.status
            )
        except crux_errors.CruxError as error:
            self._failed(error)
            return
        finally:
            self._page_loading = False
        if generation != self._generation:
            return  # a refresh replaced the list meanwhile; it carries its own cursor
        known = {run.runId for run in self.state.runs}
        runs = [*self.state.runs, *(run for run in items(page.rows) if run.runId not in known)]
        self.session.directory.note_runs(runs)
        self._set(runs=runs, next_cursor=page.nextCursor or None)
        self.find_symptoms()

    def set_status(self, status: str | None) -> None:
        """Filter by ``status`` at the backend (a comma-separated list; ``None``: all): the
        list starts again from nothing."""
        self._generation += 1
        self._set(status=status, runs=[], next_cursor=None, loaded_once=False)
        self.refresh()

    def forget(self, operations: Iterable[str]) -> None:
        """Deleted operations: their rows (and member runs) go."""
        gone = set(operations)
        self.session.directory.forget(gone)
        self._set(runs=[run for run in self.state.runs if run.runId not in gone])

    # ------------------------------------------------------------------ live and polling

    def on_event(self, event: ObservabilityEvent) -> None:
        """A live event: read again if it may change the list (once shown, if covered)."""
        if event.kind in EVENT_KINDS or not event.kind:
            self._refresh_when_shown()

    def _refresh_when_shown(self) -> None:
        if self._shown():
            self.refresh()
        else:
            self._missed_changes = True

    def tick(self, *, streaming: bool) -> None:
        """Called every half second: poll while no stream is available (or after a failed
        read), every second with running rows, else every 5 s; not while covered."""
        state = self.state
        if streaming and not state.error:
            return
        if not self._shown():
            self._missed_changes = True  # no polling under another view
            return
        running = any(not is_settled(run.status) or run.activeChildCount for run in state.runs)
        interval = 1.0 if running or state.error or not state.loaded_once else 5.0
        interval *= max(self.session.poll_interval, 0.05)
        now = self._clock()
        if now - self._last_poll >= interval:
            self._last_poll = now
            self.refresh()

    def suspend(self) -> None:
        """The view is covered (a run opened from it comes first): the symptom pass stops."""
        if self._symptom_pass is not None:
            self._symptom_pass.cancel()
            self._symptom_pass = None

    def resume(self) -> None:
        """The view is shown again: the symptom pass goes on where it was cut, and what
        changed meanwhile is read."""
        if self.state.loaded_once:
            self.find_symptoms()
        if self._missed_changes:
            self._missed_changes = False
            self.refresh()

    # ------------------------------------------------------------------ symptoms

    def find_symptoms(self) -> None:
        """Mark the rows whose symptoms are known, and soon read the RunDetails of the first
        rows shown whose symptoms are not known at their revision (bounded: see
        ``SYMPTOM_PASS_ROWS``, ``SYMPTOM_SPAN_LIMIT``, ``SYMPTOM_RUNNING_EVERY``)."""
        self.session.symptom_book.note_rows(self.state.runs)
        self._set(marks=self.state.marks + 1)
        if self._symptom_timer is None:
            self._symptom_timer = self.runner.later(SYMPTOM_PASS_DELAY, self._start_symptom_pass)

    def symptoms_to_find(self) -> list[RunSummary]:
        """The rows the symptom pass would read now (none: every row it covers is marked)."""
        book = self.session.symptom_book
        now = self._clock()
        return [
            run
            for run in self._visible()[:SYMPTOM_PASS_ROWS]
            if run.rootPresent
            and run.spanCount <= SYMPTOM_SPAN_LIMIT
            and not book.is_current(
                run.operationId or run.runId, run.revision, now, every=SYMPTOM_RUNNING_EVERY
            )
        ]

    def _start_symptom_pass(self) -> None:
        self._symptom_timer = None
        if not self._shown():
            return  # covered: resumed, the list asks again
        todo = self.symptoms_to_find()
        if todo:
            self._symptom_pass = self.runner.spawn(SYMPTOM_PASS, self._find_symptoms(todo))

    async def _find_symptoms(self, runs: list[RunSummary]) -> None:
        book = self.session.symptom_book
        for run in runs:
            try:
                detail = await self.session.client.run_detail(run.runId)
            except crux_errors.CruxError:
                continue  # deleted meanwhile, or the backend went away: the list says so
            local, facts = await asyncio.to_thread(analyse, detail)
            book.note(
                run.operationId or run.runId,
                run.revision,
                local,
                facts,
                at=self._clock(),
                settled=is_settled(detail.run.status) and not detail.run.activeChildCount,
            )
            self._set(marks=self.state.marks + 1)
