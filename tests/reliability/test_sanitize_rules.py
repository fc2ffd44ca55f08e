"""The rules of crux_tui.sanitize one by one (pure, quick: the tests mutation testing runs
for it): what ``clean`` keeps and removes on each path, how ``inert_json`` escapes, what
``clipboard_text`` says, how ``say`` writes."""

from __future__ import annotations

import io
import json

import pytest

from crux_tui.sanitize import clean, clipboard_text, inert_json, is_unsafe_char, say


class Flushes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed = 0

    def flush(self) -> None:
        self.flushed += 1
        super().flush()


def test_printable_text_is_returned_as_it_is() -> None:
    assert clean("plain [b]x[/b] 漢字 🦀") == "plain [b]x[/b] 漢字 🦀"
    assert clean(12) == "12" and clean(None) == "None"


def test_one_line_text_turns_each_run_of_tabs_and_line_ends_into_one_space() -> None:
    assert clean("a\tb") == "a b"
    assert clean("a\t\t\r\n\nb") == "a b"
    assert clean("a\rb") == "a b"


def test_multiline_text_keeps_line_ends_and_expands_tabs_to_four_spaces() -> None:
    assert clean("a\tb", multiline=True) == "a    b"
    assert clean("l1\r\nl2\nl3", multiline=True) == "l1\nl2\nl3"
    assert clean("l1\r\nl2\x07", multiline=True) == "l1\nl2"
    # a lone carriage return would move the cursor: removed
    assert clean("ab\rc\x07", multiline=True) == "abc"


def test_each_escape_sequence_goes_whole() -> None:
    assert clean("a\x1b[1;31mb") == "ab"  # CSI
    assert clean("a\x1b[?25lb") == "ab"  # CSI with a private marker
    assert clean("a\x1b[ qb") == "ab"  # CSI with an intermediate byte
    assert clean("a\x1b]0;title\x1b\\b") == "ab"  # OSC ended by ST
    assert clean("a\x1b]0;title") == "a"  # unterminated OSC: the rest is its payload
    assert clean("a\x1bXsos\x1b\\b") == "ab"  # SOS
    assert clean("a\x1b^pm\x1b\\b") == "ab"  # PM
    assert clean("a\x1b_apc\x1b\\b") == "ab"  # APC
    assert clean("a\x1bMb") == "ab"  # two-byte escape (reverse index)
    assert clean("a\x1b7b\x1b8") == "a7b8"  # ESC alone goes, what follows is text
    assert clean("a\x9b?1049hb") == "ab"  # 8-bit CSI
    assert clean("a\x9d2;t\x07b") == "ab"  # 8-bit OSC ended by BEL


def test_unsafe_characters_are_those_of_the_unsafe_categories_but_the_joiners() -> None:
    for char in ("\x00", "\x7f", "\x85", "\u200b", "\u202e", "\u2028", "\u2029", "\ud800"):
        assert is_unsafe_char(char), repr(char)
    for char in ("a", " ", "\u00a0", "\u200c", "\u200d", "é", "🦀"):
        assert not is_unsafe_char(char), repr(char)
    assert clean("a\u200cb\u200dc\u200bd") == "a\u200cb\u200dcd"


def test_inert_json_escapes_unsafe_characters_and_keeps_the_value() -> None:
    raw = json.dumps({"k": "a\u202eb\x85c\u200bd\U000e0041e 漢字\n"}, ensure_ascii=False)
    escaped = inert_json(raw)
    assert escaped == '{"k": "a\\u202eb\\u0085c\\u200bd\\udb40\\udc41e 漢字\\n"}'
    assert json.loads(escaped) == json.loads(raw)
    assert inert_json('{\n  "a": 1\n}') == '{\n  "a": 1\n}'  # newlines of pretty JSON stay


def test_inert_json_escapes_astral_characters_as_a_surrogate_pair() -> None:
    # the first and the last astral code points that are unsafe (Cf tag characters)
    assert inert_json("\U000e0001") == "\\udb40\\udc01"
    assert inert_json("\U000e007f") == "\\udb40\\udc7f"
    assert json.loads(f'"{inert_json(chr(0xE0001))}"') == chr(0xE0001)
    assert inert_json("\ufeff") == "\\ufeff"  # the last BMP one: a single escape


def test_clipboard_text_says_when_it_changed_what_is_copied() -> None:
    assert clipboard_text("run_1") == ("run_1", "")
    assert clipboard_text("run\x1b]52;c;x\x07_1") == ("run_1", "control characters removed")
    assert clipboard_text("a\r\nb\tc", "text") == ("a\nb    c", "")  # normalized, not removed
    assert clipboard_text("a\x07b\nc", "text") == ("ab\nc", "control characters removed")
    assert clipboard_text("a\nb", "line") == ("a b", "control characters removed")
    assert clipboard_text('{"a": "\u202e"}', "json") == (
        '{"a": "\\u202e"}',
        "control characters escaped as \\uXXXX",
    )
    assert clipboard_text('{"a": 1}', "json") == ('{"a": 1}', "")


def test_say_writes_one_cleaned_line_and_flushes_when_asked() -> None:
    out = Flushes()
    say("a\x1b[2Jb\nc", out)
    assert out.getvalue() == "ab c\n" and out.flushed == 0
    say("d", out, flush=True)
    assert out.getvalue() == "ab c\nd\n" and out.flushed == 1


def test_say_writes_to_standard_error_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    say("x\x07y")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "xy\n")
