"""Run-level diagnostics list, with the run's symptoms first; selecting an entry asks to
jump to the first span it names."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from crux_tui.app.widgets.detail_pane import diagnostic_text, symptom_text
from crux_tui.contract.models import Diagnostic, items
from crux_tui.symptoms import Symptom


class DiagnosticsList(OptionList):
    """One option per symptom (title, what the records show, the fix), then one per
    diagnostic (severity, code, message and the spans it names)."""

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

    class SymptomSelected(Message):
        """The user selected a symptom: go to the spans that show it."""

        def __init__(self, diagnostics: DiagnosticsList, symptom: Symptom) -> None:
            super().__init__()
            self.diagnostics = diagnostics
            self.symptom = symptom

        @property
        def control(self) -> DiagnosticsList:
            return self.diagnostics

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._diagnostics: list[Diagnostic] = []
        self._symptoms: list[Symptom] = []
        #: the entries the options show, in order
        self._shown: list[Symptom | Diagnostic] = []

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self._diagnostics)

    @property
    def symptoms(self) -> list[Symptom]:
        return list(self._symptoms)

    @property
    def has_entries(self) -> bool:
        return bool(self._diagnostics or self._symptoms)

    def set_diagnostics(self, diagnostics: list[Diagnostic] | None) -> None:
        new = items(diagnostics)
        if new != self._diagnostics:
            self._diagnostics = list(new)
            self._rebuild()

    def set_symptoms(self, symptoms: list[Symptom]) -> None:
        if symptoms != self._symptoms:
            self._symptoms = list(symptoms)
            self.set_class(bool(symptoms), "-symptoms")
            self._rebuild()

    def _entries(self) -> list[Symptom | Diagnostic]:
        return [*self._symptoms, *self._diagnostics]

    def _rebuild(self) -> None:
        """Options from the entries. While the list has focus the highlighted entry stays
        highlighted where it moved (symptoms arriving above it do not change what Enter
        selects); otherwise the first entry is."""
        highlighted = self.highlighted if self.has_focus else None
        before = self._shown
        kept = (
            before[highlighted] if highlighted is not None and highlighted < len(before) else None
        )
        self._shown = self._entries()
        self.clear_options()
        self.add_options(
            [Option(symptom_text(s), id=f"symptom-{i}") for i, s in enumerate(self._symptoms)]
            + [Option(diagnostic_text(d), id=f"diag-{i}") for i, d in enumerate(self._diagnostics)]
        )
        count = len(self._shown)
        if count:
            index = next((i for i, e in enumerate(self._shown) if e is kept), None)
            self.highlighted = index if index is not None else min(highlighted or 0, count - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        if 0 <= index < len(self._symptoms):
            self.post_message(self.SymptomSelected(self, self._symptoms[index]))
            return
        index -= len(self._symptoms)
        if 0 <= index < len(self._diagnostics):
            self.post_message(self.JumpRequested(self, self._diagnostics[index]))
