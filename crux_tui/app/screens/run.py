"""Run screen: header, folded timeline, detail pane, diagnostics, search and live refetch."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any, cast

import msgspec
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.events import Resize
from textual.reactive import reactive
from textual.widgets import Input, Static

from crux_tui.app import format as fmt
from crux_tui.app import theme
from crux_tui.app.commands import RunCommands
from crux_tui.app.evidence import status_cause
from crux_tui.app.messages import LiveEvent
from crux_tui.app.operation import member_of
from crux_tui.app.screens.base import CruxScreen, ScreenRunner
from crux_tui.app.widgets.connection import ConnectionIndicator
from crux_tui.app.widgets.detail_pane import CAUSE_KEY, DetailPane, Subject, span_json
from crux_tui.app.widgets.diagnostics import DiagnosticsList
from crux_tui.app.widgets.footer import CruxFooter
from crux_tui.app.widgets.timeline_view import TimelineView
from crux_tui.contract.models import (
    ArtifactSummary,
    RunDetail,
    RunDetailNode,
    RunSummary,
    items,
)
from crux_tui.contract.vocabulary import MEMBER_RUN_GLYPH, symptom_count_text
from crux_tui.live.run_loader import Download, RunLoader, RunState
from crux_tui.sanitize import clean
from crux_tui.symptoms import Symptom
from crux_tui.timeline import TimelineModel, operation_id

#: Terminal width from which the detail pane sits to the right of the timeline.
WIDE_WIDTH = 120
#: The worker group of ``RunScreen._show_the_rest``, and how long (s) it waits for rows.
REST_GROUP = "run-rest"
REST_WAIT = 0.5


def header_text(
    detail: RunDetail | None, summary: RunSummary | None, run_id: str, status: str = ""
) -> Text:
    """The run's header line; ``status`` is the one the app shows for it (runs list too)."""
    run = detail.run if detail is not None else summary
    text = Text()
    if run is None:
        text.append(f"Run {clean(run_id)}", style="bold")
        text.append("  loading…", style="dim")
        return text
    status = status or run.status
    text.append_text(fmt.status_text(status, with_label=False))
    text.append(f" {clean(run.name or run.runId)}", style="bold")
    text.append("  ")
    text.append_text(fmt.status_text(status))
    parts = [fmt.duration(run.durationMs if run.durationMs or run.endedAt else None)]
    tokens = fmt.total_tokens(run.metrics)
    if tokens:
        parts.append(f"{fmt.tokens(tokens)} tok")
    if fmt.total_cost(run.metrics):
        parts.append(fmt.cost(fmt.total_cost(run.metrics)))
    if run.model:
        parts.append(clean(run.model) + (f" ({clean(run.provider)})" if run.provider else ""))
    if run.spanCount:
        parts.append(fmt.plural(run.spanCount, "span"))
    text.append("  " + " · ".join(parts), style="dim")
    return text


def parse_problem_label(count: int) -> str:
    return f"{count} field{'s' if count != 1 else ''} could not be parsed"


def safe_filename(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id)[:120] or "run"


def progress_text(state: RunState) -> str:
    """What the timeline says while the first load has nothing to show yet."""
    if state.download is not None:
        return download_text(state.download)
    if state.waited is not None:
        return f"waiting for the backend to project the run… {state.waited} s"
    return ""


def download_text(download: Download) -> str:
    """How much of a big run's body has arrived, then that it is being decoded."""
    if download.done:
        return f"decoding {fmt.size(download.received)}…"
    if download.total:
        return f"receiving the run: {fmt.size(download.received)} of {fmt.size(download.total)}"
    return f"receiving the run: {fmt.size(download.received)}"


