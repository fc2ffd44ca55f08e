"""Shared screen behaviour: central worker error handling and live-event plumbing."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from crux_tui.app.messages import ConnectionChanged, LiveEvent
from crux_tui.live.session import Job

if TYPE_CHECKING:
    from textual import getters

    from crux_tui.app.app import CruxApp


class CruxScreen(Screen[Any]):
    """Base of every full screen of the app.

    ``Worker.StateChanged`` does not bubble, so each screen forwards it to the app's
    single error handler (:meth:`CruxApp.handle_worker_state`).
    """

    HELP_TITLE = "Screen"
    #: footer keys (binding ids), most important first (see ``CruxFooter``)
    FOOTER_ORDER: tuple[str, ...] = ()

    if TYPE_CHECKING:  # the app, typed: every screen of crux-tui runs inside CruxApp
        app = getters.app(CruxApp)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.handle_worker_state(event)

    def footer_order(self) -> tuple[str, ...]:
        """The footer's keys, most important first, for what the screen shows now."""
        return self.FOOTER_ORDER

    def on_live_event(self, message: LiveEvent) -> None:  # pragma: no cover - default
        """Screens that care about live invalidations override this."""

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        """Screens that poll when the stream is down override this."""


class ScreenRunner:
    """Runs a loader's work (:class:`~crux_tui.live.session.Runner`) as the screen's workers
    and timers: they stop with the screen, and the app hears of their errors."""

    def __init__(self, screen: Screen[Any]) -> None:
        self._screen = screen

    def spawn(self, job: Job, work: Coroutine[Any, Any, None]) -> Worker[None]:
        return self._screen.run_worker(
            work,
            group=job.group,
            description=job.description,
            exclusive=job.exclusive,
            exit_on_error=False,
        )

    def later(self, delay: float, callback: Callable[[], None]) -> _TimerHandle:
        return _TimerHandle(self._screen.set_timer(delay, callback))


class _TimerHandle:
    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def cancel(self) -> None:
        self._timer.stop()
