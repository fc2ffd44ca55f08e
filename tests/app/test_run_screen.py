"""Run screen: timeline, detail pane, diagnostics, search, live refetch, copy/export, help."""

from __future__ import annotations

import json
from pathlib import Path

from crux_tui.app.commands import RunCommands
from crux_tui.app.main import make_app
from crux_tui.app.screens.help import HelpScreen
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.app.widgets.detail_pane import DetailPane

from .helpers import RunRecords, ago, post_records, screen_text, simple_run, wait_for


async def open_run(app, pilot, run_id: str) -> RunScreen:
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, RunsScreen)
            and run_id in [r.key.value for r in app.screen.table.ordered_rows]
        ),
        what=f"{run_id} listed",
    )
    screen = app.screen
    screen.table.move_cursor(row=screen.table.get_row_index(run_id))
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.detail is not None,
        what="run loaded",
    )
    return app.screen


def tool_error_run(run_id: str = "run_tool") -> list[dict]:
    r = RunRecords(run_id, name="support agent", started=ago(8))
    agent, gen, tool = f"{run_id}_agent", f"{run_id}_gen", f"{run_id}_tool"
    return [
        r.run_start(),
        r.span_start(agent, "agent.run", "support agent", agentId="support", started=ago(8)),
        r.span_start(
            gen,
            "generation.call",
            "generate",
            parent=agent,
            model="gpt-4o",
            provider="openai",
            started=ago(7),
        ),
        r.span_end(
            gen,
            "ok",
            ended=ago(6),
            metrics={"inputTokens": 100, "outputTokens": 20, "totalTokens": 120, "costUsd": 0.0042},
        ),
        r.span_start(
            tool,
            "tool.call",
            "searchDocs",
            parent=agent,
            toolName="searchDocs",
            started=ago(6),
            attributes={"phase": "tool.execute", "errorKind": "execute_error"},
        ),
        r.event(tool, "exception", {"message": "index offline"}, ts=ago(5)),
        r.artifact(
            tool,
            "error.stack",
            "Error: index offline\n    at search (tools.ts:10:5)\n    at run (agent.ts:3:1)",
            content_type="text/plain",
            encoding="text",
        ),
        r.artifact(
            tool,
            "error.raw",
            {
                "name": "Error",
                "message": "index offline",
                "code": "E_INDEX",
                "details": {"shard": 3},
            },
        ),
        r.span_end(
            tool,
            "error",
            ended=ago(5),
            error={"message": "index offline", "name": "Error", "category": "tool"},
        ),
        r.span_end(agent, "error", ended=ago(4)),
        r.run_end("error", ended=ago(4)),
    ]


async def test_open_run_shows_timeline_and_detail_pane(backend_url: str) -> None:
    await post_records(backend_url, tool_error_run())
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_tool")
        await wait_for(pilot, lambda: "searchDocs" in screen_text(app), what="tool row")
        text = screen_text(app)
        assert "support agent" in text
        assert "✗" in text  # run status glyph in the header
        # Select the failing tool span and read its details.
        assert screen.timeline.select_span("run_tool_tool")
        pane = screen.query_one(DetailPane)
        await wait_for(
            pilot,
            lambda: pane.subject is not None and pane.subject.spanId == "run_tool_tool",
            what="tool detail",
        )
        details = pane.plain_text()
        assert "run_tool_tool" in details
        assert "tool.call" in details
        assert "index offline" in details
        assert "error.stack" in details and "error.raw" in details
        assert "canonical parent" in details or "parent span" in details


