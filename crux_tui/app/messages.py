"""App-wide messages (cross-screen). Widget-owned messages live on their widgets."""

from __future__ import annotations

from textual.message import Message

from crux_tui.contract.models import ObservabilityEvent


class LiveEvent(Message):
    """An invalidation event from the live feed, delivered to every screen on the stack."""

    def __init__(self, event: ObservabilityEvent) -> None:
        super().__init__()
        self.event = event


class ConnectionChanged(Message):
    """The live feed changed state: ``connecting``/``live``/``reconnecting``/``polling``/``offline``."""

    def __init__(self, state: str, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail
