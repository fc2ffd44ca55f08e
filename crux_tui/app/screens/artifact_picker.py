"""A small list of a span's artifacts: ``a`` on a span with several opens it, Enter (or the
artifact's number) opens one in the viewer, Escape closes it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crux_tui.app.widgets.detail_pane import artifact_text
from crux_tui.contract.models import ArtifactSummary
from crux_tui.sanitize import clean

#: Artifacts 1-9 open with their number.
NUMBER_KEYS = tuple(str(n) for n in range(1, 10))


class ArtifactPicker(ModalScreen[ArtifactSummary | None]):
    """Dismisses with the chosen artifact, or ``None``."""

    HELP_TITLE = "Artifacts"
    DEFAULT_CSS = """
    ArtifactPicker { align: center middle; }
    ArtifactPicker > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ArtifactPicker #artifact-picker-list,
    ArtifactPicker #artifact-picker-list:focus {
        height: auto; max-height: 20; border: none; padding: 0;
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="artifact-picker.close"),
        Binding("j", "cursor_down", "Down", show=False, id="artifact-picker.down"),
        Binding("k", "cursor_up", "Up", show=False, id="artifact-picker.up"),
        *(Binding(key, f"open_number({key})", f"Open {key}", show=False) for key in NUMBER_KEYS),
    ]

    def __init__(self, artifacts: list[ArtifactSummary], title: str = "") -> None:
        super().__init__()
        self.artifacts = list(artifacts)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="artifact-picker"):
            title = Text(f"{len(self.artifacts)} artifacts", style="bold")
            if self.title_text:
                title.append(f" of {clean(self.title_text)}", style="bold")
            title.append("  enter opens · 1-9 · esc closes", style="dim")
            yield Static(title, id="artifact-picker-title", markup=False)
            options = []
            for index, artifact in enumerate(self.artifacts):
                prompt = Text(f"{index + 1} " if index < len(NUMBER_KEYS) else "  ", style="dim")
                prompt.append_text(artifact_text(artifact))
                options.append(Option(prompt, id=f"pick-{index}"))
            yield OptionList(*options, id="artifact-picker-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_number(event.option_index + 1)

    def action_open_number(self, number: int) -> None:
        if 1 <= number <= len(self.artifacts):
            self.dismiss(self.artifacts[number - 1])

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
