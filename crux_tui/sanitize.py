"""Make record content inert before it reaches the terminal.

Every string that comes from records (span names, labels, attributes, stacks,
previews) goes through :func:`clean` before display, and is rendered as plain
``rich.text.Text`` -- never parsed as Rich markup. :func:`clean` removes ANSI/CSI/OSC
escape sequences (OSC 52 clipboard writes, title changes) and, by Unicode category,
every control (Cc), format (Cf: bidi overrides and marks, zero-width spaces, word
joiners, tag characters), surrogate (Cs) and line/paragraph separator (Zl, Zp)
character, so record content cannot move the cursor, change colours, write the
clipboard, hide text or reorder the text around it. The zero-width joiners (U+200C,
U+200D) stay: emoji sequences and several scripts need them, and they reorder nothing.

Lines crux-tui itself writes to a terminal (``open``'s problems, ``serve``'s messages,
errors) go through :func:`say`, which cleans them the same way.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from typing import Literal, TextIO

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST),
# DCS/SOS/PM/APC (ESC P/X/^/_ ... ST) and two-byte escapes.
_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                  # CSI
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?       # OSC, ended by BEL or ST (or unterminated)
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?            # DCS, SOS, PM, APC
  | \x1b[@-Z\\-_]                            # other two-byte escapes
  | \x9b[0-?]*[ -/]*[@-~]                    # 8-bit CSI
  | \x9d[^\x07\x9c]*[\x07\x9c]?              # 8-bit OSC
    """,
    re.VERBOSE,
)

#: Unicode categories never written to a terminal.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Format characters that are kept: the joiners of emoji sequences and Indic/Arabic text.
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})

# Everything outside printable ASCII is looked at one character at a time (cached).
_NOT_PRINTABLE_ASCII = re.compile("[^\x20-\x7e\n]")
_SINGLE_LINE = re.compile(r"[\t\n\r]+")


@functools.lru_cache(maxsize=4096)
def is_unsafe_char(char: str) -> bool:
    """Whether ``char`` may not reach a terminal (see :data:`UNSAFE_CATEGORIES`)."""
    return char not in _KEPT_FORMAT and unicodedata.category(char) in UNSAFE_CATEGORIES


def _drop_unsafe(match: re.Match[str]) -> str:
    char = match.group()
    return "" if is_unsafe_char(char) else char


def clean(text: object, *, multiline: bool = False) -> str:
    """Return ``text`` as a string that is safe to print in a terminal.

    With ``multiline=False`` (labels, table cells) tabs and newlines become a single
    space; with ``multiline=True`` (stacks, previews) newlines are kept and tabs expand.
    """
    value = text if isinstance(text, str) else str(text)
    if value.isprintable():  # no tab, line end or escape in it
        return value
    value = _ESCAPE_SEQUENCE.sub("", value)
    # multiline: a carriage return is a control character, so "\r\n" ends as "\n" below
    value = value.replace("\t", "    ") if multiline else _SINGLE_LINE.sub(" ", value)
    return _NOT_PRINTABLE_ASCII.sub(_drop_unsafe, value)


def say(message: object, stream: TextIO | None = None, *, flush: bool = False) -> None:
    """Write ``message`` as one cleaned line to ``stream`` (standard error by default).

    The one way crux-tui writes its own lines to a terminal: a record id or a server's
    answer inside a message cannot set the title, the clipboard or the colours.
    """
    out = stream if stream is not None else sys.stderr
    out.write(clean(message) + "\n")
    if flush:
        out.flush()


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if not is_unsafe_char(char):
        return char
    code = ord(char)
    if code > 0xFFFF:  # JSON escapes astral characters as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


_JSON_CANDIDATES = _NOT_PRINTABLE_ASCII  # newlines stay: pretty-printed JSON has them


def inert_json(text: str) -> str:
    """``text`` (JSON) with every unsafe character escaped as ``\\uXXXX``.

    ``json.dumps(ensure_ascii=False)`` and msgspec escape C0 controls but leave DEL, C1
    controls, bidi overrides and other format characters raw; outside strings JSON is
    ASCII, so escaping them keeps the same value. Text that is not JSON (a foreign
    backend's payload) comes out with the same characters escaped, still inert.
    """
    return _JSON_CANDIDATES.sub(_json_escape, text)


ClipKind = Literal["line", "text", "json"]


def clipboard_text(text: str, kind: ClipKind = "line") -> tuple[str, str]:
    """``(what to copy, a note when that differs from text)``.

    ``line`` (ids) is cleaned to one line, ``text`` (stacks, previews) keeps its newlines,
    ``json`` escapes unsafe characters as ``\\uXXXX`` (the same JSON value).
    """
    if kind == "json":
        copied = inert_json(text)
        return copied, "" if copied == text else "control characters escaped as \\uXXXX"
    copied = clean(text, multiline=kind == "text")
    if copied == text:
        return copied, ""
    if kind == "text" and copied == text.replace("\r\n", "\n").replace("\t", "    "):
        return copied, ""  # only line ends and tabs normalized
    return copied, "control characters removed"
