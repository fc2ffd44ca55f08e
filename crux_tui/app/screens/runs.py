"""Runs screen: the runs list (one row per operation from a v5 backend), in the backend's
order, live, filterable, paged; deleting an operation behind a confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

import msgspec
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from crux_tui.app import format as fmt
from crux_tui.app import theme
from crux_tui.app.commands import RunsCommands
from crux_tui.app.messages import LiveEvent
from crux_tui.app.operation import child_count_text, topology_text
from crux_tui.app.run_columns import Column, plan_columns
from crux_tui.app.screens.base import CruxScreen, ScreenRunner
from crux_tui.app.widgets.connection import ConnectionIndicator
from crux_tui.app.widgets.footer import CruxFooter
from crux_tui.contract import errors as crux_errors
from crux_tui.contract.models import RunSummary, items
from crux_tui.contract.statuses import SUSPENDED
from crux_tui.contract.vocabulary import (
    DEGRADED_DELIVERY_GLYPH,
    FAILED_CHILDREN_GLYPH,
    symptom_count_text,
)
from crux_tui.live.runs_loader import RunsLoader, RunsState
from crux_tui.sanitize import clean

#: Load the next page when the cursor gets this close to the end of the table.
PAGE_MARGIN = 5

#: ``f`` cycles through these (label, server ``status`` query).
STATUS_FILTERS: list[tuple[str, str | None]] = [
    ("all", None),
    ("running", "running"),
    ("error", "error"),
    ("ok", "ok"),
    ("suspended", "suspended"),
    ("incomplete", "incomplete"),
    ("stale", "stale"),
    ("cancelled", "cancelled,blocked"),
]


def empty_state_text(url: str) -> Text:
    text = Text()
    text.append("No runs yet.\n\n", style="bold")
    text.append(f"This backend ({clean(url)}) has not received any records. To send some:\n\n")
    text.append("  • From a Convex deployment: start devtools and expose them with a tunnel\n")
    text.append("      crux dev\n", style=theme.COMMAND)
    text.append(
        "      npx convex env set DEVTOOLS_URL https://your-tunnel.example\n", style=theme.COMMAND
    )
    text.append("  • Run the embedded backend locally and point DEVTOOLS_URL at it\n")
    text.append("      crux-tui serve\n", style=theme.COMMAND)
    text.append("  • Look around with sample runs\n")
    text.append("      crux-tui demo\n", style=theme.COMMAND)
    text.append("\nNew runs appear here as soon as their records arrive.", style="dim")
    return text


def unreachable_text(url: str, message: str, *, reachable: bool = False) -> Text:
    """The empty runs list when a read failed; each problem is said once: ``message``
    (from ``describe_error``) when the backend answered, the start hint when it did not."""
    text = Text()
    if reachable:
        text.append(f"{clean(message)}\n\n", style=fmt.ERROR_STYLE)
        text.append("Check the URL (--url or CRUX_DEVTOOLS_URL) — this screen keeps retrying.")
        return text
    text.append(f"Cannot reach {clean(url)}\n\n", style=fmt.ERROR_STYLE)
    text.append("Start a backend with ")
    text.append("crux-tui serve", style=theme.COMMAND)
    text.append(" or ")
    text.append("crux dev", style=theme.COMMAND)
    text.append(" — this screen keeps retrying.")
    return text


def health_text(run: RunSummary, symptoms: int | None = None) -> Text:
    """Compact health marks: topology, ``symptoms`` found in the run (``⚑ 2 symptoms``),
    child runs, failed/suspended children, delivery, gaps, ordering (the status itself is in
    its own column)."""
    text = Text()

    def mark(value: str | Text, style: str = "") -> None:
        if text.plain:
            text.append(" ")
        if isinstance(value, Text):
            text.append_text(value)
        else:
            text.append(value, style=style)

    topology = topology_text(run)  # first: an operation without its root, a conflict
    if topology.plain:
        mark(topology)
    if symptoms:
        mark(symptom_count_text(symptoms), fmt.SYMPTOM_STYLE)
    children = child_count_text(run)
    if children.plain:
        mark(children)
    if run.failedChildCount:
        mark(f"{FAILED_CHILDREN_GLYPH}{run.failedChildCount}", fmt.ERROR_STYLE)
    if run.suspendedChildCount:
        mark(f"{fmt.status_glyph(SUSPENDED)}{run.suspendedChildCount}", fmt.status_style(SUSPENDED))
    health = run.deliveryHealth
    if health is not None and health.status == "degraded":
        rejected = str(health.rejected) if health.rejected else ""
        mark(f"{DEGRADED_DELIVERY_GLYPH}{rejected}", fmt.WARN_STYLE)
    if run.gapCount:
        mark(f"gap{run.gapCount}", fmt.WARN_STYLE)
    if run.orderingConfidence == "partial" and not run.gapCount:
        mark("~order", "dim")
    return text


def run_matches(run: RunSummary, query: str) -> bool:
    if not query:
        return True
    needle = query.lower()
    haystack = " ".join(
        (run.runId, run.traceId, run.name, run.rootPrimitive, run.status, run.model, run.sessionId)
    ).lower()
    return all(part in haystack for part in needle.split())


def content_widths(
    runs: list[RunSummary], symptoms: Mapping[str, int | None] | None = None
) -> dict[str, int]:
    """The widest cell of each content-sized column (see ``run_columns.plan_columns``);
    ``symptoms`` is the symptom count shown per run id (the health cell says it)."""
    counts = symptoms or {}
    widths = {"name": 0, "primitive": 0, "model": 0, "health": 0}
    for run in runs:
        widths["name"] = max(widths["name"], len(clean(run.name or run.runId)))
        widths["primitive"] = max(widths["primitive"], len(clean(run.rootPrimitive)))
        widths["model"] = max(widths["model"], len(clean(run.model)))
        health = health_text(run, counts.get(run.runId))
        widths["health"] = max(widths["health"], health.cell_len)
    return widths


def run_cells(
    run: RunSummary,
    columns: tuple[str, ...],
    now: datetime | None = None,
    symptoms: int | None = None,
) -> list[Any]:
    status = run.status or "unknown"
    cells = {
        "status": Text(fmt.status_glyph(status), style=fmt.status_style(status)),
        "name": Text(clean(run.name or run.runId)),
        "state": fmt.status_text(status),
        "primitive": Text(clean(run.rootPrimitive), style="dim"),
        "model": Text(clean(run.model)),
        "started": Text(fmt.relative_time(run.startedAt or run.firstSeenAt, now)),
        "duration": Text(fmt.duration(run.durationMs if run.durationMs or run.endedAt else None)),
        "tokens": Text(fmt.tokens(fmt.total_tokens(run.metrics))),
        "cost": Text(fmt.cost(fmt.total_cost(run.metrics))),
        "spans": Text(fmt.count(run.spanCount)),
        "health": health_text(run, symptoms),
    }
    return [cells[key] for key in columns]


class RunsTable(DataTable[Any]):
    """The runs table (a DataTable keyed by runId), moved through like the timeline."""

    HELP_TITLE = "Runs table"
    BINDINGS = [
        Binding("down,j", "cursor_down", "Next run", show=False, id="runs.cursor-down"),
        Binding("up,k", "cursor_up", "Previous run", show=False, id="runs.cursor-up"),
        Binding("home,g", "scroll_top", "First run", show=False, id="runs.first"),
        Binding("end,G", "scroll_bottom", "Last run", show=False, id="runs.last"),
    ]


class RunsScreen(CruxScreen):
    """List of runs; Enter opens one."""

    HELP_TITLE = "Runs"
    COMMANDS = {RunsCommands}
    #: Keys typed while the app starts (say, during a long `open`) go to the list, not the
    #: hidden filter field that would otherwise be focused first.
    AUTO_FOCUS = "#runs-table"
    #: footer keys, most important first (see ``CruxFooter``)
    FOOTER_ORDER = ("runs.filter", "runs.status", "runs.refresh", "app.quit")

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="runs.filter"),
        Binding("f", "cycle_status", "Status filter", id="runs.status"),
        Binding("enter", "open_run", "Open run", id="runs.open", show=False),
        Binding("r", "refresh", "Refresh", id="runs.refresh"),
        Binding("escape", "clear_filter", "Clear filter", id="runs.clear", show=False),
        Binding("y", "copy_run_id", "Copy run id", id="runs.copy-id", show=False),
        Binding("D,delete", "delete_run", "Delete", id="runs.delete", show=False),
    ]

    #: what the loader has (the screen repaints from it: see ``watch_runs_state``)
    runs_state: reactive[RunsState] = reactive(RunsState, init=False)

    def __init__(self) -> None:
        super().__init__()
        #: reads, pages, polls and follows the list (made on mount: it needs the app)
        self.loader: RunsLoader | None = None
        self.query_text = ""
        self.status_index = 0
        self.columns: tuple[Column, ...] = ()
        #: run id -> the symptom count its health cell shows
        self._shown_symptoms: dict[str, int | None] = {}

    # ------------------------------------------------------------------ state

    @property
    def runs(self) -> list[RunSummary]:
        """The rows loaded, in the backend's order."""
        return self.runs_state.runs

    @property
    def next_cursor(self) -> str | None:
        return self.runs_state.next_cursor

    @property
    def loaded_once(self) -> bool:
        return self.runs_state.loaded_once

    @property
    def error_message(self) -> str:
        return self.runs_state.error

    @property
    def error_reachable(self) -> bool:
        return self.runs_state.error_reachable

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="runs-header", classes="screen-header"):
            yield Static("", id="runs-title", markup=False)
            yield ConnectionIndicator(id="runs-connection")
        yield Input(
            placeholder="filter runs (name, id, model, status…) — esc clears", id="runs-filter"
        )
        table = RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="runs-empty", markup=False)
        yield CruxFooter()

    def _setup_columns(self, width: int, runs: list[RunSummary]) -> None:
        """Lay the columns out for ``width`` and the rows shown (the name takes what is left)."""
        columns = self._plan_columns(width, runs)
        if columns == self.columns:
            return
        self.columns = columns
        table = self.query_one(RunsTable)
        table.clear(columns=True)
        for column in columns:
            table.add_column(column.label, key=column.key, width=column.width)

    def _plan_columns(self, width: int, runs: list[RunSummary]) -> tuple[Column, ...]:
        return plan_columns(width, content_widths(runs, self._shown_symptoms))

    def on_resize(self, event: Any) -> None:
        if self.loaded_once:
            self._rebuild_table()

    def on_mount(self) -> None:
        self.loader = RunsLoader(
            self.app,
            ScreenRunner(self),
            self._loaded,
            visible=self.visible_runs,
            shown=lambda: self.is_active,
        )
        self._setup_columns(self.app.size.width, [])
        self.query_one("#runs-filter", Input).display = False
        self._update_title()
        self._update_empty()
        self.table.focus()
        self.request_refresh()
        self.set_interval(0.5, self._poll_tick)

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def status_filter(self) -> tuple[str, str | None]:
        return STATUS_FILTERS[self.status_index]

    def visible_runs(self) -> list[RunSummary]:
        """The loaded runs the text filter keeps, each with the status the app shows for it
        (``CruxApp.run_status``: the run's header says the same)."""
        shown = (self._presented(run) for run in self.runs)
        return [run for run in shown if run_matches(run, self.query_text)]

    def _presented(self, run: RunSummary) -> RunSummary:
        status = self.app.run_status(run)
        return run if status == run.status else msgspec.structs.replace(run, status=status)

    # ------------------------------------------------------------------ loading

    def request_refresh(self) -> None:
        """Read the list again; bursts coalesce (one read in flight, at most one queued)."""
        if self.loader is not None:
            self.loader.refresh()

    def load_next_page(self) -> None:
        if self.loader is not None:
            self.loader.load_next_page()

    def _loaded(self, state: RunsState) -> None:
        if self.is_attached:
            self.runs_state = state

    def watch_runs_state(self, old: RunsState, new: RunsState) -> None:
        """Repaint what changed: the rows (or the title and the empty state after a failed
        read), and the symptom marks."""
        if (
            new.runs is not old.runs
            or new.next_cursor != old.next_cursor
            or new.loaded_once != old.loaded_once
        ):
            self._rebuild_table()
            self._maybe_fill_filtered()
        elif (new.error, new.error_reachable) != (old.error, old.error_reachable):
            self._update_title()
            self._update_empty()
        if new.marks != old.marks:
            self._show_symptom_marks()

    def _maybe_fill_filtered(self) -> None:
        """With a text filter, keep paging while few loaded runs match."""
        if self.query_text and self.loader is not None:
            self.loader.fill(len(self.visible_runs()))

    # ------------------------------------------------------------------ symptoms

    def _symptom_count(self, run: RunSummary) -> int | None:
        return self.app.symptom_book.count(run.operationId or run.runId)

    def symptoms_to_find(self) -> list[RunSummary]:
        """The rows the symptom pass would read now (none: every row it covers is marked)."""
        return self.loader.symptoms_to_find() if self.loader is not None else []

    def _show_symptom_marks(self) -> None:
        """Show the symptom counts that changed: in their health cells, or by laying the
        table out again when the health column comes in or needs more room for them."""
        if not self.is_attached or not self.loaded_once:
            return
        visible = self.visible_runs()
        changed = {
            run.runId: count
            for run in visible
            if self._shown_symptoms.get(run.runId) != (count := self._symptom_count(run))
        }
        if not changed:
            return
        self._shown_symptoms.update(changed)
        width = self.size.width or self.app.size.width
        if self._plan_columns(width, visible) != self.columns:
            self._rebuild_table()
            return
        if not any(column.key == "health" for column in self.columns):
            return
        for run in visible:
            if run.runId in changed:
                try:
                    self.table.update_cell(
                        run.runId, "health", health_text(run, changed[run.runId])
                    )
                except Exception:  # the row left the table meanwhile
                    continue

    # ------------------------------------------------------------------ rendering

    def _rebuild_table(self) -> None:
        table = self.table
        selected = self.selected_run_id()
        visible = self.visible_runs()
        self._shown_symptoms = {run.runId: self._symptom_count(run) for run in visible}
        self._setup_columns(self.size.width or self.app.size.width, visible)
        table.clear()
        keys = tuple(column.key for column in self.columns)
        now = self.app.now()
        for run in visible:
            count = self._shown_symptoms[run.runId]
            table.add_row(*run_cells(run, keys, now, count), key=run.runId)
        if visible:
            index = 0
            if selected is not None:
                try:
                    index = table.get_row_index(selected)
                except Exception:
                    index = 0
            table.move_cursor(row=index, animate=False, scroll=True)
        self._update_title()
        self._update_empty()

    def selected_run_id(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value if key is not None else None

    def selected_run(self) -> RunSummary | None:
        run_id = self.selected_run_id()
        return next((r for r in self.runs if r.runId == run_id), None)

    def _update_title(self) -> None:
        text = Text()
        text.append("Crux runs", style="bold")
        text.append(f"  {self.app.source}", style="bold")
        shown = len(self.visible_runs())
        total = len(self.runs)
        count = f"{shown}" if shown == total else f"{shown} of {total}"
        text.append(
            f"  {count} loaded" + (" (more below)" if self.next_cursor else ""), style="dim"
        )
        label, _ = self.status_filter
        if label != "all":
            text.append(f"  status: {label}", style="bold")
        if self.query_text:
            text.append(f"  filter: {clean(self.query_text)}", style="bold")
        if self.error_message and self.runs:
            text.append(f"  ⚠ {self.error_message}", style=fmt.ERROR_STYLE)
        self.query_one("#runs-title", Static).update(text)

    def _update_empty(self) -> None:
        empty = self.query_one("#runs-empty", Static)
        table = self.table
        url = self.app.url
        if self.error_message and not self.runs:
            empty.update(unreachable_text(url, self.error_message, reachable=self.error_reachable))
            show = True
        elif not self.loaded_once:
            empty.update(Text(f"Loading runs from {clean(url)}…", style="dim"))
            show = True
        elif not self.runs:
            if self.status_filter[1]:
                empty.update(
                    Text(f"No {self.status_filter[0]} runs. Press f to change the status filter.")
                )
            else:
                empty.update(empty_state_text(url))
            show = True
        elif not self.visible_runs():
            empty.update(Text(f"No loaded runs match “{clean(self.query_text)}” — esc clears."))
            show = True
        else:
            show = False
        empty.display = show
        table.display = not show or bool(self.visible_runs())

    # ------------------------------------------------------------------ live

    def on_live_event(self, message: LiveEvent) -> None:
        if self.loader is not None:
            self.loader.on_event(message.event)

    def on_screen_suspend(self) -> None:
        if self.loader is not None:
            self.loader.suspend()  # the opened run comes first

    def on_screen_resume(self) -> None:
        if self.loaded_once:
            # a run opened meanwhile may have said more about its status, or found symptoms
            self._rebuild_table()
        if self.loader is not None:
            self.loader.resume()  # the symptom pass goes on where it was cut

    def _poll_tick(self) -> None:
        if self.loader is not None:
            self.loader.tick(streaming=self.app.connection_state == "live")

    # ------------------------------------------------------------------ events

    @on(DataTable.RowSelected, "#runs-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()

    @on(DataTable.RowHighlighted, "#runs-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.table.row_count - PAGE_MARGIN:
            self.load_next_page()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._rebuild_table()
        self._maybe_fill_filtered()

    @on(Input.Submitted, "#runs-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    # ------------------------------------------------------------------ actions

    def action_filter(self) -> None:
        field = self.query_one("#runs-filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#runs-filter", Input)
        had_filter = bool(self.query_text) or field.display
        field.value = ""
        field.display = False
        self.query_text = ""
        self.table.focus()
        if had_filter:
            self._rebuild_table()

    def action_cycle_status(self) -> None:
        self.status_index = (self.status_index + 1) % len(STATUS_FILTERS)
        if self.loader is not None:
            self.loader.set_status(self.status_filter[1])  # repaints, then reads
        self.notify(f"Status filter: {self.status_filter[0]}", timeout=2, markup=False)

    def action_refresh(self) -> None:
        self.request_refresh()

    def action_open_run(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        from crux_tui.app.screens.run import RunScreen

        self.app.push_screen(RunScreen(run.runId, summary=run))

    def action_delete_run(self) -> None:
        """Delete the selected operation (all its member runs), after a confirmation."""
        run = self.selected_run()
        if run is None:
            return
        from crux_tui.app.screens.confirm import ConfirmScreen

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.run_worker(
                    self._delete(run),
                    group="runs-delete",
                    description="delete run",
                    exit_on_error=False,
                )

        self.app.push_screen(
            ConfirmScreen("Delete run", delete_question(run), confirm="delete"), answered
        )

    async def _delete(self, run: RunSummary) -> None:
        name = clean(run.name or run.runId)
        try:
            result = await self.app.client.delete_run(run.runId)
        except crux_errors.NotFound:
            self.notify(f"“{name}” is already gone", timeout=4, markup=False)
        except crux_errors.HttpError as error:
            if error.status == 405:
                message = "this backend cannot delete runs"
            else:
                message = crux_errors.describe_error(error, self.app.url)
            self.notify(f"Could not delete “{name}”: {message}", severity="error", markup=False)
            return
        except crux_errors.CruxError as error:
            message = crux_errors.describe_error(error, self.app.url)
            self.notify(f"Could not delete “{name}”: {message}", severity="error", markup=False)
            return
        else:
            gone = items(result.operationIds) or [run.runId]
            if self.loader is not None:
                self.loader.forget(gone)  # repaints
            self.notify(f"Deleted “{name}”", markup=False, timeout=4)
        self.request_refresh()

    def action_copy_run_id(self) -> None:
        run_id = self.selected_run_id()
        if run_id:
            self.app.copy_text(run_id, f"run id {clean(run_id)}")

    def palette_commands(self) -> list[Any]:
        from crux_tui.app.commands import PaletteCommand

        commands = [
            PaletteCommand(
                f"Status filter: {label}",
                "Show only runs with this status",
                partial(self._set_status, index),
            )
            for index, (label, _) in enumerate(STATUS_FILTERS)
        ]
        return commands

    def _set_status(self, index: int) -> None:
        self.status_index = (index - 1) % len(STATUS_FILTERS)
        self.action_cycle_status()


def delete_question(run: RunSummary) -> Text:
    """What the confirmation says: which operation, how many runs go with it."""
    text = Text("Delete ")
    text.append(f"“{clean(run.name or run.runId)}”", style="bold")
    text.append(f" ({clean(run.runId)})", style="dim")
    if run.childRunCount:
        plural = "run" if run.childRunCount == 1 else "runs"
        text.append(f" and its {run.childRunCount} child {plural}")
    text.append(" from the backend?\nEvery record of it goes; this cannot be undone.")
    return text
