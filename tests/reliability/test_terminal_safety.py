"""Record content never takes over the terminal: every screen renders hostile text inert."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.help import HelpScreen
from crux_tui.app.screens.run import RunScreen
from crux_tui.app.widgets.detail_pane import span_json
from crux_tui.sanitize import clean
from tests.app.helpers import RunRecords, ago, post_records, screen_text, wait_for
from tests.app.test_run_screen import open_run

#: Nothing of this may reach the terminal: ESC, BEL, other C0 (not \n), DEL, C1, bidi controls.
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
FORBIDDEN_ONE_LINE = re.compile(FORBIDDEN.pattern.replace("\x0b", "\x0a\x0b"))

MARKUP = "[bold red]x[/] [link=http://evil.example]click[/link]"
HOSTILE = (
    f"{MARKUP} \x1b[2J\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]52;c;ZXZpbA==\x07"
    " \x1b]8;;http://x\x07lnk\x1b]8;;\x07 \x9b31m\x9d2;t\x9c \x85\x00\x08\x7f\r"
    " \u202eevil\u202c \u2066iso\u2069 zero\u200bwidth 漢字テキスト 🦀🧑‍🚀"
)
#: Leftovers that would show an escape sequence was only partly removed.
PAYLOADS = ("ZXZpbA", "]0;title", "52;c", "]8;;", "[2J", "[31m")


def assert_inert(text: str, where: str) -> None:
    bad = FORBIDDEN.search(text)
    assert bad is None, f"{where}: {bad.group()!r} reached the terminal"
    for payload in PAYLOADS:
        assert payload not in text, f"{where}: escape payload {payload!r} leaked"


def assert_screen_inert(app, where: str) -> str:
    text = screen_text(app)
    assert_inert(text, where)
    width = app.size.width
    for line in text.split("\n"):
        assert cell_len(line) <= width, f"{where}: line wider than the terminal: {line!r}"
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg, where
    assert "ZXZpbA" not in svg, where
    return text


# ---------------------------------------------------------------------- clean() properties

_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\x1b\x07\x9b\x9c\x9d\x90[]();\\\n\t\r\u202e\u2066\u200b")),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT, st.booleans())
def test_clean_output_is_always_inert(text: str, multiline: bool) -> None:
    out = clean(text, multiline=multiline)
    pattern = FORBIDDEN if multiline else FORBIDDEN_ONE_LINE
    assert pattern.search(out) is None, (text, out)
    assert clean(out, multiline=multiline) == out  # idempotent


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"])))
def test_clean_keeps_printable_text_unchanged(text: str) -> None:
    if any(unicodedata.bidirectional(c) in ("LRE", "RLE", "LRO", "RLO", "PDF") for c in text):
        return
    if not text.isprintable():
        return
    assert clean(text) == text
    assert clean(text, multiline=True) == text


def test_clean_handles_each_sequence_kind() -> None:
    assert clean("a\x1b[1;31mb\x1b[0mc") == "abc"
    assert clean("a\x1b]0;title\x07b") == "ab"
    assert clean("a\x1b]52;c;ZXZpbA==\x1b\\b") == "ab"
    assert clean("a\x1b]8;;http://x\x07link\x1b]8;;\x07b") == "alinkb"
    assert clean("a\x1bPqdata\x1b\\b") == "ab"
    assert clean("a\x9b2Jb\x9d0;t\x9cc") == "abc"
    assert clean("[bold red]x[/]") == "[bold red]x[/]"  # markup is left literal (Text, not markup)
    assert clean("l1\nl2\tx", multiline=True) == "l1\nl2    x"
    assert clean("l1\r\nl2") == "l1 l2"
    assert clean("\u202eabc\u2066d\u2069") == "abcd"


# ---------------------------------------------------------------------- the real app


def hostile_run(run_id: str) -> list[dict]:
    r = RunRecords(run_id, name=HOSTILE, started=ago(8))
    agent, gen, tool = f"{run_id}_agent", f"{run_id}_gen", f"{run_id}_tool"
    attrs = {"note": HOSTILE, HOSTILE: HOSTILE, "nested": {HOSTILE: [HOSTILE, {"k": HOSTILE}]}}
    return [
        r.run_start(),
        r.span_start(agent, "agent.run", HOSTILE, agentId=HOSTILE, attributes=attrs),
        r.span_start(
            gen,
            "generation.call",
            HOSTILE,
            parent=agent,
            model=HOSTILE,
            provider=HOSTILE,
            attributes=attrs,
        ),
        r.event(gen, HOSTILE, {HOSTILE: HOSTILE, "text": HOSTILE}),
        r.event(gen, "token.chunk", {"text": HOSTILE}),
        r.artifact(gen, "output", {HOSTILE: HOSTILE, "list": [HOSTILE] * 3}, attributes=attrs),
        r.artifact(
            gen,
            "messages",
            {"messages": [{"role": HOSTILE, "content": HOSTILE}]},
        ),
        r.span_end(gen, "ok", metrics={"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}),
        r.span_start(
            tool,
            "tool.call",
            HOSTILE,
            parent=f"missing {HOSTILE}",  # a diagnostic that names the hostile parent id
            toolName=HOSTILE,
            attributes=attrs,
        ),
        r.artifact(
            tool,
            "error.stack",
            f"Error: {HOSTILE}\n    at f ({HOSTILE}:1:2)\n    at g (x.ts:3:4)",
            content_type="text/plain",
            encoding="text",
        ),
        r.span_end(
            tool,
            "error",
            error={"message": HOSTILE, "name": HOSTILE, "stack": HOSTILE, HOSTILE: 1},
        ),
        r.span_end(agent, "error"),
        r.run_end("error"),
    ]


async def open_viewer(app, pilot, screen: RunScreen, span_id: str, kind: str) -> ArtifactScreen:
    assert screen.timeline.select_span(span_id)
    pane = screen.detail_pane
    await wait_for(pilot, lambda: pane.subject is not None and pane.subject.spanId == span_id)
    artifact = next(a for a in pane.artifacts if a.kind == kind)
    pane.request_artifact(artifact)
    await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
    await pilot.pause()
    return app.screen


async def test_every_screen_shows_hostile_records_as_inert_text(backend_url: str) -> None:
    run_id = "run_hostile"
    await post_records(backend_url, hostile_run(run_id))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(130, 45)) as pilot:
        await wait_for(pilot, lambda: "[bold red]x[/]" in screen_text(app), what="runs list")
        assert_screen_inert(app, "runs screen")
        screen = await open_run(app, pilot, run_id)
        await wait_for(pilot, lambda: "漢字" in screen_text(app), what="timeline labels")
        text = assert_screen_inert(app, "run screen")
        assert "[bold red]x[/]" in text  # markup is shown literally
        for span in (f"{run_id}_agent", f"{run_id}_gen", f"{run_id}_tool"):
            assert screen.timeline.select_span(span)
            pane = screen.detail_pane
            await wait_for(pilot, lambda s=span, p=pane: p.subject and p.subject.spanId == s)
            await pilot.pause()
            assert_inert(pane.plain_text(), f"detail pane of {span}")
            assert_screen_inert(app, f"run screen, {span} selected")
        # the diagnostics list (missing parent) and the copy notification
        await pilot.press("D")
        await pilot.pause()
        assert_screen_inert(app, "diagnostics")
        await pilot.press("t", "y")
        await pilot.pause()
        assert_screen_inert(app, "copy notification")
        assert FORBIDDEN.search(span_json(screen.detail_pane.subject)) is None
        for span, kind in (
            (f"{run_id}_tool", "error.stack"),
            (f"{run_id}_gen", "output"),
            (f"{run_id}_gen", "messages"),
        ):
            viewer = await open_viewer(app, pilot, screen, span, kind)
            text = assert_screen_inert(app, f"artifact viewer {kind}")
            assert "[bold red]x[/]" in text
            # the copy is faithful (JSON keeps escaped payloads) but holds no raw control
            assert viewer is app.screen
            await pilot.press("y")
            await pilot.pause()
            assert app.clipboard and FORBIDDEN.search(app.clipboard) is None, kind
            await pilot.press("plus")  # expand every JSON node
            await pilot.pause()
            assert_screen_inert(app, f"artifact viewer {kind}, expanded")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
            assert_screen_inert(app, "help over the artifact viewer")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="back")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run again")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert_screen_inert(app, "help")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run again")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        assert_screen_inert(app, "command palette")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # back to the runs list
        await wait_for(pilot, lambda: not isinstance(app.screen, RunScreen), what="runs again")
        assert_screen_inert(app, "runs screen again")
