"""Run-level diagnostics list; selecting one asks to jump to the first span it names."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from crux_tui.app.widgets.detail_pane import diagnostic_text
from crux_tui.contract.models import Diagnostic, items


class DiagnosticsList(OptionList):
    """One option per diagnostic: severity, code, message and the spans it names."""

    DEFAULT_CSS = """
    DiagnosticsList { height: auto; max-height: 6; border: none; padding: 0; }
    """

    class JumpRequested(Message):
        """The user selected a diagnostic that names spans."""

        def __init__(self, diagnostics: DiagnosticsList, diagnostic: Diagnostic) -> None:
            super().__init__()
            self.diagnostics = diagnostics
            self.diagnostic = diagnostic

        @property
        def control(self) -> DiagnosticsList:
            return self.diagnostics

        @property
        def span_ids(self) -> list[str]:
            return items(self.diagnostic.spanIds)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._diagnostics: list[Diagnostic] = []

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self._diagnostics)

    def set_diagnostics(self, diagnostics: list[Diagnostic] | None) -> None:
        new = items(diagnostics)
        if new == self._diagnostics:
            return
        highlighted = self.highlighted
        self._diagnostics = list(new)
        self.clear_options()
        self.add_options(
            [Option(diagnostic_text(d), id=f"diag-{i}") for i, d in enumerate(self._diagnostics)]
        )
        if self._diagnostics:
            self.highlighted = min(highlighted or 0, len(self._diagnostics) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._diagnostics):
            self.post_message(self.JumpRequested(self, self._diagnostics[event.option_index]))
