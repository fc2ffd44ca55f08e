"""Shared screen behaviour: central worker error handling and live-event plumbing."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.worker import Worker

from crux_tui.app.messages import ConnectionChanged, LiveEvent


class CruxScreen(Screen[Any]):
    """Base of every full screen of the app.

    ``Worker.StateChanged`` does not bubble, so each screen forwards it to the app's
    single error handler (:meth:`CruxApp.handle_worker_state`).
    """

    HELP_TITLE = "Screen"
    #: footer keys (binding ids), most important first (see ``CruxFooter``)
    FOOTER_ORDER: tuple[str, ...] = ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        handler = getattr(self.app, "handle_worker_state", None)
        if handler is not None:
            handler(event)

    def footer_order(self) -> tuple[str, ...]:
        """The footer's keys, most important first, for what the screen shows now."""
        return self.FOOTER_ORDER

    def on_live_event(self, message: LiveEvent) -> None:  # pragma: no cover - default
        """Screens that care about live invalidations override this."""

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        """Screens that poll when the stream is down override this."""
