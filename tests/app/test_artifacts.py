"""Artifact viewer and terminal safety, against the real backend."""

from __future__ import annotations

import pytest

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.widgets.json_tree import JsonTree

from .helpers import RunRecords, ago, post_records, screen_text, wait_for
from .test_run_screen import open_run, tool_error_run

HOSTILE = "[bold red]x[/] \x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]52;c;ZXZpbA==\x07 \u202eevil 漢字テキスト"


async def open_artifact(app, pilot, screen, span_id: str, kind: str) -> ArtifactScreen:
    assert screen.timeline.select_span(span_id)
    pane = screen.detail_pane
    await wait_for(
        pilot, lambda: pane.subject is not None and pane.subject.spanId == span_id, what="span"
    )
    artifact = next(a for a in pane.artifacts if a.kind == kind)
    pane.request_artifact(artifact)
    await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
    return app.screen


async def test_error_stack_and_raw(backend_url: str) -> None:
    await post_records(backend_url, tool_error_run("run_art"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_art")
        viewer = await open_artifact(app, pilot, screen, "run_art_tool", "error.stack")
        await pilot.pause()
        text = screen_text(app)
        assert "Error: index offline" in text or ("Error" in text and "index offline" in text)
        assert "at search (tools.ts:10:5)" in text
        assert "category tool" in text
        await pilot.press("y")
        assert "at run (agent.ts:3:1)" in app.clipboard
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        viewer = await open_artifact(app, pilot, screen, "run_art_tool", "error.raw")
        tree = viewer.query_one(JsonTree)
        lines = "\n".join(tree.text_lines())
        assert "code" in lines and "E_INDEX" in lines and "details" in lines


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_messages_and_memory_diff(backend_url: str, size: tuple[int, int]) -> None:
    r = RunRecords("run_msgs", name="agent turn", started=ago(6))
    await post_records(
        backend_url,
        [
            r.run_start(),
            r.span_start("m_agent", "agent.run", "agent turn", started=ago(6)),
            r.span_start(
                "m_gen", "generation.call", "turn", parent="m_agent", model="gpt-4o", started=ago(5)
            ),
            r.artifact(
                "m_gen",
                "messages",
                {
                    "source": "convex.agent",
                    "phase": "thread-context",
                    "recent": [
                        {"role": "user", "content": "What is the refund policy?"},
                        {
                            "role": "assistant",
                            "content": [
                                {"type": "text", "text": "Let me check."},
                                {
                                    "type": "tool-call",
                                    "toolName": "searchDocs",
                                    "args": {"q": "refund"},
                                },
                            ],
                        },
                    ],
                    "search": {"hits": 2},
                },
            ),
            r.span_end("m_gen", "ok", ended=ago(4)),
            r.span_start(
                "m_mem", "memory.write", "persist skills", parent="m_agent", started=ago(3)
            ),
            r.artifact(
                "m_mem",
                "memory.diff",
                {"before": {"skills": ["a"]}, "after": {"skills": ["a", "b"]}},
            ),
            r.span_end("m_mem", "ok", ended=ago(2)),
            r.span_end("m_agent", "ok", ended=ago(1)),
            r.run_end("ok", ended=ago(1)),
        ],
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=size) as pilot:
        screen = await open_run(app, pilot, "run_msgs")
        viewer = await open_artifact(app, pilot, screen, "m_gen", "messages")
        plain = viewer.plain_text()
        assert "source: convex.agent" in plain and "phase: thread-context" in plain
        assert "user: What is the refund policy?" in plain
        assert "→ searchDocs" in plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        viewer = await open_artifact(app, pilot, screen, "m_mem", "memory.diff")
        plain = viewer.plain_text()
        assert "before" in plain and "after" in plain and '"b"' in plain
        diff = viewer.query_one("#artifact-diff")
        assert diff.has_class("-stacked") == (size[0] < 100)


async def test_terminal_safety(backend_url: str) -> None:
    r = RunRecords("run_evil", name=HOSTILE, started=ago(5))
    await post_records(
        backend_url,
        [
            r.run_start(),
            r.span_start(
                "evil_agent",
                "agent.run",
                HOSTILE,
                agentId=HOSTILE,
                started=ago(5),
                attributes={"note": HOSTILE, HOSTILE: "key"},
            ),
            r.artifact(
                "evil_agent",
                "error.stack",
                f"Error: {HOSTILE}\n    at x ({HOSTILE}:1:1)",
                content_type="text/plain",
                encoding="text",
            ),
            r.span_end(
                "evil_agent", "error", ended=ago(1), error={"message": HOSTILE, "name": HOSTILE}
            ),
            r.run_end("error", ended=ago(1)),
        ],
    )
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "[bold red]x[/]" in screen_text(app), what="runs list")
        assert "\x1b" not in screen_text(app) and "\x07" not in screen_text(app)
        screen = await open_run(app, pilot, "run_evil")
        await pilot.pause()
        for text in (screen_text(app),):
            assert "[bold red]x[/]" in text
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
            assert "漢字" in text
        viewer = await open_artifact(app, pilot, screen, "evil_agent", "error.stack")
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]x[/]" in text
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert viewer is app.screen
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard and "\x1b" not in app.clipboard
