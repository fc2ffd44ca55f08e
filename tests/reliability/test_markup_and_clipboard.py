"""Record content in toasts, labels and the clipboard is data, never markup or commands
(issue #13 items 3 and 5)."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.widgets._toast import Toast

from crux_tui.app.main import make_app
from crux_tui.app.screens.runs import RunsScreen
from tests.app.helpers import post_records, simple_run, wait_for
from tests.app.test_run_screen import open_run

APP_DIR = Path(__file__).resolve().parents[2] / "crux_tui" / "app"

#: Calls whose string argument Textual parses as markup (content markup or Rich markup).
MARKUP_CALLS = {"Static", "Label", "notify", "update", "add_row", "add", "add_leaf", "Option"}
#: Calls that build a string from values (so the string may hold record content).
STRING_BUILDERS = {"clean", "str", "format", "join", "describe_error"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _built_string(node: ast.expr) -> bool:
    """An expression that makes a ``str`` out of variables (not a Text, not a literal)."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return (
            _built_string(node.left)
            or _built_string(node.right)
            or (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str))
        )
    if isinstance(node, ast.Call):
        return _name(node.func) in STRING_BUILDERS
    return False


def _plain(call: ast.Call) -> bool:
    return any(
        k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in call.keywords
    )


def markup_hazards(source: str, filename: str) -> list[str]:
    """Each call that hands Textual a markup string built from variables, and each
    ``notify``/``Static``/``Label`` that does not turn markup off for a non-literal."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or _name(node.func) not in MARKUP_CALLS:
            continue
        name = _name(node.func)
        args = [*node.args[:1], *(k.value for k in node.keywords if k.arg in ("message",))]
        where = f"{filename}:{node.lineno} {name}(...)"
        if name == "notify" and not _plain(node):
            found.append(f"{where}: notify without markup=False")
        elif name in ("Static", "Label") and args and not _plain(node):
            first = args[0]
            literal = isinstance(first, ast.Constant) and "[" not in str(first.value)
            text_call = isinstance(first, ast.Call) and _name(first.func) == "Text"
            if not (literal or text_call):
                found.append(f"{where}: a non-literal without markup=False")
        elif name not in ("notify", "Static", "Label") and any(_built_string(a) for a in args):
            found.append(f"{where}: a markup string built from variables (use Text)")
    return found


def test_the_hygiene_check_finds_what_it_looks_for() -> None:
    sample = (
        "self.notify(f'x {v}')\n"
        "self.notify(f'x {v}', markup=False)\n"
        "yield Static(name)\n"
        "yield Static(Text(name))\n"
        "yield Static('[b]literal[/b]')\n"
        "w.update(f'{name}')\n"
        "w.update(Text(name))\n"
        "table.add_row(clean(name))\n"
        "node.add_leaf('x' + name)\n"
    )
    lines = sorted(int(h.split(":")[1].split(" ")[0]) for h in markup_hazards(sample, "s.py"))
    assert lines == [1, 3, 5, 6, 8, 9]


def test_no_markup_string_is_built_from_values_in_the_app() -> None:
    """Walks every place the app calls notify, update, Static(...), Label(...), add_row,
    tree/option labels: none parses a string made from record content as markup."""
    hazards = []
    files = sorted(APP_DIR.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        hazards += markup_hazards(path.read_text(), str(path.relative_to(APP_DIR)))
    assert hazards == []


HOSTILE_NOTICES = [
    "line 3 (rec[link=https://evil.example]unclosed): invalid_record: bad",
    "line 4 ([@click=app.screenshot('/tmp/pwned.svg')]click me[/]): invalid_record",
    "line 5 ([reverse]loud[/reverse] [/nope]): invalid_record",
]


async def test_hostile_notices_show_as_text_and_do_not_crash(backend_url: str) -> None:
    """`open` passes rejected-record problems to the viewer; an unbalanced ``[link=…]``
    crashed it at start-up, and ``[@click=…]`` made a clickable action."""
    app = make_app(backend_url, poll_interval=0.2, notices=HOSTILE_NOTICES)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) >= 3, what="toasts")
        title = "While loading\n"
        rendered = [toast.render() for toast in app.screen.query(Toast)]
        assert sorted(r.plain for r in rendered) == sorted(title + n for n in HOSTILE_NOTICES)
        for content in rendered:  # only the title is styled: no link, no click action
            assert all(span.end <= len(title) for span in content.spans), content.spans
        assert app.is_running


def toasts_say(app, words: str) -> bool:
    return any(words in toast.render().plain for toast in app.screen.query(Toast))


EVIL_SPAN = "span\x1b[201~\nrm -rf ~\n\x1b[200~"


async def test_copied_ids_are_cleaned_and_the_toast_says_so(backend_url: str) -> None:
    """Bracketed-paste escape and newlines in a span id must not run commands when
    the copy is pasted into a shell."""
    records = simple_run("run_paste", "paste me")
    records[1] = {**records[1], "spanId": EVIL_SPAN, "name": "agent \u202eesrever\x85"}
    records[2] = {**records[2], "parentSpanId": EVIL_SPAN}
    records[4] = {**records[4], "spanId": EVIL_SPAN}
    await post_records(backend_url, records)
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        screen = await open_run(app, pilot, "run_paste")
        assert screen.timeline.select_span(EVIL_SPAN)
        await wait_for(
            pilot,
            lambda: screen.detail_pane.subject and screen.detail_pane.subject.spanId == EVIL_SPAN,
            what="selected",
        )
        screen.timeline.focus()
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard, what="copy")
        assert "\x1b" not in app.clipboard and "\n" not in app.clipboard
        assert app.clipboard == "span rm -rf ~ "
        await wait_for(pilot, lambda: toasts_say(app, "control characters removed"), what="toast")
        await pilot.press("Y")
        await wait_for(pilot, lambda: app.clipboard.startswith("{"), what="JSON copy")
        # JSON escapes them (the same value, nothing raw to paste)
        assert "\x1b" not in app.clipboard and "\\u001b[201~\\nrm -rf ~" in app.clipboard
        # bidi overrides and C1 controls, which JSON encoders leave raw, are escaped
        assert "\u202e" not in app.clipboard and "\x85" not in app.clipboard
        assert "agent \\u202eesrever\\u0085" in app.clipboard
        await wait_for(pilot, lambda: toasts_say(app, "escaped as"), what="the JSON toast")


async def test_a_plain_copy_says_nothing_more(backend_url: str) -> None:
    await post_records(backend_url, simple_run("run_plain", "plain"))
    app = make_app(backend_url, poll_interval=0.2)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count,
            what="listed",
        )
        screen = app.screen
        screen.table.move_cursor(row=screen.table.get_row_index("run_plain"))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard == "run_plain", what="copy")
        await wait_for(pilot, lambda: toasts_say(app, "Copied run id"), what="toast")
        assert not toasts_say(app, "removed")
