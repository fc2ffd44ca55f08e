"""The folded agent timeline: a Line-API ``ScrollView`` over :mod:`crux_tui.timeline` rows.

One line per visible row (no widget per span). Each line: cursor marker, indentation,
expand glyph, status glyph, display-kind chip, label, infra/reparented markers,
duration, and a waterfall bar on the run's time axis. Rendered strips are cached in an
LRU keyed by (row key, width, selected, match, expanded, layout generation); cursor
moves refresh only the two touched lines.

Everything from records is cleaned by the timeline model (``sanitize.clean``) and
rendered as ``rich.text.Text`` with explicit styles, never as markup.
"""

from __future__ import annotations

import asyncio
import threading
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState, get_current_worker

from crux_tui.app import format as fmt
from crux_tui.contract.models import RunDetail, items
from crux_tui.contract.statuses import (
    BAR_DONE,
    BAR_ERROR,
    BAR_GLYPHS,
    ERROR_STATUSES,
    RECONCILED_STATUSES,
)
from crux_tui.contract.vocabulary import (
    ERROR_OBJECT_GLYPH,
    FOLDED_MARK,
    INFRASTRUCTURE_MARK,
    MEMBER_RUN_GLYPH,
    MEMBER_RUN_WORD,
    MOVED_FROM,
    MOVED_GLYPH,
)
from crux_tui.timeline import (
    TimelineLayout,
    TimelineModel,
    TimelineOptions,
    TimelineRow,
    bar_geometry,
    build_model,
    collapse_all,
    error_targets,
    expand_all,
    infrastructure_keys,
    layout,
    match_targets,
    member_targets,
    opening_options,
    reveal,
    reveal_all,
    step_target,
    structure,
)

#: A worker warming the other toggles' structures waits this long (s) for the rows to paint.
WARM_WAIT = 2.0


