"""A yes/no confirmation for destructive actions: ``y``/``enter`` confirms, ``n``/``escape``
cancels. Dismisses with ``True`` or ``False``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Asks ``question``; nothing happens unless the user confirms."""

    HELP_TITLE = "Confirm"

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72; max-width: 95%; height: auto;
        border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmScreen Static { width: 100%; height: auto; }
    ConfirmScreen #confirm-title { text-style: bold; color: $error; }
    ConfirmScreen #confirm-keys { margin-top: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("y,enter", "confirm", "Confirm", id="confirm.yes"),
        Binding("n,escape", "cancel", "Cancel", id="confirm.no"),
    ]

    def __init__(self, title: str, question: Text, *, confirm: str = "confirm") -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.confirm_word = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="confirm-title", markup=False)
            yield Static(self.question, id="confirm-question", markup=False)
            keys = Text()
            keys.append("y", style="bold")
            keys.append(" / ")
            keys.append("enter", style="bold")
            keys.append(f" {self.confirm_word}    ")
            keys.append("n", style="bold")
            keys.append(" / ")
            keys.append("escape", style="bold")
            keys.append(" cancel")
            yield Static(keys, id="confirm-keys", markup=False)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
