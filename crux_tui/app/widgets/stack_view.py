"""An ``error.stack`` one line per row: the user's frames stand out, library frames and runtime
internals are dimmed and fold away (``f``); Enter (or ``o``) on a frame asks to open its file."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from crux_tui.app import format as fmt
from crux_tui.app.stack import Frame, StackLine, parse_stack
from crux_tui.sanitize import clean

#: A row is a line of the stack, or a run of library frames folded into one row.
Row = int | tuple[int, int]


class StackView(OptionList):
    """The stack of an ``error.stack`` artifact, with a cursor on its lines."""

    DEFAULT_CSS = """
    StackView, StackView:focus { height: 1fr; border: none; padding: 0; }
    """
    BINDINGS = [
        Binding("o", "open_frame", "Open in editor", id="stack.open"),
        Binding("f", "toggle_library", "Fold library frames", id="stack.fold-library"),
        Binding("j", "cursor_down", "Down", show=False, id="stack.down"),
        Binding("k", "cursor_up", "Up", show=False, id="stack.up"),
    ]

    class FrameChosen(Message):
        """Enter or ``o`` on a row: ``frame`` is ``None`` when the row is not a frame."""

        def __init__(self, view: StackView, frame: Frame | None) -> None:
            super().__init__()
            self.view = view
            self.frame = frame

        @property
        def control(self) -> StackView:
            return self.view

    def __init__(self, stack: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[StackLine] = parse_stack(clean(stack, multiline=True))
        self.folded = False
        self._rows: list[Row] = []

    @property
    def library_frames(self) -> int:
        return sum(1 for line in self.lines if line.library)

    def on_mount(self) -> None:
        first_own = next(
            (i for i, line in enumerate(self.lines) if line.frame and not line.frame.library), 0
        )
        self._fill(first_own)

    def _fill(self, keep_line: int) -> None:
        """Rebuild the rows (folding runs of library frames when ``folded``), keeping the
        cursor on ``keep_line`` (or the folded row that holds it)."""
        rows: list[Row] = []
        options: list[Option] = []
        index, count = 0, len(self.lines)
        while index < count:
            if self.folded and self.lines[index].library:
                end = index
                while end < count and self.lines[end].library:
                    end += 1
                rows.append((index, end))
                options.append(Option(_folded_text(end - index)))
                index = end
                continue
            rows.append(index)
            options.append(Option(_line_text(index, self.lines[index])))
            index += 1
        self._rows = rows
        self.clear_options()
        self.add_options(options)
        if rows:
            self.highlighted = next(
                (
                    i
                    for i, row in enumerate(rows)
                    if row == keep_line or (isinstance(row, tuple) and row[0] <= keep_line < row[1])
                ),
                0,
            )

    def _current_line(self) -> int:
        index = self.highlighted
        if index is None or not 0 <= index < len(self._rows):
            return 0
        row = self._rows[index]
        return row[0] if isinstance(row, tuple) else row

    @property
    def highlighted_frame(self) -> Frame | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self._rows):
            return None
        row = self._rows[index]
        return None if isinstance(row, tuple) else self.lines[row].frame

    def action_toggle_library(self) -> None:
        self.folded = not self.folded
        self._fill(self._current_line())

    def action_open_frame(self) -> None:
        index = self.highlighted
        rows = self._rows
        if index is not None and 0 <= index < len(rows) and isinstance(rows[index], tuple):
            self.action_toggle_library()  # a folded run: show it
            return
        self.post_message(self.FrameChosen(self, self.highlighted_frame))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_frame()

    def plain_lines(self) -> list[str]:
        """The rows as plain text (tests, copy)."""
        return [str(self.get_option_at_index(i).prompt) for i in range(self.option_count)]


def _line_text(index: int, line: StackLine) -> Text:
    text = Text(f"{index + 1:>4} ", style="dim")
    frame = line.frame
    if line.library:
        text.append(line.text, style="dim")
    elif frame is None:
        text.append(line.text, style=fmt.ERROR_STYLE if index == 0 else "")
    else:
        text.append("▸", style="bold")
        text.append(line.text.removeprefix(" "), style="bold")
    return text


def _folded_text(count: int) -> Text:
    return Text(
        f"     ⋯ {count} library frame{'s' if count != 1 else ''} (f shows them)", "dim italic"
    )