async def test_live_loop_running_run_finishes_without_keys(backend_url: str) -> None:
    r = RunRecords("run_live", name="live chat", started=ago(3))
    await post_records(
        backend_url,
        [
            r.run_start(),
            r.span_start("live_agent", "agent.run", "live chat", started=ago(3)),
            r.span_start(
                "live_gen",
                "generation.stream",
                "streaming",
                parent="live_agent",
                model="gpt-4o",
                started=ago(2),
            ),
        ],
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_live")
        assert screen.detail.run.status == "running"
        assert "◐" in screen_text(app)
        await post_records(
            backend_url,
            [
                r.span_end(
                    "live_gen",
                    "ok",
                    metrics={"inputTokens": 5, "outputTokens": 7, "totalTokens": 12},
                ),
                r.span_end("live_agent", "ok"),
                r.run_end("ok"),
            ],
        )
        await wait_for(pilot, lambda: screen.detail.run.status == "ok", what="run ended")
        await wait_for(pilot, lambda: "✓ ok" in screen_text(app), what="header shows ok")
        assert isinstance(app.screen, RunScreen)


async def test_search_counts_matches(backend_url: str) -> None:
    await post_records(backend_url, tool_error_run("run_search"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_search")
        await pilot.press("slash")
        await pilot.press(*"searchDocs")
        await wait_for(pilot, lambda: screen.match_count == 1, what="matches")
        await pilot.press("enter")  # keep the search, back to the timeline
        line = screen.query_one("#run-statusline")
        await wait_for(pilot, lambda: "match 1 of 1 (n/N)" in str(line.content), what="place")
        await pilot.press("k")
        await wait_for(pilot, lambda: "searchDocs”: 1 match ·" in str(line.content), what="count")
        await pilot.press("slash")
        await pilot.press("escape")
        assert screen.search_text == ""


async def test_copy_and_export(backend_url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    await post_records(backend_url, tool_error_run("run_copy"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_copy")
        assert screen.timeline.select_span("run_copy_tool")
        await wait_for(
            pilot,
            lambda: (
                screen.detail_pane.subject is not None
                and screen.detail_pane.subject.spanId == "run_copy_tool"
            ),
            what="selected",
        )
        screen.timeline.focus()
        await pilot.press("y")
        assert app.clipboard == "run_copy_tool"
        await pilot.press("Y")
        copied = json.loads(app.clipboard)
        assert copied["spanId"] == "run_copy_tool"
        await pilot.press("x")
        exported = tmp_path / "crux-run-run_copy.json"
        await wait_for(pilot, exported.exists, what="export file")
        data = json.loads(exported.read_text())
        assert data["run"]["runId"] == "run_copy"


async def test_help_lists_bindings_and_palette_has_actions(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_help", "help me"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count == 1,
            what="runs",
        )
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        ids = {entry.binding_id for entry in app.screen.entries}
        assert {"runs.filter", "runs.status", "app.quit"} <= ids
        await pilot.press("escape")
        screen = await open_run(app, pilot, "run_help")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        ids = {entry.binding_id for entry in app.screen.entries}
        assert {"run.back", "run.search", "run.export", "run.copy-id"} <= ids
        assert any(i.startswith("timeline") for i in ids), ids
        await pilot.press("escape")
        names = {command.name for command in RunCommands(screen).commands()}
        assert {"Export", "Copy id", "Search", "Infra", "Canonical"} <= names


async def test_diagnostic_jumps_to_span(backend_url: str) -> None:
    r = RunRecords("run_diag", name="orphan", started=ago(5))
    await post_records(
        backend_url,
        [
            r.run_start(),
            r.span_start("diag_agent", "agent.run", "orphan", started=ago(5)),
            r.span_start(
                "diag_child",
                "tool.call",
                "lonely tool",
                parent="missing_parent",
                toolName="lonely",
                started=ago(4),
            ),
            r.span_end("diag_child", "ok", ended=ago(3)),
            r.span_end("diag_agent", "ok", ended=ago(2)),
            r.run_end("ok", ended=ago(2)),
        ],
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_diag")
        from crux_tui.app.widgets.diagnostics import DiagnosticsList

        diagnostics = screen.query_one(DiagnosticsList)
        await wait_for(pilot, lambda: diagnostics.diagnostics, what="diagnostics")
        assert "missing-parent-span" in screen_text(app)
        await pilot.press("D")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                screen.detail_pane.subject is not None
                and screen.detail_pane.subject.spanId == "diag_child"
            ),
            what="jumped",
        )


async def test_e_goes_where_the_error_starts_and_says_how_many(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_tool_error")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        line = screen.query_one("#run-statusline")
        assert "1 error (e/E)" in str(line.content)
        await pilot.press("e")
        # the tool that threw, not the agent or action its error rolled up to
        await wait_for(
            pilot, lambda: screen.timeline.selected_row.label == "lookupOrder", what="tool"
        )
        await wait_for(pilot, lambda: "error 1 of 1" in str(line.content), what="error 1 of 1")
        await pilot.press("E")
        await pilot.pause()
        assert screen.timeline.selected_row.label == "lookupOrder"
        screen2 = await open_other(app, pilot, "run_handoff")
        await pilot.press("e")
        await wait_for(pilot, lambda: "No errors in this run" in notifications(app), what="none")
        assert screen2.timeline.cursor_index == 0


async def test_escape_in_diagnostics_leaves_the_list_not_the_run(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_deadline")
        await pilot.press("D")
        diagnostics = screen.query_one("#diagnostics")
        await wait_for(pilot, lambda: diagnostics.has_focus, what="diagnostics focused")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.timeline.has_focus, what="timeline focused")
        assert app.screen is screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs list")


async def test_help_says_how_to_remap_keys(backend_url: str, tmp_path: Path, monkeypatch) -> None:
    keymap = tmp_path / "keys.toml"
    monkeypatch.setenv("CRUX_TUI_KEYMAP", str(keymap))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = screen_text(app)
        assert str(keymap) in text and "App.set_keymap" in text
        await pilot.press("escape")
        await post_records(backend_url, simple_run("run_keys", "keys"))
        screen = await open_run(app, pilot, "run_keys")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="run help")
        entries = {entry.binding_id: entry.key for entry in app.screen.entries}
        assert entries["timeline.cursor-down"] == "↓ j"  # one line per binding, all its keys
        assert entries["timeline.expand-all"] == "+ ]"
        assert screen is not None


def notifications(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def open_other(app, pilot, run_id: str) -> RunScreen:
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs list")
    return await open_run(app, pilot, run_id)


async def test_small_run_opens_expanded_and_i_reveals_what_it_brings_back(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_research")
        timeline = screen.timeline
        await wait_for(pilot, lambda: timeline.rows, what="rows")
        assert all(row.expanded for row in timeline.rows if row.has_children)
        line = screen.query_one("#run-statusline")
        assert "infra off (1 hidden)" in str(line.content)
        await pilot.press("minus", "i")  # everything collapsed, then infrastructure on
        await wait_for(pilot, lambda: timeline.options.show_infrastructure, what="infra on")
        infra = [row for row in timeline.rows if row.infrastructure]
        assert [row.label for row in infra] == ["research"]  # revealed, not inside a fold
        assert "⚙ infra" in screen_text(app)
        assert "infra on (1 shown)" in str(line.content)


async def test_c_shows_where_moved_spans_sat_and_what_held_them(demo_url: str) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_chat_support")
        await wait_for(pilot, lambda: screen.timeline.rows, what="rows")
        before = screen_text(app)
        assert "↰ from" not in before and "streamText" not in before
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.timeline.options.canonical_parents, what="c on")
        after = screen_text(app)
        # each streamed step really sits in the generation.stream that wraps it (folded in
        # the presentation), and says where the presentation put it
        assert after.count("streamText ◦ folded") == 3
        assert after.count("↰ from support") == 3
        assert "canonical on" in str(screen.query_one("#run-statusline").content)


async def test_a_running_run_shows_records_that_arrive_merged_from_a_delta(
    backend_url: str,
) -> None:
    r = RunRecords("run_growing", name="growing chat", started=ago(3))

    def tool(span_id: str, name: str) -> list[dict]:
        return [
            r.span_start(
                span_id, "tool.call", name, parent="grow_agent", started=ago(2), toolName=name
            ),
            r.span_end(span_id, "ok", ended=ago(1)),
        ]

    await post_records(
        backend_url,
        [
            r.run_start(),
            r.span_start("grow_agent", "agent.run", "growing chat", started=ago(3)),
            *tool("grow_first", "searchDocs"),
            r.span_start(
                "grow_gen", "generation.stream", "streaming", parent="grow_agent", started=ago(1)
            ),
        ],
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_growing")
        await wait_for(pilot, lambda: "searchDocs" in screen_text(app), what="first tool")
        assert screen.detail.run.status == "running"
        finished = screen.subjects["grow_first"]
        await post_records(backend_url, tool("grow_second", "lookupOrders"))
        await wait_for(pilot, lambda: "lookupOrders" in screen_text(app), what="the new span")
        assert screen.detail.run.status == "running"
        # merged from a delta: the span that did not change is the object shown before
        assert screen.subjects["grow_first"] is finished


async def test_a_big_run_is_shown_from_the_model_its_loader_built(make_backend) -> None:
    """A run over the timeline's synchronous limit: the screen lays out the timeline model
    the loader built off the UI thread (with the index), the preview's and then the whole
    run's, instead of building another."""
    from crux_tui.app.widgets.timeline_view import TimelineView
    from crux_tui.demo import scaled_run_records
    from crux_tui.loading import batches

    size = TimelineView.SYNC_SPAN_LIMIT + 500
    backend = make_backend(lifecycle_interval=None)
    records = scaled_run_records(size)
    for chunk in batches(records):
        backend.store.ingest_batch(chunk)
    app = make_app(backend.url, poll_interval=100.0, start_feed=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(app, pilot, records[0]["runId"])
        await wait_for(
            pilot,
            lambda: (
                not screen.partial
                and screen.run_state.model is not None
                and screen.timeline.model is screen.run_state.model
            ),
            what="the whole run laid out from the loader's model",
            timeout=60,
        )
        assert len(screen.timeline.model.entries) >= size
