"""Runs screen against the real embedded backend, driven with Pilot."""

from __future__ import annotations

import pytest

from crux_tui.app.main import make_app
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.live import runs_loader

from .helpers import ago, post_records, screen_text, simple_run, wait_for


def runs_screen(app) -> RunsScreen:
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return screen


def table_keys(app) -> list[str]:
    table = runs_screen(app).table
    return [row.key.value for row in table.ordered_rows]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_lists_runs_newest_first_with_statuses(backend_url: str, size) -> None:
    await post_records(backend_url, simple_run("run_old", "oldest chat", started=ago(30)))
    await post_records(
        backend_url, simple_run("run_mid", "failing chat", status="error", started=ago(20))
    )
    await post_records(
        backend_url, simple_run("run_new", "running chat", status="running", started=ago(10))
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: len(table_keys(app)) == 3, what="three runs")
        assert table_keys(app) == ["run_new", "run_mid", "run_old"]
        text = screen_text(app)
        assert "running chat" in text and "failing chat" in text and "oldest chat" in text
        # Status glyphs are always shown (colour is optional).
        assert "✗" in text and "◐" in text and "✓" in text


async def test_text_filter_and_escape(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_a", "alpha support", started=ago(20)))
    await post_records(backend_url, simple_run("run_b", "beta billing", started=ago(10)))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2, what="runs")
        await pilot.press("slash")
        await pilot.press(*"billing")
        await wait_for(pilot, lambda: table_keys(app) == ["run_b"], what="filtered list")
        assert "filter: billing" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table_keys(app)) == 2, what="filter cleared")


async def test_status_filter_cycles(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_ok", "fine", started=ago(20)))
    await post_records(
        backend_url, simple_run("run_run", "busy", status="running", started=ago(10))
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2, what="runs")
        await pilot.press("f")  # all -> running
        await wait_for(pilot, lambda: table_keys(app) == ["run_run"], what="running only")
        assert "status: running" in screen_text(app)


async def test_new_run_appears_live_without_keys(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_first", "first", started=ago(20)))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: table_keys(app) == ["run_first"], what="first run")
        runs_screen(app).table.move_cursor(row=0)
        await post_records(backend_url, simple_run("run_second", "second", status="running"))
        await wait_for(
            pilot, lambda: table_keys(app) == ["run_second", "run_first"], what="live row"
        )
        # The cursor stays on the run it was on.
        assert runs_screen(app).selected_run_id() == "run_first"
        assert app.connection_state in ("live", "polling")


async def test_paging_past_first_page(backend_url: str, monkeypatch) -> None:
    monkeypatch.setattr(runs_loader, "PAGE_SIZE", 4)
    for index in range(10):
        await post_records(
            backend_url, simple_run(f"run_{index:02d}", f"run {index}", started=ago(100 - index))
        )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_keys(app)) >= 4, what="first page")
        for _ in range(12):
            await pilot.press("down")
            await pilot.pause(0.05)
            if len(table_keys(app)) == 10:
                break
        await wait_for(pilot, lambda: len(table_keys(app)) == 10, what="all pages")
        assert table_keys(app)[0] == "run_09"
        assert table_keys(app)[-1] == "run_00"


async def test_empty_state_explains_how_to_send_records(backend_url: str) -> None:
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: runs_screen(app).loaded_once, what="first load")
        text = screen_text(app)
        assert "crux dev" in text
        assert "npx convex env set DEVTOOLS_URL https://your-tunnel.example" in text
        assert "crux-tui serve" in text and "crux-tui demo" in text


async def test_backend_down_at_start_shows_message_and_offline(down_url: str) -> None:
    app = make_app(down_url, poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: runs_screen(app).error_message, what="error")
        await wait_for(pilot, lambda: app.connection_state == "offline", what="offline")
        text = screen_text(app)
        assert "Cannot reach" in text
        assert "crux-tui serve" in text
        assert "offline" in text
        # The app stays open and keeps retrying.
        assert app.is_running


async def test_enter_opens_run(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_open", "open me"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: table_keys(app) == ["run_open"], what="run")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run screen")
        await wait_for(pilot, lambda: app.screen.detail is not None, what="detail")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="back")


async def test_runs_list_catches_up_when_shown_again_not_while_hidden(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_open", "open me", status="running"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: table_keys(app) == ["run_open"], what="run")
        runs = runs_screen(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run screen")
        run_screen = app.screen
        await wait_for(pilot, lambda: run_screen.detail is not None, what="detail")
        await post_records(backend_url, simple_run("run_new", "arrived meanwhile"))
        # A change to the open run too: once the run screen shows it, both events are in.
        await post_records(backend_url, simple_run("run_open", "open me")[3:])
        await wait_for(
            pilot, lambda: run_screen.detail.run.status == "ok", what="open run refreshed"
        )
        assert [r.runId for r in runs.runs] == ["run_open"]  # hidden: no refetch yet
        await pilot.press("escape")
        await wait_for(pilot, lambda: table_keys(app) == ["run_new", "run_open"], what="caught up")


async def test_list_keys_move_like_the_timeline(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_keys(app)) >= 8, what="demo runs")
        table = runs_screen(app).table
        last = table.row_count - 1
        for keys, row in (
            (("j", "j"), 2),
            (("k",), 1),
            (("G",), last),
            (("g",), 0),
            (("end",), last),
            (("home",), 0),
        ):
            await pilot.press(*keys)
            await wait_for(pilot, lambda row=row: table.cursor_row == row, what=f"{keys} → {row}")


async def test_list_row_says_what_the_opened_run_says(backend_url: str) -> None:
    """A run whose spans all ended but whose run:end has not arrived is stored running; its
    RunDetail already presents it closed by its children. Once the run has been opened,
    its list row says the same as its header."""
    records = simple_run("run_quiet", "quiet chat", started=ago(10))
    await post_records(backend_url, [r for r in records if r["type"] != "run:end"])
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: table_keys(app) == ["run_quiet"], what="listed")
        assert runs_screen(app).visible_runs()[0].status == "running"
        await pilot.press("enter")
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.detail and app.screen,
            what="opened",
        )
        assert screen.detail.run.status == "ok"
        assert "✓ ok" in str(screen.query_one("#run-title").content)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="back")
        assert runs_screen(app).visible_runs()[0].status == "ok"
        assert "✓ ok" in screen_text(app)
