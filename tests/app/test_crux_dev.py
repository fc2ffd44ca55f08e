"""The app against the Go-shaped `crux dev` v5 stand-in (``tests/gocrux``), driven with Pilot:
operations in the runs list, the /ws/ui live channel (no polling while it is up, catch-up
after a drop), transports, deleting behind a confirmation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gocrux import fixtures as fx
from gocrux.server import GoCrux
from gocrux.shapes import lifecycle_event, token_chunk_event

from crux_tui.app.main import make_app
from crux_tui.app.screens.confirm import ConfirmScreen
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.live import run_loader

from .helpers import screen_text, wait_for

API = "/api/observability"
CHAT_DETAIL = f"{API}/runs/{fx.CHAT}"


def table_keys(app) -> list[str]:
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return [row.key.value for row in screen.table.ordered_rows]


async def listed(app, pilot, count: int = 3) -> None:
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunsScreen) and len(table_keys(app)) == count,
        what=f"{count} rows",
    )


async def live_on(app, pilot, transport: str) -> None:
    await wait_for(
        pilot,
        lambda: app.connection_state == "live" and app.connection_transport == transport,
        what=f"live over {transport}",
    )


async def open_row(app, pilot, run_id: str) -> RunScreen:
    """Move the cursor to ``run_id`` with the arrow keys and press enter."""
    keys = table_keys(app)
    await pilot.press("home", *["down"] * keys.index(run_id), "enter")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.detail is not None,
        what="run loaded",
    )
    return app.screen


async def quiet_after_an_event(app, pilot, gocrux: GoCrux) -> None:
    """An event through the socket, and the list's refetch for it done: everything the
    connection started with (the resync) was handled before it, in order."""
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    before = gocrux.count(f"{API}/runs/page")
    revision = await gocrux.change(fx.PLAIN)
    await wait_for(
        pilot,
        lambda: (
            gocrux.count(f"{API}/runs/page") > before
            and not screen.loader.busy
            and app._feed.revision == revision
        ),
        what="the event handled",
    )


async def settled(
    pilot, gocrux: GoCrux, seconds: float = 1.0, *, but_delta: bool = False
) -> dict[str, int]:
    """Requests made during ``seconds`` of nothing happening (``but_delta``: other than the
    live feed's own ``runs/delta`` polls)."""
    before = gocrux.requests()
    await pilot.pause(seconds)
    made = dict(gocrux.requests() - before)
    if but_delta:
        made.pop(f"GET {API}/runs/delta", None)
    return made


async def test_runs_list_shows_operations_where_the_server_puts_them(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        # firstSeenAt order, not start time: the Incomplete operation (no start) in the middle
        assert table_keys(app) == [fx.CHAT, fx.LATE, fx.PLAIN]
        await live_on(app, pilot, "ws")
        text = screen_text(app)
        assert "Incomplete operation" in text
        assert "↳2" in text and "!1" in text  # child runs, one failed
        assert "⊖ no root" in text  # a glyph and a word
        assert "● live · ws" in text


async def test_no_polling_while_the_socket_is_up(gocrux: GoCrux) -> None:
    # at this poll interval anything that polled would ask dozens of times a second
    app = make_app(gocrux.url, poll_interval=0.05)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await live_on(app, pilot, "ws")
        await quiet_after_an_event(app, pilot, gocrux)
        assert await settled(pilot, gocrux) == {}
        screen = await open_row(app, pilot, fx.CHAT)
        assert await settled(pilot, gocrux) == {}
        # an event naming the operation: exactly what it names is read again
        await gocrux.change(fx.CHAT)
        await wait_for(pilot, lambda: gocrux.count(CHAT_DETAIL) == 2, what="refetch")
        assert isinstance(app.screen, RunScreen) and screen.detail is not None


async def test_reconnect_after_a_drop_catches_up_over_http(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await live_on(app, pilot, "ws")
        await quiet_after_an_event(app, pilot, gocrux)  # the feed now knows a revision
        screen = await open_row(app, pilot, fx.CHAT)
        await gocrux.drop_sockets()
        await wait_for(pilot, lambda: app.connection_state != "live", what="dropped")
        # what the socket could not say: the operation failed while nobody was connected
        await gocrux.change(fx.with_status(gocrux.operations[fx.CHAT], "error"), notify=False)
        await wait_for(pilot, lambda: screen.detail.run.status == "error", what="caught up")
        assert app.connection_state == "live" and gocrux.count("/ws/ui", "WS") == 2
        assert gocrux.count(f"{API}/runs/delta") == 1
        assert "✗" in screen_text(app)


async def test_lifecycle_of_a_member_run_refreshes_its_operation(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await live_on(app, pilot, "ws")
        screen = await open_row(app, pilot, fx.CHAT)
        await wait_for(pilot, lambda: not screen.loader.busy, what="loaded")
        before = gocrux.count(CHAT_DETAIL)
        # names the child run, not the operation: mapped through memberRuns
        await gocrux.push_event(lifecycle_event(fx.CHILD_NOTIFY, "error"))
        await wait_for(pilot, lambda: gocrux.count(CHAT_DETAIL) > before, what="refetch")
        await wait_for(pilot, lambda: not screen.loader.busy, what="refetched")
        await gocrux.push_event(lifecycle_event("run_of_someone_else", "error"))
        assert await settled(pilot, gocrux, 0.5) == {}  # not this operation's
        before = gocrux.count(CHAT_DETAIL)
        await gocrux.push_event(lifecycle_event(fx.CHILD_SUM, "stale"))
        await wait_for(pilot, lambda: gocrux.count(CHAT_DETAIL) == before + 1, what="refetch")


async def test_token_chunks_refresh_the_open_run_without_a_storm(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await live_on(app, pilot, "ws")
        await open_row(app, pilot, fx.CHAT)
        before = gocrux.count(CHAT_DETAIL)
        page_before = gocrux.count(f"{API}/runs/page")
        for n in range(40):  # a model streaming in the child run
            await gocrux.push_event(token_chunk_event(fx.CHILD_SUM, "sp_sum_gen", n))
        await wait_for(pilot, lambda: gocrux.count(CHAT_DETAIL) > before, what="a refetch")
        await pilot.pause(1.5)  # the held last chunk of the burst comes through
        assert gocrux.count(CHAT_DETAIL) - before <= 4  # not forty
        assert gocrux.count(f"{API}/runs/page") == page_before  # the list is not touched


async def test_delete_behind_a_confirmation(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await pilot.press("home")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        text = screen_text(app)
        assert "Delete “support agent” (run_op_chat) and its 2 child runs" in text
        assert "cannot be undone" in text
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="cancelled")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="cancelled")
        assert gocrux.count(CHAT_DETAIL, "DELETE") == 0 and fx.CHAT in table_keys(app)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: table_keys(app) == [fx.LATE, fx.PLAIN], what="deleted")
        assert gocrux.count(CHAT_DETAIL, "DELETE") == 1
        await pilot.press("home", "delete")  # the other key of the binding
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table_keys(app) == [fx.PLAIN], what="deleted")


async def test_a_run_deleted_while_open_says_so(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url, poll_interval=0.05)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await live_on(app, pilot, "ws")
        screen = await open_row(app, pilot, fx.CHAT)
        # deleted elsewhere (another client): the deleted event names it
        async with httpx_client(gocrux.url) as http:
            assert (await http.delete(CHAT_DETAIL)).status_code == 200
        await wait_for(pilot, lambda: screen.deleted, what="deleted")
        await wait_for(pilot, lambda: "deleted at the backend" in screen_text(app), what="said")
        assert "support agent" in screen_text(app)  # the last copy stays on screen
        assert await settled(pilot, gocrux) == {}  # no error loop
        await pilot.press("escape")
        await wait_for(pilot, lambda: table_keys(app) == [fx.LATE, fx.PLAIN], what="list")


async def test_a_run_gone_on_refetch_says_so_and_stops_asking(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url, poll_interval=0.05, live="poll")  # the screens poll
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        screen = await open_row(app, pilot, fx.PLAIN)
        del gocrux.operations[fx.PLAIN]  # gone without a word: the next read is a 404
        await pilot.press("r")
        await wait_for(pilot, lambda: "deleted at the backend" in screen_text(app), what="said")
        assert screen.error_message == ""
        assert await settled(pilot, gocrux, but_delta=True) == {}


async def test_a_settled_run_is_not_polled_forever(
    gocrux: GoCrux, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_loader, "TERMINAL_POLL_WINDOW", 0.5)
    gocrux.operations[fx.PLAIN] = fx.with_status(gocrux.operations[fx.PLAIN], "stale")
    app = make_app(gocrux.url, poll_interval=0.05, live="poll")
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        screen = await open_row(app, pilot, fx.PLAIN)
        await wait_for(pilot, lambda: screen.loader.terminal_since is not None, what="settled")
        settled_at = screen.loader.terminal_since
        await wait_for(pilot, lambda: _since(settled_at) > 0.6, what="the 5 s window over")
        assert await settled(pilot, gocrux, 0.6, but_delta=True) == {}
        await pilot.press("r")  # asked for by hand: read again
        await wait_for(pilot, lambda: gocrux.count(f"{API}/runs/{fx.PLAIN}") > 1, what="manual r")


def _since(moment: float) -> float:
    import time

    return time.monotonic() - moment


def httpx_client(url: str):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.AsyncClient(base_url=url, timeout=10)


async def test_transport_choice_shows_in_the_indicator(
    gocrux: GoCrux, backend: EmbeddedBackend
) -> None:
    app = make_app(backend.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await live_on(app, pilot, "sse")
        await wait_for(pilot, lambda: "● live · sse" in screen_text(app), what="indicator")
    app = make_app(gocrux.url)
    async with app.run_test(size=(140, 30)) as pilot:
        await live_on(app, pilot, "ws")


@pytest.mark.parametrize(
    ("live", "state", "transport", "shown"),
    [("poll", "polling", "poll", "⟳ polling"), ("ws", "live", "ws", "● live · ws")],
)
async def test_live_option_forces_a_transport(
    make_gocrux: Callable[..., GoCrux], live: str, state: str, transport: str, shown: str
) -> None:
    gocrux = make_gocrux()
    app = make_app(gocrux.url, live=live)
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await wait_for(
            pilot,
            lambda: app.connection_state == state and app.connection_transport == transport,
            what=state,
        )
        await wait_for(pilot, lambda: shown in screen_text(app), what="indicator")
        assert gocrux.count(f"{API}/stream") == 0  # no SSE attempt: it was not asked for
        if live == "poll":
            assert gocrux.count("/ws/ui", "WS") == 0


async def test_forcing_a_transport_the_backend_lacks_says_so(gocrux: GoCrux) -> None:
    app = make_app(gocrux.url, live="sse")
    async with app.run_test(size=(140, 30)) as pilot:
        await listed(app, pilot)
        await wait_for(pilot, lambda: app.connection_state == "offline", what="offline")
        await wait_for(
            pilot,
            lambda: any("no SSE route" in n.message for n in app._notifications),
            what="a warning",
        )
        assert "○ offline · sse" in screen_text(app)
        assert gocrux.count("/ws/ui", "WS") == 0
