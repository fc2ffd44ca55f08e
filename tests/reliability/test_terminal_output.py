"""What crux-tui itself writes to a terminal: cleaned by Unicode category, one helper for
every command (issue #13 items 2 and 11), and ``--url`` problems said once, plainly
(issue #15 item 14)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from records import batch, simple_run
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from crux_tui.app.main import make_app
from crux_tui.backend.embedded import CleanLogFormatter, EmbeddedBackend
from crux_tui.cli import backend_url, main
from crux_tui.sanitize import clean, say
from tests.app.helpers import screen_text, wait_for
from tests.reliability.terminal import run as run_in_terminal

# ---------------------------------------------------------------------- item 11


@pytest.mark.parametrize(
    "char",
    ["\u061c", "\u200b", "\u2060", "\u2061", "\u00ad", "\u180e", "\ufff9", "\U000e0041", "\x85"],
)
def test_format_and_control_characters_are_removed(char: str) -> None:
    assert clean(f"a{char}b") == "ab"
    assert clean(f"a{char}b", multiline=True) == "ab"


def test_cleaning_is_by_category() -> None:
    """Every Cc/Cf/Zl/Zp character of the whole Unicode range is removed (but the two
    joiners emoji and scripts need); letters, marks and spaces stay."""
    unsafe = {"Cc", "Cf", "Zl", "Zp", "Cs"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category in unsafe and char not in "\u200c\u200d\t\n\r":
            out = clean(f"x{char}y")  # (ESC and 8-bit CSI/OSC also take what follows)
            assert char not in out and out.startswith("x"), hex(code)
    assert (
        clean("🧑\u200d🚀 \u0645\u200c\u0627 a\u00a0b\u3000c")
        == "🧑\u200d🚀 \u0645\u200c\u0627 a\u00a0b\u3000c"
    )


HIDDEN = "bidi \u202eevil\u202c c1 \x85\x9b31m zero\u200bwidth"


def test_export_to_a_terminal_escapes_what_json_leaves_raw(backend: EmbeddedBackend) -> None:
    records = simple_run("tty")
    records[0] = {**records[0], "name": HIDDEN}
    assert httpx.post(backend.url + "/api/observability/records", json=batch(records)).is_success
    code, shown = run_in_terminal(["export", "tty", "--url", backend.url])
    assert code == 0, shown
    for char in ("\u202e", "\x85", "\x9b", "\u200b"):
        assert char not in shown, repr(char)
    assert "bidi \\u202eevil\\u202c c1 \\u0085\\u009b31m zero\\u200bwidth" in shown
    assert "escaped" in shown  # and the user is told why
    piped = subprocess.run(
        [sys.executable, "-m", "crux_tui", "export", "tty", "--url", backend.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert HIDDEN.replace("\x85", "\\u0085") in piped.stdout or HIDDEN in piped.stdout
    assert piped.stderr == ""  # a pipe gets the records as stored


# ---------------------------------------------------------------------- item 2


def test_say_cleans_every_line() -> None:
    out = io.StringIO()
    say("crux-tui: \x1b]52;c;ZXZpbA==\x07id\u202e\nnext", out)
    assert out.getvalue() == "crux-tui: id next\n"


def test_cli_errors_are_cleaned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "x", "--url", "http://127.0.0.1:1/\x1b]2;title\x07"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\x07" not in err
    with pytest.raises(SystemExit):
        main(["serve", "--port", "x\x1b[2J"])
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1


def test_server_log_lines_are_cleaned() -> None:
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "bad %s", ("\x1b]0;t\x07x\u202e",), None
    )
    line = CleanLogFormatter("%(levelname)s: %(message)s").format(record)
    assert line == "ERROR: bad x"


# ---------------------------------------------------------------------- #15 item 14


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("localhost:4400", "http://localhost:4400"),
        ("127.0.0.1:4400/", "http://127.0.0.1:4400"),
        ("https://tunnel.example", "https://tunnel.example"),
        ("[::1]:4400", "http://[::1]:4400"),
    ],
)
def test_url_without_scheme_gets_http(given: str, expected: str) -> None:
    assert backend_url(given) == expected


@pytest.mark.parametrize("given", ["ftp://x", "http://", "localhost:port", "http://h:99999999"])
def test_a_url_that_cannot_work_is_one_line(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "x", "--url", given]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid backend URL" in err


def test_export_to_a_scheme_less_url_works(
    backend: EmbeddedBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    httpx.post(backend.url + "/api/observability/records", json=batch(simple_run("a")))
    assert main(["export", "a", "--url", backend.url.removeprefix("http://")]) == 0
    assert capsys.readouterr().out.count("\n") == len(simple_run("a"))


def _web_page() -> Starlette:
    async def page(request: Any, exc: Any = None) -> HTMLResponse:
        return HTMLResponse("<html><body><h1>Not Found</h1></body></html>", status_code=404)

    return Starlette(routes=[Route("/", page)], exception_handlers={404: page})


def test_export_from_a_web_server_says_it_is_not_crux(
    serve_app: Callable[[Any], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_app(_web_page())
    assert main(["export", "x", "--url", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "this is not a Crux devtools backend" in err and "<html>" not in err


async def test_viewer_on_a_web_server_says_it_is_not_crux_once(
    serve_app: Callable[[Any], str],
) -> None:
    url = serve_app(_web_page())
    app = make_app(url, poll_interval=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        expected = (
            f"this is not a Crux devtools backend (GET {url}/api/observability/runs/page"
            " answered 404)"
        )
        await wait_for(pilot, lambda: "not a Crux devtools backend" in screen_text(app))
        text = " ".join(screen_text(app).split())
        assert expected in text
        assert text.count("not a Crux devtools backend") == 1
        assert "<html>" not in text and "Cannot reach" not in text
