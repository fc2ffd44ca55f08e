"""Member runs in the run screen, against the Go-shaped `crux dev` v5 stand-in, with Pilot:
child runs inside the timeline under their trigger span, the member run keys, the detail
pane of a member run, i/c across members, opening a child run id."""

from __future__ import annotations

from collections.abc import Callable

from gocrux import fixtures as fx
from gocrux.server import GoCrux
from gocrux.shapes import ago, summary

from crux_tui.app.main import make_app
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.app.widgets.detail_pane import DetailPane

from .helpers import screen_text, wait_for


async def open_operation(app, pilot, run_id: str) -> RunScreen:
    """Arrow keys to ``run_id`` in the runs list, then enter."""
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count >= 3,
        what="runs listed",
    )
    keys = [row.key.value for row in app.screen.table.ordered_rows]
    await pilot.press("home", *["down"] * keys.index(run_id), "enter")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.timeline.rows is not None,
        what="run shown",
    )
    return app.screen


def rows(screen: RunScreen) -> list[tuple[int, str, str]]:
    """(depth, label, member run id) of the visible timeline rows."""
    layout = screen.timeline.rows
    assert layout is not None
    return [(row.depth, row.label, row.member_run) for row in layout]


def parent_label(screen: RunScreen, label: str) -> str:
    shown = rows(screen)
    index = next(i for i, (_, name, _) in enumerate(shown) if name == label)
    depth = shown[index][0]
    return next(name for d, name, _ in reversed(shown[:index]) if d == depth - 1)


def selected(screen: RunScreen) -> str:
    row = screen.timeline.selected_row
    return row.label if row is not None else ""


def pane_text(screen: RunScreen) -> str:
    return screen.query_one(DetailPane).plain_text()


async def test_a_child_run_is_mounted_under_its_trigger_span(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await open_operation(app, pilot, fx.CHAT)
        assert parent_label(screen, "summarize:thread") == "scheduler.runAfter summarize"
        # its trigger span is folded into notifyUser: the child sits under the row showing it
        assert parent_label(screen, "notify:send") == "notifyUser"
        members = [(label, run) for _, label, run in rows(screen) if run]
        assert members == [
            ("summarize:thread", fx.CHILD_SUM),
            ("notify:send", fx.CHILD_NOTIFY),
        ]  # each once: memberRuns[].root trees are not drawn again
        text = screen_text(app)
        assert "↳ run summarize:thread" in text and "↳ run notify:send" in text
        assert "↳ 2 child runs" in text  # the status line
        # the child's own status and duration on its row
        line = next(ln for ln in text.splitlines() if "↳ run notify:send" in ln)
        assert "✗" in line and "3.80s" in line


async def test_member_run_keys_and_the_detail_of_a_member(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await open_operation(app, pilot, fx.CHAT)
        await pilot.press("m")
        await wait_for(pilot, lambda: selected(screen) == "summarize:thread", what="first member")
        text = pane_text(screen)
        assert "MEMBER RUN ↳" in text and f"run id         {fx.CHILD_SUM}" in text
        assert f"parent run     {fx.CHAT}  (support agent)" in text
        assert "trigger span   scheduler.runAfter summarize  (sp_sched)" in text
        assert "2.50s" in text and "2 spans" in text  # its own summary, not the operation's
        await pilot.press("m")
        await wait_for(pilot, lambda: selected(screen) == "notify:send", what="second member")
        text = pane_text(screen)
        assert "✗ error" in text and "mail relay refused the message" in text
        assert "ctx.runAction notify:send  (sp_boundary)" in text
        assert "span-error — sendEmail failed" in text  # the member's own diagnostics
        await pilot.press("m")  # wraps around
        await wait_for(pilot, lambda: selected(screen) == "summarize:thread", what="wrapped")
        await pilot.press("M")
        await wait_for(pilot, lambda: selected(screen) == "notify:send", what="previous")
        # u: to the span that started it (folded into notifyUser: its row)
        await pilot.press("u")
        await wait_for(pilot, lambda: selected(screen) == "notifyUser", what="trigger row")
        await pilot.press("u")  # not a member run: says so, stays
        await wait_for(
            pilot,
            lambda: any("Select a child run" in n.message for n in app._notifications),
            what="hint",
        )
        assert selected(screen) == "notifyUser"


async def test_i_and_c_across_member_runs(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await open_operation(app, pilot, fx.CHAT)
        await pilot.press("m", "m")
        await wait_for(pilot, lambda: selected(screen) == "notify:send", what="member")
        await pilot.press("i")  # the boundary comes back: the child goes under it
        await wait_for(
            pilot,
            lambda: parent_label(screen, "notify:send") == "ctx.runAction notify:send",
            what="under the boundary",
        )
        assert selected(screen) == "notify:send"  # the selection survives
        await pilot.press("i")  # hidden again: hoisted, still visible
        await wait_for(
            pilot, lambda: parent_label(screen, "notify:send") == "notifyUser", what="hoisted"
        )
        await pilot.press("c")  # canonical parents: still under its trigger's row
        await wait_for(pilot, lambda: screen.timeline.options.canonical_parents, what="canonical")
        assert parent_label(screen, "notify:send") == "notifyUser"
        assert parent_label(screen, "summarize:thread") == "scheduler.runAfter summarize"
        await pilot.press("l")  # expand the member: its span hangs from it, not the root
        await wait_for(pilot, lambda: "sendEmail" in [r[1] for r in rows(screen)], what="open")
        assert parent_label(screen, "sendEmail") == "notify:send"


async def test_opening_a_child_run_id_lands_on_that_member(
    make_gocrux: Callable[..., GoCrux],
) -> None:
    # an older build listed member runs as rows of their own
    child_row = summary(
        fx.CHILD_NOTIFY,
        "notify:send",
        operation_id=fx.CHAT,
        status="error",
        started=ago(6.9),
        first_seen=ago(40),
    )
    gocrux = make_gocrux(extra_rows=[child_row])
    app = make_app(gocrux.url)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await open_operation(app, pilot, fx.CHILD_NOTIFY)
        await wait_for(pilot, lambda: selected(screen) == "notify:send", what="landed")
        assert screen.detail is not None and screen.detail.run.runId == fx.CHAT
        assert "support agent" in screen_text(app)  # the operation, whole
        assert "MEMBER RUN" in pane_text(screen)


async def test_an_incomplete_operation_opens_with_its_child(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await open_operation(app, pilot, fx.LATE)
        assert rows(screen) == [
            (0, "Incomplete operation", ""),
            (1, "ingest:embed", fx.LATE_CHILD),
        ]
        text = screen_text(app)
        assert "incomplete-operation-root" in text
        await pilot.press("m")
        await wait_for(pilot, lambda: selected(screen) == "ingest:embed", what="member")
        assert "trigger span   (sp_never_seen) — not in this operation's tree" in pane_text(screen)
