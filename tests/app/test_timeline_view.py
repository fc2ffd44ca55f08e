"""TimelineView widget: rendering, keys, messages, inert labels, worker layout."""

from __future__ import annotations

from textual.app import App, ComposeResult

from crux_tui.app.widgets.timeline_view import TimelineView
from crux_tui.contract.models import RunDetail
from tests.timeline.builders import convex_run, node, run_detail


class Host(App):
    def __init__(self, detail: RunDetail | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.messages: list = []

    def compose(self) -> ComposeResult:
        yield TimelineView()

    def on_mount(self) -> None:
        view = self.query_one(TimelineView)
        view.focus()
        if self.detail is not None:
            view.set_detail(self.detail)

    def on_timeline_view_span_highlighted(self, message: TimelineView.SpanHighlighted) -> None:
        self.messages.append(("highlighted", message.row.key if message.row else None))

    def on_timeline_view_span_activated(self, message: TimelineView.SpanActivated) -> None:
        self.messages.append(("activated", message.row.key))

    def on_timeline_view_layout_changed(self, message: TimelineView.LayoutChanged) -> None:
        self.messages.append(
            ("layout", message.hidden_count, message.row_count, message.match_count)
        )


def lines(view: TimelineView, n: int = 12) -> list[str]:
    return [view.render_line(y).text for y in range(n)]


def keys(view: TimelineView) -> list[str]:
    assert view.rows is not None
    return view.rows.row_keys()


async def test_renders_rows_with_markers_and_bars():
    app = Host(convex_run())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        text = lines(view)
        assert "chat" in text[0] and text[0].startswith("▌")
        assert "first turn" in text[1] and "searchDocs" in text[2]
        assert "✗" in text[2]  # error glyph, the same as everywhere else
        assert "━" in text[0]  # waterfall bar
        assert "190ms" in text[1]
        assert ("layout", 3, 6, 0) in app.messages  # a small run opens fully expanded
        assert view.selected_row is not None and view.selected_row.key == "a"


async def test_toggles_keep_selection_and_report_hidden_count():
    app = Host(convex_run())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        await pilot.press("j", "j", "j")  # g2
        assert view.selected_row.key == "g2"
        await pilot.press("i")
        await pilot.pause()
        assert view.options.show_infrastructure
        assert keys(view) == ["a", "B", "g1", "b2", "g2", "s", "s2", "t"]
        assert view.selected_row.key == "g2"
        assert any("⚙ infra" in line and "rank citations" in line for line in lines(view))
        assert ("layout", 1, 8, 0) in app.messages
        await pilot.press("c")
        await pilot.pause()
        assert keys(view) == ["a", "B", "g1", "t", "b2", "g2", "s", "s2"]
        assert view.selected_row.key == "g2"
        await pilot.press("c", "i")
        await pilot.pause()
        assert keys(view) == ["a", "g1", "t", "g2", "s", "s2"]
        assert view.selected_row.key == "g2"
        # select an infrastructure row, then hide infrastructure: selection falls back to owner
        await pilot.press("i")
        view.select_span("b2")
        await pilot.press("i")
        await pilot.pause()
        assert view.selected_row.key == "g2"


async def test_details_toggle_shows_inline_details():
    app = Host(convex_run())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        await pilot.press("d")
        await pilot.pause()
        assert keys(view)[:4] == ["a", "g1", "B", "P"]
        assert any("Chat prompt" in line for line in lines(view))


async def test_expand_collapse_and_cursor_keys():
    app = Host(convex_run())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        await pilot.press("plus")
        await pilot.pause()
        assert "s2" in keys(view)
        await pilot.press("minus")
        await pilot.pause()
        assert keys(view) == ["a", "g1", "t", "g2"]
        await pilot.press("G")
        assert view.selected_row.key == "g2"
        await pilot.press("l")  # expand g2
        assert "s" in keys(view)
        await pilot.press("l")  # already expanded: go to first child
        assert view.selected_row.key == "s"
        await pilot.press("h")  # s is a collapsed leaf-ish node: go to parent
        assert view.selected_row.key == "g2"
        await pilot.press("h")  # collapse g2
        assert "s" not in keys(view)
        await pilot.press("space")
        assert "s" in keys(view)
        await pilot.press("g")
        assert view.selected_row.key == "a"
        await pilot.press("k")
        assert view.selected_row.key == "a"


async def test_error_navigation_and_enter():
    root = node(
        "a",
        duration=100,
        children=[
            node("x", status="error", start=1),
            node(
                "y",
                start=2,
                children=[node("y1", start=3, children=[node("deep", status="blocked", start=4)])],
            ),
        ],
    )
    app = Host(run_detail(root))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        await pilot.press("e")
        assert view.selected_row.key == "x"
        await pilot.press("e")
        assert view.selected_row.key == "deep"  # revealed inside collapsed y1
        await pilot.press("E")
        assert view.selected_row.key == "x"
        await pilot.press("enter")
        await pilot.pause()
        assert ("activated", "x") in app.messages
        assert ("highlighted", "deep") in app.messages


async def test_search_and_match_navigation():
    app = Host(convex_run())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        assert view.set_search("step") == 2
        await pilot.pause()
        assert view.selected_row.key == "s"
        await pilot.press("n")
        assert view.selected_row.key == "s2"
        await pilot.press("n")
        assert view.selected_row.key == "s"
        await pilot.press("N")
        assert view.selected_row.key == "s2"
        assert view.set_search("nothing-matches") == 0


async def test_refetch_keeps_selection_expansion_and_toggles():
    app = Host(convex_run())
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        view.select_span("s2")
        await pilot.press("i")
        before = keys(view)
        view.set_detail(convex_run())
        await pilot.pause()
        assert view.options.show_infrastructure
        assert keys(view) == before
        assert view.selected_row.key == "s2"


async def test_hostile_labels_render_inert():
    hostile = "[bold red]x[/] \x1b]52;c;aGVsbG8=\x07pwn \x1b[31mred"
    app = Host(run_detail(node("a", hostile, duration=5)))
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        line = view.render_line(0)
        assert "[bold red]x[/]" in line.text
        assert "\x1b" not in line.text and "\x07" not in line.text
        assert "pwn red" in line.text
        # no segment got a red style from the label text
        label_segments = [s for s in line if "[bold red]" in s.text]
        assert label_segments and all(
            s.style is None or s.style.color is None or s.style.color.name != "red"
            for s in label_segments
        )
        assert "52;c" not in line.text and "aGVsbG8" not in line.text
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "aGVsbG8" not in screen


async def test_narrow_terminal_keeps_label_readable():
    app = Host(convex_run())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        assert "second turn" in lines(view)[3]
        assert len(view.render_line(0).text) == view.size.width


async def test_big_detail_is_laid_out_in_a_worker():
    kids = [node(f"n{i}", start=i, duration=1) for i in range(50)]
    detail = run_detail(node("root", duration=100, children=kids))
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(TimelineView)
        view.SYNC_SPAN_LIMIT = 10
        view.set_detail(detail)
        assert "laying out" in view.render_line(0).text
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert view.rows is not None and len(view.rows) == 51
        assert "root" in view.render_line(0).text
        # select before the layout lands: applied after the swap
        view.set_detail(detail)
        view.select_span("n7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert view.selected_row.key == "n7"


async def test_a_big_run_opens_with_the_backends_default_expansion():
    from crux_tui.timeline import EXPAND_ALL_ROWS

    count = EXPAND_ALL_ROWS // 3 + 1  # 1 + 3 * count rows: more than EXPAND_ALL_ROWS
    big = node(
        "a",
        duration=1000,
        children=[
            node(f"n{i}", start=i, children=[node(f"m{i}", children=[node(f"c{i}")])])
            for i in range(count)
        ],
    )
    app = Host(run_detail(big))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        assert view.options.expand_mode == "default"
        assert "m0" in keys(view) and "c0" not in keys(view)
