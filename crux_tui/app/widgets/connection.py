"""Connection indicator: live / reconnecting / polling / offline, and over what (sse, ws)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from crux_tui.sanitize import clean

STATES: dict[str, tuple[str, str, str]] = {
    # state: (glyph, label, style) -- glyphs differ so NO_COLOR still tells them apart
    "connecting": ("…", "connecting", "dim"),
    "live": ("●", "live", "crux.status.ok"),
    "reconnecting": ("↻", "reconnecting", "crux.severity.warn"),
    "polling": ("⟳", "polling", "crux.severity.warn"),
    "offline": ("○", "offline", "crux.severity.error"),
}


def connection_text(state: str, detail: str = "", transport: str = "") -> Text:
    glyph, label, style = STATES.get(state, ("?", clean(state), "dim"))
    text = Text(f"{glyph} {label}", style=style)
    if transport and state != "polling":  # "polling" says it already
        text.append(f" · {clean(transport)}", style="dim")
    if detail:
        text.append(f"  {clean(detail)}", style="dim")
    return text


class ConnectionIndicator(Static):
    """Mirrors ``app.connection_state`` / ``app.connection_detail``."""

    DEFAULT_CSS = """
    ConnectionIndicator { width: auto; height: 1; padding: 0 1; }
    """

    state: reactive[str] = reactive("connecting")
    detail: reactive[str] = reactive("")
    transport: reactive[str] = reactive("")

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
