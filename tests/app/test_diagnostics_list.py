"""The diagnostics list keeps what the user highlighted when symptoms arrive above it."""

from __future__ import annotations

from textual.app import App, ComposeResult

from crux_tui.app.theme import rich_theme
from crux_tui.app.widgets.diagnostics import DiagnosticsList
from crux_tui.contract.models import Diagnostic
from crux_tui.symptoms import Symptom


class ListApp(App[None]):
    AUTO_FOCUS = None  # the list gets focus when the test says so

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[object] = []

    def compose(self) -> ComposeResult:
        yield DiagnosticsList()

    def on_mount(self) -> None:
        # the crux.* named styles the entries use, defined as CruxApp defines them
        self.console.push_theme(rich_theme(self.get_css_variables(), self.no_color))

    def on_diagnostics_list_jump_requested(self, event: DiagnosticsList.JumpRequested) -> None:
        self.selected.append(event.diagnostic)

    def on_diagnostics_list_symptom_selected(self, event: DiagnosticsList.SymptomSelected) -> None:
        self.selected.append(event.symptom)


DIAGS = [Diagnostic(code="stale-boundary"), Diagnostic(code="missing-span-end", spanIds=["s1"])]
SYMPTOM = Symptom(code="run-stays-incomplete", title="Run stays incomplete", spanIds=["s1"])


async def test_symptoms_arriving_do_not_change_what_enter_selects() -> None:
    app = ListApp()
    async with app.run_test() as pilot:
        listing = app.query_one(DiagnosticsList)
        listing.set_diagnostics(DIAGS)
        listing.focus()
        await pilot.press("down")  # on missing-span-end
        listing.set_symptoms([SYMPTOM])  # found meanwhile, listed first
        await pilot.press("enter")
        assert app.selected == [DIAGS[1]]
        await pilot.press("home", "enter")
        assert app.selected[-1] == SYMPTOM


async def test_unfocused_list_shows_the_first_entry() -> None:
    app = ListApp()
    async with app.run_test() as pilot:
        listing = app.query_one(DiagnosticsList)
        listing.set_diagnostics(DIAGS)
        listing.set_symptoms([SYMPTOM])
        assert listing.highlighted == 0
        listing.focus()
        await pilot.press("enter")
        assert app.selected == [SYMPTOM]
