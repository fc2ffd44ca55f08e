"""Connection indicator: live / reconnecting / polling / offline, and over what (sse, ws)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from crux_tui.contract.statuses import (
    CONNECTING,
    CONNECTION_STATES,
    LIVE,
    OFFLINE,
    POLLING,
    RECONNECTING,
)
from crux_tui.sanitize import clean

#: connection state -> style (glyphs and words: ``CONNECTION_STATES``)
STYLES: dict[str, str] = {
    CONNECTING: "dim",
    LIVE: "crux.status.ok",
    RECONNECTING: "crux.severity.warn",
    POLLING: "crux.severity.warn",
    OFFLINE: "crux.severity.error",
}


def connection_text(state: str, detail: str = "", transport: str = "") -> Text:
    glyph, label = CONNECTION_STATES.get(state, ("?", clean(state)))
    text = Text(f"{glyph} {label}", style=STYLES.get(state, "dim"))
    if transport and state != POLLING:  # "polling" says it already
        text.append(f" · {clean(transport)}", style="dim")
    if detail:
        text.append(f"  {clean(detail)}", style="dim")
    return text


class ConnectionIndicator(Static):
    """Mirrors ``app.connection_state`` / ``app.connection_detail``."""

    DEFAULT_CSS = """
    ConnectionIndicator { width: auto; height: 1; padding: 0 1; }
    """

    # layout: the indicator is as wide as what it says, and the header lays out around it
    state: reactive[str] = reactive("connecting", layout=True)
    detail: reactive[str] = reactive("", layout=True)
    transport: reactive[str] = reactive("", layout=True)

    def __init__(self, *, show_detail: bool = False, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.show_detail = show_detail

    def on_mount(self) -> None:
        app = self.app
        if hasattr(app, "connection_state"):
            self.watch(app, "connection_state", self._sync, init=True)
            self.watch(app, "connection_detail", self._sync, init=False)
            self.watch(app, "connection_transport", self._sync, init=False)

    def _sync(self, _value: object = None) -> None:
        self.state = getattr(self.app, "connection_state", "connecting")
        self.detail = getattr(self.app, "connection_detail", "")
        self.transport = getattr(self.app, "connection_transport", "")

    def render(self) -> Text:
        return connection_text(self.state, self.detail if self.show_detail else "", self.transport)