class TimelineView(ScrollView, can_focus=True):
    """Virtualized folded timeline of one run."""

    HELP_TITLE = "Timeline"
    #: details with more (estimated) spans than this are laid out in a thread worker
    SYNC_SPAN_LIMIT: ClassVar[int] = 3000
    #: ... unless their model is built already and they have no more spans than this
    SYNC_LAYOUT_LIMIT: ClassVar[int] = 50_000

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "toggle_infrastructure", "Infra", id="timeline.infrastructure"),
        Binding("c", "toggle_canonical", "Canonical", id="timeline.canonical"),
        Binding("d", "toggle_details", "Details", id="timeline.details"),
        Binding("e", "next_error", "Next error", id="timeline.next-error"),
        Binding("E", "previous_error", "Prev error", id="timeline.previous-error"),
        Binding("m", "next_member_run", "Next run", id="timeline.next-member-run"),
        Binding(
            "M", "previous_member_run", "Prev run", id="timeline.previous-member-run", show=False
        ),
        Binding("plus,right_square_bracket", "expand_all", "Expand all", id="timeline.expand-all"),
        Binding(
            "minus,left_square_bracket", "collapse_all", "Collapse all", id="timeline.collapse-all"
        ),
        Binding("space", "toggle_node", "Toggle", show=False, id="timeline.toggle-node"),
        Binding("right,l", "expand_node", "Expand", show=False, id="timeline.expand-node"),
        Binding("left,h", "collapse_node", "Collapse", show=False, id="timeline.collapse-node"),
        Binding("enter", "activate", "Open", show=False, id="timeline.activate"),
        Binding("down,j", "cursor_down", "Down", show=False, id="timeline.cursor-down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="timeline.cursor-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="timeline.page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="timeline.page-up"),
        Binding("home,g", "first", "First", show=False, id="timeline.first"),
        Binding("end,G", "last", "Last", show=False, id="timeline.last"),
        Binding("n", "next_match", "Next match", show=False, id="timeline.next-match"),
        Binding("N", "previous_match", "Prev match", show=False, id="timeline.previous-match"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline-view--cursor",
        "timeline-view--chip",
        "timeline-view--dim",
        "timeline-view--match",
        "timeline-view--infra",
        "timeline-view--member",
        "timeline-view--status-line",
    }

    DEFAULT_CSS = """
    TimelineView {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        & > .timeline-view--cursor { background: $boost; }
        &:focus > .timeline-view--cursor { background: $accent 40%; }
        & > .timeline-view--chip { color: $text-muted; }
        & > .timeline-view--dim { color: $text-muted; }
        & > .timeline-view--match { background: $warning 30%; }
        & > .timeline-view--infra { color: $secondary; }
        & > .timeline-view--member { color: $accent; text-style: bold; }
        & > .timeline-view--status-line { color: $text-muted; text-style: italic; }
    }
    """

    class SpanHighlighted(Message):
        """The cursor moved to ``row`` (``None`` when there are no rows)."""

        def __init__(self, row: TimelineRow | None) -> None:
            super().__init__()
            self.row = row

    class SpanActivated(Message):
        """Enter was pressed on ``row``."""

        def __init__(self, row: TimelineRow) -> None:
            super().__init__()
            self.row = row

    class LayoutChanged(Message):
        """Rows were rebuilt (toggle, expansion, search, new detail)."""

        def __init__(self, hidden_count: int, row_count: int, match_count: int) -> None:
            super().__init__()
            self.hidden_count = hidden_count
            self.row_count = row_count
            self.match_count = match_count

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._model: TimelineModel | None = None
        self._options = TimelineOptions()
        self._layout: TimelineLayout | None = None
        self._cursor = 0
        self._cursor_key: str | None = None
        self._pending_select: str | None = None
        self._status_line: str = ""
        self._generation = 0
        self._strip_cache: LRUCache[tuple, Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        #: the cursor is on the last row: keep it there as a live run grows (``G``)
        self._follow = False
        #: cells the widest row's label needs (small layouts only; 0 = not measured)
        self._label_need = 0
        self._errors: tuple[tuple[int, tuple[bool, bool, bool]], list[str]] | None = None
        #: set once a row of the layout installed last has been painted (for tasks, threads)
        self._rows_painted = asyncio.Event()
        self._rows_painted_sync = threading.Event()
        self._matches: tuple[tuple[int, tuple[bool, bool, bool], str], list[str]] | None = None

    # ------------------------------------------------------------------ public API

    @property
    def options(self) -> TimelineOptions:
        return self._options

    @property
    def model(self) -> TimelineModel | None:
        return self._model

    @property
    def rows(self) -> TimelineLayout | None:
        """The visible rows (a lazy sequence), or ``None`` before the first layout."""
        return self._layout

    @property
    def cursor_index(self) -> int:
        return self._cursor

    @property
    def selected_row(self) -> TimelineRow | None:
        lay = self._layout
        if lay is None or not len(lay):
            return None
        return lay[min(self._cursor, len(lay) - 1)]

    def set_detail(self, detail: RunDetail, model: TimelineModel | None = None) -> None:
        """Show a new or refetched detail; keeps cursor span, expansion, scroll and toggles.

        ``model`` is ``build_model(detail)`` when the caller built it already (the run
        loader builds it off the UI thread with the rest of what the view needs)."""
        self._generation += 1
        estimate = _estimate_spans(detail, self.SYNC_SPAN_LIMIT)
        if estimate <= self.SYNC_SPAN_LIMIT or (
            model is not None and estimate <= self.SYNC_LAYOUT_LIMIT
        ):
            if model is None:
                model = build_model(detail)
            # a built model lays out its visible rows in milliseconds (17 ms at 50k spans)
            self._swap(model, layout(model, self._options), self._generation)
            if estimate > self.SYNC_SPAN_LIMIT:
                self._warm_worker(model, self._options)
            return
        if self._model is None:
            self._status_line = f"laying out {fmt.plural(estimate, 'span')}…"
            self.virtual_size = Size(self.scrollable_content_region.width, 1)
            self.refresh()
        self._layout_worker(detail, model, self._options, self._generation)

    async def rows_painted(self) -> None:
        """Until a row of the current layout has been painted."""
        await self._rows_painted.wait()

    def show_progress(self, text: str) -> None:
        """Before the first layout: one line saying what the load is doing."""
        if self._model is None:
            self._status_line = text
            self.refresh()

    def select_span(self, span_id: str) -> bool:
        """Reveal ``span_id`` (expand ancestors), move the cursor to it and scroll it into view."""
        if self._model is None:
            self._pending_select = span_id
            return False
        found = reveal(self._model, self._options, span_id)
        if found is None:
            return False
        if found.options != self._options:
            self._options = found.options
            self._relayout(keep=found.key)
        else:
            self._move_to_key(found.key)
        return True

    def reveal_span(self, span_id: str) -> str | None:
        """Select ``span_id`` even when it is hidden: infrastructure (or inline details) are
        turned on when that is what hides it. Returns what was turned on ("infrastructure",
        "details" or ""), ``None`` when the span is not in the run."""
        model = self._model
        index = model.by_span_id.get(span_id) if model is not None else None
        if model is None or index is None:
            return None
        entry = model.entries[index]
        options, turned = self._options, ""
        if entry.is_detail and entry.infrastructure and not options.show_infrastructure:
            options, turned = options.toggle_infrastructure(), "infrastructure"
        elif entry.is_detail and not entry.infrastructure and not options.show_details:
            options, turned = options.toggle_details(), "details"
        if not turned:
            return "" if self.select_span(span_id) else None
        self._options = options
        self._relayout(keep=entry.key)
        return turned

    def set_search(self, text: str) -> int:
        """Search labels/names/primitives/tools/models/span ids; returns the match count.

        Moves the cursor to the first match (revealing it when collapsed).
        """
        self._options = self._options.with_search(text)
        self._relayout(keep=self._cursor_key)
        count = self._layout.match_count if self._layout is not None else 0
        if count and self._model is not None:
            targets = match_targets(self._model, self._options)
            if targets:
                self.select_span(targets[0])
        return count

    def set_options(self, options: TimelineOptions) -> None:
        """Replace the whole toggle/expansion state (e.g. restored from a previous screen)."""
        self._options = options
        self._relayout(keep=self._cursor_key)

    # ------------------------------------------------------------------ layout

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="timeline-layout",
        description="timeline layout",
    )
    def _layout_worker(
        self,
        detail: RunDetail,
        model: TimelineModel | None,
        options: TimelineOptions,
        generation: int,
    ) -> None:
        worker = get_current_worker()
        if model is None:
            model = build_model(detail)
        if worker.is_cancelled:
            return
        lay = layout(model, options)
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._swap, model, lay, generation)
        self._warm(model, options)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="timeline-layout",
        description="timeline layout",
    )
    def _warm_worker(self, model: TimelineModel, options: TimelineOptions) -> None:
        self._warm(model, options)

    def _warm(self, model: TimelineModel, options: TimelineOptions) -> None:
        """In a worker: the structures of the other toggles, so that the first toggle is
        instant; once the rows are painted (this holds the interpreter meanwhile)."""
        worker = get_current_worker()
        self._rows_painted_sync.wait(WARM_WAIT)
        for variant in (
            options.toggle_infrastructure(),
            options.toggle_canonical(),
            options.toggle_details(),
        ):
            if worker.is_cancelled:
                return
            structure(model, variant)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed layout keeps the app alive: say so on the status line and notify."""
        if event.worker.group != "timeline-layout" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self._status_line = f"could not lay out this run: {type(error).__name__}"
        self.refresh()
        self.notify(f"Timeline layout failed: {error}", severity="error", markup=False)

    def _swap(self, model: TimelineModel, lay: TimelineLayout, generation: int) -> None:
        if generation != self._generation:
            return
        keep = self._pending_select or self._cursor_key
        self._pending_select = None
        if self._model is None:
            self._options = opening_options(model, self._options)
        self._model = model
        self._status_line = ""
        self._strip_cache.clear()
        self.refresh_bindings()  # the member run keys depend on the run
        if lay.options != self._options:  # options changed while the worker ran
            lay = layout(model, self._options)
        self._install(lay, keep, follow=True)

    def _relayout(self, keep: str | None) -> None:
        if self._model is None:
            return
        self._install(layout(self._model, self._options), keep)

    def _install(self, lay: TimelineLayout, keep: str | None, follow: bool = False) -> None:
        model = lay.model
        self._layout = lay
        self._rows_painted.clear()
        self._rows_painted_sync.clear()
        index = None
        if keep is not None:
            index = lay.index_of(keep)
            if index is None:
                found = reveal(model, self._options, keep)
                if found is not None:
                    if found.options != self._options:
                        self._options = found.options
                        lay = layout(model, self._options)
                        self._layout = lay
                    index = lay.index_of(found.key)
        if index is None:
            index = min(self._cursor, max(0, len(lay) - 1))
        if follow and self._follow and len(lay):
            index = len(lay) - 1  # a live run grew under a cursor that follows its end
        self.virtual_size = Size(self.scrollable_content_region.width, len(lay))
        self._label_need = max(map(label_width, lay), default=0) if len(lay) <= MEASURED_ROWS else 0
        self._cursor = index
        self._follow = bool(len(lay)) and index == len(lay) - 1
        self.refresh()
        self.post_message(self.LayoutChanged(lay.hidden_count, len(lay), lay.match_count))
        self._after_cursor_move(scroll=True, force_message=True)

    # ------------------------------------------------------------------ cursor

    def _after_cursor_move(self, *, scroll: bool = True, force_message: bool = False) -> None:
        row = self.selected_row
        key = row.key if row is not None else None
        changed = key != self._cursor_key
        self._cursor_key = key
        if scroll and row is not None:
            self.scroll_to_region(
                Region(0, self._cursor, 1, 1), animate=False, force=True, immediate=True
            )
        if changed or force_message:
            self.post_message(self.SpanHighlighted(row))

    def _set_cursor(self, index: int) -> None:
        lay = self._layout
        if lay is None or not len(lay):
            return
        index = max(0, min(index, len(lay) - 1))
        self._follow = index == len(lay) - 1
        old = self._cursor
        if index == old:
            return
        self._cursor = index
        self.refresh_line(old)
        self.refresh_line(index)
        self._after_cursor_move()

    def _move_to_key(self, key: str) -> None:
        if self._layout is None:
            return
        index = self._layout.index_of(key)
        if index is not None:
            self._set_cursor(index)

    def action_cursor_down(self) -> None:
        self._set_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self._set_cursor(self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self._set_cursor(self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        """Go to the last row, and stay on the last row as new rows arrive."""
        if self._layout is not None:
            self._set_cursor(len(self._layout) - 1)
            self._follow = True

    # ------------------------------------------------------------------ toggles & expansion

    def action_toggle_infrastructure(self) -> None:
        """Bring infrastructure spans back (revealing where they stand) or fold them."""
        self._options = self._options.toggle_infrastructure()
        if self._options.show_infrastructure and self._model is not None:
            self._options = reveal_all(self._model, self._options, infrastructure_keys(self._model))
        self._relayout(keep=self._cursor_key)

    def action_toggle_canonical(self) -> None:
        self._options = self._options.toggle_canonical()
        self._relayout(keep=self._cursor_key)

    def action_toggle_details(self) -> None:
        self._options = self._options.toggle_details()
        self._relayout(keep=self._cursor_key)

    def action_expand_all(self) -> None:
        self._options = expand_all(self._options)
        self._relayout(keep=self._cursor_key)

    def action_collapse_all(self) -> None:
        self._options = collapse_all(self._options)
        self._relayout(keep=self._cursor_key)

    def _set_expanded(self, row: TimelineRow, expanded: bool) -> None:
        self._options = self._options.with_expanded(row.key, expanded)
        self._relayout(keep=row.key)

    def action_toggle_node(self) -> None:
        row = self.selected_row
        if row is not None and row.has_children:
            self._set_expanded(row, not row.expanded)

    def action_expand_node(self) -> None:
        row = self.selected_row
        if row is None or not row.has_children:
            return
        if row.expanded:
            self._set_cursor(self._cursor + 1)
        else:
            self._set_expanded(row, True)

    def action_collapse_node(self) -> None:
        row = self.selected_row
        if row is None:
            return
        if row.has_children and row.expanded:
            self._set_expanded(row, False)
            return
        lay = self._layout
        assert lay is not None
        s = lay.structure
        parent_pos = s.up[lay.positions[self._cursor]]
        if parent_pos >= 0:
            parent_index = lay.index_of(lay.model.entries[s.order[parent_pos]].key)
            if parent_index is not None:
                self._set_cursor(parent_index)

    def action_activate(self) -> None:
        row = self.selected_row
        if row is not None:
            self.post_message(self.SpanActivated(row))

    # ------------------------------------------------------------------ errors & matches

    def _step(self, targets: list[str], forward: bool) -> None:
        if self._model is None:
            return
        target = step_target(self._model, self._options, targets, self._cursor_key, forward)
        if target is not None:
            self.select_span(target)

    def error_keys(self) -> list[str]:
        """Rows where errors start, in tree order (cached per layout structure)."""
        if self._model is None:
            return []
        key = (id(self._model), self._options.structure_key)
        if self._errors is None or self._errors[0] != key:
            self._errors = (key, error_targets(self._model, self._options))
        return self._errors[1]

    def error_position(self) -> tuple[int, int]:
        """(1-based place of the cursor row among :meth:`error_keys`, or 0; their number)."""
        keys = self.error_keys()
        row = self.selected_row
        place = keys.index(row.key) + 1 if row is not None and row.key in keys else 0
        return place, len(keys)

    def match_position(self) -> int:
        """1-based place of the cursor row among the search's matches, or 0."""
        row = self.selected_row
        if self._model is None or row is None or not self._options.search:
            return 0
        key = (id(self._model), self._options.structure_key, self._options.search)
        if self._matches is None or self._matches[0] != key:
            self._matches = (key, match_targets(self._model, self._options))
        keys = self._matches[1]
        return keys.index(row.key) + 1 if row.key in keys else 0

    def _step_error(self, forward: bool) -> None:
        keys = self.error_keys()
        if not keys and self._model is not None:
            self.notify("No errors in this run", timeout=2, markup=False)
        self._step(keys, forward)

    def action_next_error(self) -> None:
        self._step_error(True)

    def action_previous_error(self) -> None:
        self._step_error(False)

    def action_next_member_run(self) -> None:
        if self._model is not None:
            self._step(member_targets(self._model, self._options), True)

    def action_previous_member_run(self) -> None:
        if self._model is not None:
            self._step(member_targets(self._model, self._options), False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The member run keys exist only where the run is an operation with child runs."""
        if action in ("next_member_run", "previous_member_run"):
            return self._model is not None and bool(self._model.member_runs)
        return True

    def action_next_match(self) -> None:
        if self._model is not None:
            self._step(match_targets(self._model, self._options), True)

    def action_previous_match(self) -> None:
        if self._model is not None:
            self._step(match_targets(self._model, self._options), False)

    # ------------------------------------------------------------------ rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strip_cache.clear()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        """A style by name (``crux.status.error``, see ``app/theme.py``) or definition."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.app.console.get_style(name, default=Style())
        return style

    def on_resize(self) -> None:
        if self._layout is not None:
            self.virtual_size = Size(self.scrollable_content_region.width, len(self._layout))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width  # never under the scrollbar
        base = self.rich_style
        if self._status_line:
            if y == 0:
                style = self.get_component_rich_style("timeline-view--status-line")
                text = Text(self._status_line, style=style, no_wrap=True, overflow="ellipsis")
                text.truncate(width, pad=True)
                return Strip(text.render(self.app.console), width).apply_style(base)
            return Strip.blank(width, base)
        lay = self._layout
        index = y + self.scroll_offset.y
        if lay is None or index >= len(lay) or width <= 0:
            return Strip.blank(width, base)
        if not self._rows_painted.is_set():
            self._rows_painted.set()
            self._rows_painted_sync.set()
        row = lay[index]
        selected = index == self._cursor
        cache_key = (
            row.key,
            width,
            selected,
            row.is_match,
            row.expanded,
            row.depth,
            row.is_detail,
            self._generation,
            lay.structure.key,
            self.has_focus,
            self._label_need,
        )
        strip = self._strip_cache.get(cache_key)
        if strip is None:
            strip = self._render_row(row, width, selected)
            self._strip_cache[cache_key] = strip
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _columns(self, width: int) -> tuple[int, int, int]:
        """(left, duration, bar) widths; the bar shrinks first on narrow terminals."""
        duration_w = 7
        if width >= 160:
            bar_w = width * 2 // 5
        elif width >= 100:
            bar_w = width // 3
        elif width >= 50:  # beside the detail pane: labels first
            bar_w = max(10, width // 5)
        else:
            bar_w = 0
        left = max(1, width - bar_w - duration_w - (2 if bar_w else 1))
        if bar_w > MIN_BAR and self._label_need > left:  # whole labels before a wider bar
            give = min(self._label_need - left, bar_w - MIN_BAR)
            bar_w, left = bar_w - give, left + give
        return left, duration_w, bar_w

    def _render_row(self, row: TimelineRow, width: int, selected: bool) -> Strip:
        base = self.rich_style
        left_w, duration_w, bar_w = self._columns(width)
        dim = self.get_component_rich_style("timeline-view--dim", partial=True)
        chip_style = self.get_component_rich_style("timeline-view--chip", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("▌" if selected else " ", style=self._style("bold") if selected else None)
        # indentation, capped so the label stays readable in hostile deep trees
        max_indent = max(0, left_w // 3)
        indent = row.depth * 2
        if indent > max_indent:
            text.append(f"…{row.depth} ".rjust(max_indent)[:max_indent], style=dim)
        else:
            text.append(" " * indent)
        if row.has_children:
            text.append("▾ " if row.expanded else "▸ ", style=dim)
        else:
            text.append("  ")
        status = row.status
        glyph, glyph_style = fmt.STATUS_MARKS.get(status, fmt.UNKNOWN_STATUS)
        if row.is_error and status not in ERROR_STATUSES:
            # an error object on a span whose status is not an error status
            glyph, glyph_style = ERROR_OBJECT_GLYPH, fmt.ERROR_STYLE
        text.append(glyph, style=self._style(glyph_style))
        text.append(" ")
        chip = row_chip(row)
        if row.member_run:  # a child run of the operation, with its own status and duration
            member = self.get_component_rich_style("timeline-view--member", partial=True)
            text.append(f"{MEMBER_RUN_GLYPH} {MEMBER_RUN_WORD}", style=member)
            text.append(" ")
        elif chip:
            text.append(chip, style=chip_style)
            text.append(" ")
        label_style = self._style("italic") if row.is_detail else None
        if row.is_match:
            match_style = self.get_component_rich_style("timeline-view--match", partial=True)
            label_style = match_style if label_style is None else label_style + match_style
        text.append(row.label or "—", style=label_style)
        if row.infrastructure:
            infra = self.get_component_rich_style("timeline-view--infra", partial=True)
            text.append(f" {INFRASTRUCTURE_MARK}", style=infra)
        elif row.entry.is_detail and not row.is_detail:  # a folded span holding rows (c)
            text.append(f" {FOLDED_MARK}", style=dim)
        if row.moved_from:
            text.append(f" {MOVED_FROM} {row.moved_from}", style=dim)
        elif row.reparented:
            text.append(f" {MOVED_GLYPH}", style=dim)
        if status in RECONCILED_STATUSES and row.depth:  # the root's is in the header
            text.append(f" {status}", style=self._style(fmt.status_style(status)))
        text.truncate(left_w, pad=True)
        text.append(" ")
        # a span still running has no duration yet: say so rather than "0ms"
        took = "···" if row.open_ended and not row.duration_ms else fmt.duration(row.duration_ms)
        text.append(took.rjust(duration_w)[:duration_w], style=dim)
        segments: list[Segment] = list(text.render(self.app.console))
        if bar_w:
            segments.append(Segment(" "))
            segments.extend(self._bar_segments(row, bar_w))
        strip = Strip(segments).adjust_cell_length(width)
        if selected:
            strip = strip.apply_style(self.get_component_rich_style("timeline-view--cursor"))
        return strip.apply_style(base)

    def _bar_segments(self, row: TimelineRow, bar_w: int) -> list[Segment]:
        model = self._model
        if model is None:
            return [Segment(" " * bar_w)]
        window = model.window_end_ms - model.window_start_ms
        bar = bar_geometry(
            row.start_offset_ms,
            row.duration_ms,
            window,
            bar_w,
            status=row.status,
            open_ended=row.open_ended,
        )
        if bar is None:
            return [Segment(" " * bar_w)]
        glyph = BAR_GLYPHS.get(bar.kind, BAR_GLYPHS[BAR_DONE])
        style = self._style(f"crux.bar.{bar.kind}")
        if (row.is_detail or row.infrastructure) and bar.kind != BAR_ERROR:
            style = style + self._style("dim")
        tail = bar_w - bar.start - bar.length
        out = []
        if bar.start:
            out.append(Segment(" " * bar.start))
        out.append(Segment(glyph * bar.length, style))
        if tail > 0:
            out.append(Segment(" " * tail))
        return out


#: The waterfall bar never gets narrower than this to make room for labels ...
MIN_BAR = 8
#: ... measured on layouts of at most this many rows.
MEASURED_ROWS = 2000


def label_width(row: TimelineRow) -> int:
    """Cells the left part of ``row`` takes unclipped: cursor, indent, glyphs, chip, label
    and its markers (as ``TimelineView._render_row`` draws them)."""
    chip = f"{MEMBER_RUN_GLYPH} {MEMBER_RUN_WORD}" if row.member_run else row_chip(row)
    width = 1 + row.depth * 2 + 4 + (len(chip) + 1 if chip else 0)
    width += cell_len(row.label or "—")
    if row.infrastructure:
        width += 1 + len(INFRASTRUCTURE_MARK)
    elif row.entry.is_detail and not row.is_detail:
        width += 1 + len(FOLDED_MARK)
    if row.moved_from:
        width += 2 + len(MOVED_FROM) + cell_len(row.moved_from)
    elif row.reparented:
        width += 1 + len(MOVED_GLYPH)
    if row.status in RECONCILED_STATUSES and row.depth:
        width += 1 + len(row.status)
    return width


def row_chip(row: TimelineRow) -> str:
    """The kind chip before a label; none on the root row (the run: its header says it)."""
    if not row.depth:
        return ""
    return ((row.role or "detail") if row.is_detail else row.display_kind)[:10]


def _estimate_spans(detail: RunDetail, limit: int) -> int:
    """Span count from the summary, else a bounded count of the tree."""
    known = max(
        detail.run.spanCount,
        len(items(detail.rows)),
        len(detail.spanIndex or {}),
        detail.counts.primary + detail.counts.detail + detail.counts.metadata,
    )
    if known:
        return known
    count = 0
    stack = [detail.root]
    while stack and count <= limit:
        node = stack.pop()
        count += 1 + len(items(node.details))
        stack.extend(items(node.children))
    return count
