"""Make record content inert before it reaches the terminal.

Every string that comes from records (span names, labels, attributes, stacks,
previews) goes through :func:`clean` before display, and is rendered as plain
``rich.text.Text`` -- never parsed as Rich markup. :func:`clean` removes ANSI/CSI/OSC
escape sequences (OSC 52 clipboard writes, title changes), C0/C1 control characters
and Unicode bidi overrides, so record content cannot move the cursor, change colours,
write the clipboard or reorder the text around it.
"""

from __future__ import annotations

import re

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

# C0 controls except tab/newline, DEL, C1 controls, bidi embeddings/overrides/isolates,
# and the line/paragraph separators that some terminals treat as newlines.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)

_SINGLE_LINE = re.compile(r"[\t\n\r]+")


def clean(text: object, *, multiline: bool = False) -> str:
    """Return ``text`` as a string that is safe to print in a terminal.

    With ``multiline=False`` (labels, table cells) tabs and newlines become a single
    space; with ``multiline=True`` (stacks, previews) newlines are kept and tabs expand.
    """
    value = text if isinstance(text, str) else str(text)
    if value.isprintable() and (multiline or "\t" not in value):
        return value
    value = _ESCAPE_SEQUENCE.sub("", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\t", "    ")
        value = _UNSAFE_CHARS.sub(lambda m: "" if m.group() != "\n" else "\n", value)
    else:
        value = _SINGLE_LINE.sub(" ", value)
        value = _UNSAFE_CHARS.sub("", value)
    return value


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")


def inert_json(text: str) -> str:
    """``text`` (JSON) with the controls ``json.dumps(ensure_ascii=False)`` keeps raw escaped.

    ``json.dumps`` escapes C0 controls but leaves DEL, C1 controls and bidi overrides raw;
    outside strings JSON is ASCII, so escaping them as ``\\uXXXX`` keeps the same value.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