class RunScreen(CruxScreen):
    """One run: the folded agent timeline plus details of the highlighted row."""

    HELP_TITLE = "Run"
    COMMANDS = {RunCommands}
    #: the timeline's commands are in the palette even while another pane has the focus
    PALETTE_WIDGETS = ("#timeline",)
    AUTO_FOCUS = "#timeline"

    #: footer keys, most important first (see ``CruxFooter``)
    FOOTER_ORDER = (
        "run.back",
        "run.search",
        "timeline.infrastructure",
        "timeline.canonical",
        "timeline.next-error",
        "run.artifact",
        "run.diagnostics",
        "run.detail-pane",
        "timeline.details",
        "run.export",
        "run.copy-id",
    )

    BINDINGS = [
        Binding("escape", "back", "Back", id="run.back"),
        Binding("slash", "search", "Search", id="run.search"),
        Binding("p", "toggle_detail", "Detail pane", id="run.detail-pane"),
        Binding("a", "open_artifact", "Artifact", id="run.artifact"),
        Binding("y", "copy_span_id", "Copy id", id="run.copy-id"),
        Binding("Y", "copy_span_json", "Copy JSON", id="run.copy-json", show=False),
        Binding("x", "export", "Export", id="run.export"),
        Binding("r", "refresh", "Refresh", id="run.refresh", show=False),
        Binding("D", "focus_diagnostics", "Diagnostics", id="run.diagnostics"),
        Binding("t", "focus_timeline", "Timeline", id="run.timeline", show=False),
        Binding(CAUSE_KEY, "go_to_cause", "Why", id="run.cause", show=False),
        Binding("u", "jump_trigger", "Trigger span", id="run.trigger-span", show=False),
    ]

    #: what the loader has (the screen repaints from it: see ``watch_run_state``)
    run_state: reactive[RunState] = reactive(RunState, init=False)

    def __init__(self, run_id: str, summary: RunSummary | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.summary = summary
        #: fetches, polls and follows the run (made at compose: it needs the app)
        self.loader: RunLoader | None = None
        #: on_mount ran: the loader's state can be shown
        self._mounted = False
        self.search_text = ""
        self.match_count = 0
        self.hidden_count = 0
        self.row_count = 0
        self._detail_visible: bool | None = None
        self._current_subject: Subject | None = None
        #: the cursor was put on the member run this screen was opened with
        self._landed = False
        #: the D list has entries (symptoms or diagnostics): D moves up the footer
        self._listed_problems = False

    # ------------------------------------------------------------------ state

    @property
    def detail(self) -> RunDetail | None:
        return self.run_state.detail

    @property
    def partial(self) -> bool:
        """``detail`` is the preview painted from the body's rows; the whole one is on its way."""
        return self.run_state.partial

    @property
    def subjects(self) -> dict[str, Subject]:
        return self.run_state.subjects

    @property
    def error_message(self) -> str:
        return self.run_state.error

    @property
    def deleted(self) -> bool:
        """The backend no longer has this run: what is shown is the last copy; nothing polls
        until ``r``."""
        return self.run_state.deleted

    @property
    def parse_problems(self) -> list[str]:
        """Paths of RunDetail fields the last applied response had that could not be parsed."""
        return list(self.run_state.problems)

    @property
    def symptoms(self) -> list[Symptom]:
        """The operation's symptoms (``crux_tui.symptoms``), found off the UI thread."""
        return list(self.run_state.symptoms)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # The fetch starts now, not after the widgets are mounted: the backend serves the
        # run and the answer travels while the screen mounts (its state waits for on_mount).
        self.loader = RunLoader(
            self.run_id,
            self.app,
            ScreenRunner(self),
            self._loaded,
            summary=self.summary,
            painted=self._painted,
        )
        self.request_refresh()
        with Horizontal(id="run-header", classes="screen-header"):
            yield Static("", id="run-title", markup=False)
            yield ConnectionIndicator(id="run-connection")
        # laid out for the width it opens at (on_resize follows changes): setting the
        # classes after mount would style the body and everything in it again
        wide = self.app.size.width >= WIDE_WIDTH
        with Container(id="run-body", classes="-wide" if wide else "-narrow"):
            yield TimelineView(id="timeline")
            yield DetailPane(id="detail")
        yield DiagnosticsList(id="diagnostics")
        yield Input(placeholder="search spans — enter keeps, esc clears", id="run-search")
        yield Static("", id="run-statusline", markup=False)
        yield CruxFooter()

    def _update_header(self) -> None:
        run = self.detail.run if self.detail is not None else self.summary
        status = self.app.run_status(run) if run is not None else ""
        self.query_one("#run-title", Static).update(
            header_text(self.detail, self.summary, self.run_id, status)
        )

    def on_mount(self) -> None:
        self._update_header()
        self.query_one("#run-search", Input).display = False
        self.query_one(DiagnosticsList).display = False
        self._apply_layout(self.app.size.width)
        self.query_one(TimelineView).focus()
        self._update_statusline()
        self._mounted = True
        if self.loader is not None and self.loader.state is not self.run_state:
            self.run_state = self.loader.state  # what arrived while the screen mounted
        self.set_interval(0.25, self._poll_tick)
        self.run_worker(self._show_the_rest(), group=REST_GROUP, exit_on_error=False)

    async def _show_the_rest(self) -> None:
        """Once the first rows are painted (or a moment has passed without any): the
        detail pane's sections, which the rows are not shown later for."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.timeline.rows_painted(), REST_WAIT)
        self.detail_pane.add_sections()

    def on_unmount(self) -> None:
        if self.loader is not None:
            self.loader.close()

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        wide = width >= WIDE_WIDTH
        body = self.query_one("#run-body")
        body.set_class(wide, "-wide")
        body.set_class(not wide, "-narrow")
        if self._detail_visible is None:
            self.query_one(DetailPane).display = True
        else:
            self.query_one(DetailPane).display = self._detail_visible

    @property
    def timeline(self) -> TimelineView:
        return self.query_one(TimelineView)

    @property
    def detail_pane(self) -> DetailPane:
        return self.query_one(DetailPane)

    # ------------------------------------------------------------------ loading

    def request_refresh(self) -> None:
        """Refetch RunDetail; bursts coalesce (one request in flight, at most one queued)."""
        if self.loader is not None:
            self.loader.refresh()

    def apply_detail(
        self,
        detail: RunDetail,
        seq: int | None = None,
        problems: list[str] | None = None,
        *,
        partial: bool = False,
    ) -> bool:
        """Show ``detail`` unless a newer request was already applied (``RunLoader.apply``)."""
        assert self.loader is not None, "the screen is not mounted"
        return self.loader.apply(detail, seq, problems, partial=partial)

    async def _painted(self) -> None:
        """Until the timeline has painted the run the loader published last (a big one is
        laid out in a thread first); the loader bounds the wait."""
        while not self._mounted or self.timeline.model is not self.run_state.model:
            await asyncio.sleep(0.005)
        await self.timeline.rows_painted()

    def _loaded(self, state: RunState) -> None:
        if self.is_attached and self._mounted:
            self.run_state = state

    def watch_run_state(self, old: RunState, new: RunState) -> None:
        """Repaint what changed: the run, its symptoms, what the first load is doing, a
        failed load; the status line always."""
        if new.detail is not old.detail and new.detail is not None:
            self._show_detail(new.detail, old.problems, new.problems, new.model)
        elif new.error and new.error != old.error:
            self._show_row(self.timeline.selected_row)  # no longer loading
            if new.detail is None or new.partial:
                self.query_one("#run-title", Static).update(
                    Text(f"Run {clean(self.run_id)} — {new.error}", style=fmt.ERROR_STYLE)
                )
        if new.symptoms != old.symptoms:
            self._show_symptoms(list(new.symptoms))
        progress = progress_text(new)
        if progress != progress_text(old):
            self.timeline.show_progress(progress)
        self._update_statusline()

    def _show_detail(
        self,
        detail: RunDetail,
        problems_before: tuple[str, ...],
        problems: tuple[str, ...],
        model: TimelineModel | None = None,
    ) -> None:
        if problems and len(problems) != len(problems_before):
            shown = ", ".join(clean(p) for p in problems[:3]) + (" …" if len(problems) > 3 else "")
            self.notify(
                f"{parse_problem_label(len(problems))} (shown with defaults): {shown}",
                title="Unexpected RunDetail from the backend",
                severity="warning",
                markup=False,
                timeout=8,
            )
        self.app.note_presented(detail.run)
        self._update_header()
        self.timeline.set_detail(detail, model)
        self._land_on_member(detail)
        diagnostics = self.query_one(DiagnosticsList)
        diagnostics.set_diagnostics(detail.diagnostics)
        self._show_diagnostics_list(diagnostics)
        self._show_row(self.timeline.selected_row)

    def _show_symptoms(self, symptoms: list[Symptom]) -> None:
        """With the diagnostics (``D``), in the detail pane of the spans they name, and
        counted on the status line."""
        diagnostics = self.query_one(DiagnosticsList)
        diagnostics.set_symptoms(symptoms)
        self._show_diagnostics_list(diagnostics)
        self.detail_pane.set_symptoms(symptoms)

    def _show_diagnostics_list(self, diagnostics: DiagnosticsList) -> None:
        """The ``D`` list is shown while it has entries, and ``D`` moves up the footer."""
        diagnostics.display = diagnostics.has_entries
        if diagnostics.has_entries != self._listed_problems:
            self._listed_problems = diagnostics.has_entries
            self.refresh_bindings()  # the footer orders its keys again

    def footer_order(self) -> tuple[str, ...]:
        """``D`` comes right after search on a run with symptoms or diagnostics."""
        if not self._listed_problems:
            return self.FOOTER_ORDER
        first = ("run.back", "run.search", "run.diagnostics")
        return (*first, *(key for key in self.FOOTER_ORDER if key not in first))

    def _land_on_member(self, detail: RunDetail) -> None:
        """Opened with a member run's id: put the cursor on that run inside its operation."""
        if self._landed:
            return
        self._landed = True
        if self.run_id != operation_id(detail) and any(
            m.run.runId == self.run_id for m in items(detail.memberRuns)
        ):
            self.timeline.select_span(f"run:{self.run_id}")

    # ------------------------------------------------------------------ live & polling

    def own_ids(self) -> set[str]:
        """This operation's id, its member runs' ids, the id it was opened with (and the
        trace id a v2 backend may name)."""
        return self.loader.own_ids() if self.loader is not None else {self.run_id}

    def on_live_event(self, message: LiveEvent) -> None:
        if self.loader is not None:
            self.loader.on_event(message.event)

    def _poll_tick(self) -> None:
        if self.loader is not None:
            self.loader.tick(streaming=self.app.connection_state == "live")

    # ------------------------------------------------------------------ timeline messages

    def subject_for(self, row: Any) -> Subject | None:
        if row is None:
            return None
        source = getattr(row, "source", None)
        if isinstance(source, RunDetailNode | msgspec.Struct) and hasattr(source, "spanId"):
            # Prefer the freshest object for this id (the row may predate a refetch).
            fresh = self.subjects.get(getattr(source, "id", "") or "")
            return fresh or cast(Subject, source)
        for key in (
            getattr(row, "node_id", ""),
            getattr(row, "key", ""),
            getattr(row, "span_id", ""),
        ):
            if key and key in self.subjects:
                return self.subjects[key]
        return None

    def _show_row(self, row: Any) -> None:
        subject = self.subject_for(row)
        self._current_subject = subject
        self.detail_pane.show(subject, self.detail, loading=self.partial and not self.error_message)

    @on(TimelineView.SpanHighlighted)
    def _span_highlighted(self, event: TimelineView.SpanHighlighted) -> None:
        self._show_row(event.row)
        self._update_statusline()

    @on(TimelineView.SpanActivated)
    def _span_activated(self, event: TimelineView.SpanActivated) -> None:
        self._show_row(event.row)
        pane = self.detail_pane
        if not pane.display:
            self._detail_visible = True
            pane.display = True

    @on(TimelineView.LayoutChanged)
    def _layout_changed(self, event: TimelineView.LayoutChanged) -> None:
        self.hidden_count = event.hidden_count
        self.row_count = event.row_count
        self.match_count = event.match_count
        self._update_statusline()

    @on(DetailPane.ArtifactRequested)
    def _artifact_requested(self, event: DetailPane.ArtifactRequested) -> None:
        self._open_artifact(event.artifact, event.subject)

    def _open_artifact(self, artifact: ArtifactSummary, subject: Subject) -> None:
        from crux_tui.app.screens.artifact import ArtifactScreen

        evidence = self.detail_pane.evidence if subject is self.detail_pane.subject else None
        self.app.push_screen(ArtifactScreen(artifact, subject, evidence=evidence))

    @on(DiagnosticsList.JumpRequested)
    def _jump(self, event: DiagnosticsList.JumpRequested) -> None:
        for span_id in event.span_ids:
            if self.timeline.select_span(span_id):
                self.timeline.focus()
                return
        if event.span_ids:
            self.notify(
                "The spans this diagnostic names are not in the timeline",
                severity="warning",
                markup=False,
            )
            return
        # about the run: go to the span its reconciled status came from, when it is known
        code = clean(event.diagnostic.code or "this diagnostic")
        cause = status_cause(self.detail.run) if self.detail is not None else None
        if cause is not None and self.go_to_span(cause.cause):
            self.notify(
                f"{code} is about the run; this span caused its status", timeout=4, markup=False
            )
            return
        message = clean(event.diagnostic.message)
        self.notify(
            f"{code} is about the run as a whole" + (f": {message}" if message else ""),
            timeout=6,
            markup=False,
        )

    @on(DiagnosticsList.SymptomSelected)
    def _jump_to_symptom(self, event: DiagnosticsList.SymptomSelected) -> None:
        """Go to the first span the symptom names that this timeline has, revealing it."""
        for span_id in event.symptom.spanIds:
            turned = self.timeline.reveal_span(span_id)
            if turned is None:
                continue
            self.timeline.focus()
            if turned:
                self.notify(f"Turned {turned} on to show it", timeout=3, markup=False)
            return
        self.notify(
            f"The spans of “{clean(event.symptom.title)}” are in another run",
            severity="warning",
            markup=False,
        )

    def go_to_span(self, span_id: str) -> bool:
        """Select ``span_id`` in the timeline, turning infrastructure or details on if they
        hide it; says so, or that the span is not in the timeline."""
        turned = self.timeline.reveal_span(span_id)
        if turned is None:
            self.notify(
                f"Span {clean(span_id)} is not in this timeline", severity="warning", markup=False
            )
            return False
        self.timeline.focus()
        if turned:
            self.notify(f"Turned {turned} on to show it", timeout=3, markup=False)
        return True

    # ------------------------------------------------------------------ search

    @on(Input.Changed, "#run-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value
        self.match_count = self.timeline.set_search(event.value)
        self._update_statusline()

    @on(Input.Submitted, "#run-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.timeline.focus()

    # ------------------------------------------------------------------ status line

    def _update_statusline(self) -> None:
        """Rows, what the user is looking for (search, errors, diagnostics), problems, then
        what is folded and the toggles (the least needed: cut first on a narrow terminal)."""
        text = Text()
        text.append(fmt.plural(self.row_count, "row"), style="dim")
        if self.partial and not self.error_message:
            text.append(" · loading span details…", style="bold")
            if self.run_state.download is not None:
                text.append(f" {download_text(self.run_state.download)}", style="dim")
        if self.search_text:
            matches = fmt.plural(self.match_count, "match", "matches")
            place = self.timeline.match_position()
            if place:
                matches = f"match {place} of {self.match_count} (n/N)"
            text.append(f" · search “{clean(self.search_text)}”: {matches}", style="bold")
        if self.detail is not None and len(items(self.detail.memberRuns)) > 1:
            children = sum(
                1 for m in items(self.detail.memberRuns) if m.run.runId != operation_id(self.detail)
            )
            if children:
                label = "child run" if children == 1 else "child runs"
                text.append(f" · {MEMBER_RUN_GLYPH} {children} {label}", style=theme.MEMBER)
        place, errors = self.timeline.error_position()
        if errors:
            where = f"error {place} of {errors}" if place else fmt.plural(errors, "error")
            text.append(f" · {where} (e/E)", style="bold")
        diagnostics = len(items(self.detail.diagnostics)) if self.detail is not None else 0
        if self.symptoms:  # D lists them, with the diagnostics
            text.append(" · ")
            text.append(symptom_count_text(len(self.symptoms)), style=fmt.SYMPTOM_STYLE)
            if not diagnostics:
                text.append(" (D)", style="bold")
        if diagnostics:
            text.append(f" · {fmt.plural(diagnostics, 'diagnostic')} (D)", style="bold")
        if self.parse_problems:
            text.append(f" · ⚠ {parse_problem_label(len(self.parse_problems))}", style="bold")
        if self.deleted and self.detail is not None:
            text.append(
                " · ⚠ deleted at the backend: this is the last copy (r asks again)",
                style=fmt.ERROR_STYLE,
            )
        if self.error_message:
            text.append(f" · ⚠ {self.error_message}", style="bold")
        if self.hidden_count:
            text.append(f" · {fmt.plural(self.hidden_count, 'span')} folded", style="dim")
        options = self.timeline.options
        model = self.timeline.model
        infra = model.infrastructure_count if model is not None else 0
        shown = options.show_infrastructure
        for label, enabled, note in (
            ("infra", shown, f"{infra} {'shown' if shown else 'hidden'}" if infra else ""),
            ("canonical", options.canonical_parents, ""),
            ("details", options.show_details, ""),
        ):
            text.append(f" · {label} ", style="dim")
            text.append("on" if enabled else "off", style="bold" if enabled else "dim")
            if note:
                text.append(f" ({note})", style="dim")
        self.query_one("#run-statusline", Static).update(text)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        search = self.query_one("#run-search", Input)
        if search.display:
            search.value = ""
            search.display = False
            self.search_text = ""
            self.match_count = self.timeline.set_search("")
            self.timeline.focus()
            self._update_statusline()
            return
        if not self.timeline.has_focus:  # escape leaves the diagnostics list or the pane first
            self.timeline.focus()
            return
        self.app.pop_screen()

    def action_search(self) -> None:
        search = self.query_one("#run-search", Input)
        search.display = True
        search.focus()

    def action_toggle_detail(self) -> None:
        pane = self.detail_pane
        self._detail_visible = not pane.display
        pane.display = self._detail_visible
        if not pane.display and pane.has_focus_within:
            self.timeline.focus()

    def action_focus_timeline(self) -> None:
        self.timeline.focus()

    def action_focus_diagnostics(self) -> None:
        diagnostics = self.query_one(DiagnosticsList)
        if diagnostics.display:
            diagnostics.focus()
        else:
            self.notify("This run has no diagnostics or symptoms", timeout=2, markup=False)

    def action_go_to_cause(self) -> None:
        """Go to the span the selected row's reconciled status came from."""
        subject = self._current_subject
        cause = status_cause(subject) if subject is not None else None
        if cause is None:
            self.notify(
                "No other span decided the status of the selected row", timeout=3, markup=False
            )
            return
        self.go_to_span(cause.cause)

    def action_open_artifact(self) -> None:
        """One artifact opens in the viewer; several are offered as a list first."""
        pane = self.detail_pane
        artifacts = pane.artifacts
        if len(artifacts) > 1 and pane.subject is not None:
            from crux_tui.app.screens.artifact_picker import ArtifactPicker
            from crux_tui.app.widgets.detail_pane import subject_label

            subject = pane.subject

            def chosen(artifact: ArtifactSummary | None) -> None:
                if artifact is not None:
                    self._open_artifact(artifact, subject)

            self.app.push_screen(ArtifactPicker(artifacts, subject_label(subject)), chosen)
            return
        if not pane.request_artifact():
            self.notify("The selected row has no artifacts", timeout=2, markup=False)

    def action_copy_span_id(self) -> None:
        subject = self._current_subject
        if subject is None or not subject.spanId:
            self.notify("No span selected", timeout=2, markup=False)
            return
        self.app.copy_text(subject.spanId, f"span id {clean(subject.spanId)}")

    def _still_loading(self) -> bool:
        if self.partial:
            self.notify(
                "The run's span details are still loading",
                severity="warning",
                timeout=2,
                markup=False,
            )
        return self.partial

    def action_copy_span_json(self) -> None:
        subject = self._current_subject
        if self._still_loading():
            return
        if subject is None:
            self.notify("No span selected", timeout=2, markup=False)
            return
        self.app.copy_text(span_json(subject, inert=False), "span JSON", kind="json")

    def export_path(self) -> Path:
        return Path.cwd() / f"crux-run-{safe_filename(self.run_id)}.json"

    def action_export(self) -> None:
        if self.detail is None:
            self.notify("The run has not loaded yet", severity="warning", timeout=2, markup=False)
            return
        if self._still_loading():
            return
        path = self.export_path()
        data = msgspec.json.format(msgspec.json.encode(self.detail), indent=2)
        try:
            path.write_bytes(data + b"\n")
        except OSError as error:
            self.notify(f"Export failed: {clean(str(error))}", severity="error", markup=False)
            return
        self.notify(f"Exported run to {clean(str(path))}", markup=False, timeout=6)

    def action_refresh(self) -> None:
        self.request_refresh()

    def action_jump_trigger(self) -> None:
        """From a member run's row to the span of its parent run that started it."""
        member = member_of(self._current_subject, self.detail)
        if member is None:
            self.notify(
                "Select a child run (↳ run) to jump to the span that started it",
                timeout=3,
                markup=False,
            )
            return
        trigger = member.triggeredBySpanId
        if not trigger or not self.timeline.select_span(trigger):
            self.notify(
                f"The span that started this run ({clean(trigger) or 'none recorded'}) "
                "is not in this operation",
                severity="warning",
                markup=False,
                timeout=4,
            )
