"""``CruxApp``: the Textual application (runs screen -> run screen -> artifact viewer)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from crux_tui.app.keymap import load_keymap
from crux_tui.app.messages import ConnectionChanged, LiveEvent
from crux_tui.contract.errors import describe_error
from crux_tui.contract.models import ObservabilityEvent, RunSummary
from crux_tui.contract.ports import BackendClient, EventFeed
from crux_tui.live.directory import RunDirectory
from crux_tui.perf import IdleCollector
from crux_tui.sanitize import ClipKind, clean, clipboard_text
from crux_tui.symptoms import SymptomBook

#: Makes the live feed for the app (``LiveFeed`` unless a caller stands another in).
FeedFactory = Callable[["CruxApp"], EventFeed]


class CruxApp(App[int]):
    """Keyboard trace viewer for Crux agent runs."""

    CSS_PATH = "app.tcss"
    TITLE = "crux-tui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help"),
    ]

    connection_state: reactive[str] = reactive("connecting")
    connection_detail: reactive[str] = reactive("")
    #: the live transport in use (``sse``, ``ws``, ``poll``; "" before the feed picks one)
    connection_transport: reactive[str] = reactive("")

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        client: BackendClient | None = None,
        feed_factory: FeedFactory | None = None,
        poll_interval: float = 1.0,
        start_feed: bool = True,
        notices: Sequence[str] = (),
        source_roots: Sequence[str] = (),
        live: str = "auto",
        source: str = "",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self._clock = clock
        #: what the runs come from, as the runs list's title says it
        self.source = clean(source) or clean(url.rstrip("/"))
        self._notices = list(notices)
        #: where the artifact viewer looks for stack frames' files (after the current directory)
        self.source_roots = list(source_roots)
        self.url = url.rstrip("/")
        self.token = token
        self._client = client
        self._owns_client = client is None
        self._feed_factory = feed_factory
        self.poll_interval = poll_interval
        self._start_feed = start_feed
        #: ``--live``: ``auto`` (SSE, else the WebSocket, else polling), ``sse``, ``ws``, ``poll``
        self.live = live
        self._feed: EventFeed | None = None
        #: member run id -> operation id, from the runs pages and RunDetails read
        self.directory = RunDirectory()
        #: the symptoms of the operations read (runs list marks, run screen, detail pane)
        self.symptom_book = SymptomBook()
        self.feed_state = "connecting"
        self._unreachable = False
        self.sub_title = clean(self.url)
        #: Full GC passes wait for a pause in the user's input (see ``IdleCollector``).
        self.idle_collector = IdleCollector()
        self._style_theme_pushed = False
        #: run id -> (revision, status) of the newest RunDetail seen (see ``run_status``)
        self._presented: dict[str, tuple[int, str]] = {}

    # ------------------------------------------------------------------ services

    @property
    def client(self) -> BackendClient:
        """The shared ``CruxClient`` (created lazily)."""
        if self._client is None:
            from crux_tui.contract.client import CruxClient

            self._client = CruxClient(self.url, self.token)
        return self._client

    def _push_style_theme(self) -> None:
        """(Re)define the ``crux.*`` styles for the current theme and NO_COLOR."""
        from crux_tui.app.theme import rich_theme

        if self._style_theme_pushed:
            self.console.pop_theme()
        self.console.push_theme(rich_theme(self.get_css_variables(), self.no_color))
        self._style_theme_pushed = True

    def _theme_changed(self, _theme: Theme) -> None:
        self._push_style_theme()
        for screen in self.screen_stack:  # rows and cells were drawn with the old styles
            for widget in screen.walk_children(with_self=True):
                widget.notify_style_update()
                widget.refresh()

    async def on_mount(self) -> None:
        from crux_tui.app.screens.runs import RunsScreen

        self._push_style_theme()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.idle_collector.start(time.monotonic())
        self.set_interval(0.5, self._collect_if_idle)
        keymap, problems = load_keymap()
        self._notices.extend(problems)
        if keymap:
            self.set_keymap(keymap)
        await self.push_screen(RunsScreen())
        if self._start_feed:
            self.consume_feed()
        self._show_notices()

    def _show_notices(self, limit: int = 5) -> None:
        """Problems found before the app opened (bad JSONL lines, rejected records)."""
        for notice in self._notices[:limit]:
            self.notify(
                clean(notice), title="While loading", severity="warning", timeout=15, markup=False
            )
        if len(self._notices) > limit:
            self.notify(
                f"and {len(self._notices) - limit} more problems (also printed on exit)",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def _collect_if_idle(self) -> None:
        busy = any(w.is_running and w.group != "live-feed" for w in self.workers)
        self.idle_collector.tick(time.monotonic(), busy=busy)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.idle_collector.note_input(time.monotonic())
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.idle_collector.stop()
        if self._owns_client and self._client is not None:
            with contextlib.suppress(Exception):  # best effort on shutdown
                await self._client.aclose()

    def now(self) -> datetime:
        """The time relative times are shown against ("6m ago"; a fixed clock in shots)."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    # ------------------------------------------------------------------ run status

    def note_presented(self, run: RunSummary) -> None:
        """Remember the status a RunDetail presents its run with (``detail.run``)."""
        if run.runId and run.status:
            known = self._presented.get(run.runId)
            if known is None or known[0] <= run.revision:
                self._presented[run.runId] = (run.revision, run.status)

    def run_status(self, run: RunSummary) -> str:
        """The one status the app shows for ``run``, in the runs list and the run's header.

        A list row carries the status the backend stored (corrected once a run has been
        quiet for a minute); the RunDetail is projected when it is read, so it can already
        say more (closed by its finished children, stale, suspended). The newest of the
        two wins: the RunDetail's unless the row is from a later revision of the run.
        """
        known = self._presented.get(run.runId)
        if known is not None and known[0] >= run.revision:
            return known[1]
        return run.status

    # ------------------------------------------------------------------ live feed

    def mark_unreachable(self, message: str) -> None:
        """An HTTP read failed to connect: show offline whatever the feed last said."""
        self._unreachable = True
        self.set_connection("offline", message)

    def mark_reachable(self) -> None:
        """An HTTP read succeeded: go back to the feed's state (polling if it has none)."""
        if not self._unreachable:
            return
        self._unreachable = False
        state = self.feed_state if self.feed_state not in ("offline", "connecting") else "polling"
        self.set_connection(state, "")

    def set_connection(self, state: str, detail: str = "") -> None:
        """Record the feed state and tell every screen (they poll when not live)."""
        changed = state != self.connection_state or detail != self.connection_detail
        self.connection_detail = detail
        self.connection_state = state
        if changed:
            for screen in list(self.screen_stack):
                screen.post_message(ConnectionChanged(state, detail))

    def dispatch_event(self, event: ObservabilityEvent) -> None:
        """Deliver a live invalidation to every screen on the stack."""
        for screen in list(self.screen_stack):
            screen.post_message(LiveEvent(event))

    def _make_feed(self) -> EventFeed:
        if self._feed_factory is not None:
            return self._feed_factory(self)
        from crux_tui.live.feed import LiveFeed

        return LiveFeed(
            self.url,
            self.token,
            transport=self.live,
            on_state=self._on_feed_state,
            on_transport=self._on_feed_transport,
        )

    def _on_feed_transport(self, transport: str, note: str = "") -> None:
        self.connection_transport = transport
        if note:  # a forced transport this backend does not have
            self.notify(
                f"--live {clean(transport)}: {clean(note)}",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def note_revision(self, revision: int) -> None:
        """A view was read at ``revision``: the live feed may catch up from there."""
        if self._feed is not None:
            self._feed.note_revision(revision)

    def _on_feed_state(self, name: str, detail: str = "") -> None:
        self.feed_state = name
        if self._unreachable and name != "live":
            return  # keep the "cannot reach" message until a read or the stream succeeds
        self._unreachable = False
        self.set_connection(name, detail)

    @work(exclusive=True, group="live-feed", exit_on_error=False, description="live feed")
    async def consume_feed(self) -> None:
        """Consume the LiveFeed forever, turning events into ``LiveEvent`` messages."""
        feed = self._feed = self._make_feed()
        async for event in feed.events():
            self.dispatch_event(event)
            self._on_feed_state(feed.state)
            await asyncio.sleep(0)  # a burst of events leaves room for the screens
        self.set_connection("offline", "live feed ended")

    # ------------------------------------------------------------------ errors

    def handle_worker_state(self, event: Worker.StateChanged) -> None:
        """The one place worker failures become notifications (never a traceback)."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        error = worker.error
        if worker.group == "live-feed":
            self.set_connection("offline", describe_error(error, self.url))
        self.notify(
            describe_error(error, self.url),
            title=clean(worker.description or worker.name or "background task") + " failed",
            severity="error",
            markup=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.handle_worker_state(event)

    # ------------------------------------------------------------------ actions

    def action_help(self) -> None:
        from crux_tui.app.screens.help import HelpScreen, collect_bindings

        screen = self.screen
        if isinstance(screen, HelpScreen):
            screen.dismiss(None)
            return
        title = getattr(screen, "HELP_TITLE", None) or type(screen).__name__
        self.push_screen(HelpScreen(collect_bindings(screen), title=title))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands, less those our bindings already list (``q``, ``?``),
        with a screenshot that is written to the current folder."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys", "Screenshot"):
                yield command
        yield SystemCommand(
            "Screenshot", "Save an SVG screenshot in the current folder", self.save_screen_svg
        )

    def save_screen_svg(self) -> Path | None:
        """Write ``crux-tui-<time>.svg`` to the current folder and say where (or why not)."""
        name = datetime.now().strftime("crux-tui-%Y%m%d-%H%M%S.svg")
        try:
            path = Path(self.save_screenshot(name, path=str(Path.cwd())))
        except OSError as error:
            self.notify(f"Screenshot failed: {clean(str(error))}", severity="error", markup=False)
            return None
        self.notify(f"Saved screenshot to {clean(str(path))}", markup=False, timeout=6)
        return path

    def copy_text(self, text: str, what: str, *, kind: ClipKind = "line") -> None:
        """Copy ``text`` cleaned (see :func:`clipboard_text`) through OSC 52 and say so,
        and say when cleaning changed it: an id with ``ESC[201~`` and newlines must not
        run commands when pasted into a shell."""
        copied, note = clipboard_text(text, kind)
        self.copy_to_clipboard(copied)
        message = f"Copied {clean(what)} to the clipboard"
        self.notify(message + (f" ({note})" if note else ""), markup=False, timeout=3)
