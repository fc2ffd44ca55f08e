"""Stack traces as frames, and from a frame to the code (pure, no Textual).

* :func:`parse_stack` splits a stack into lines and recognises frames of V8/Node
  (``at fn (file:line:col)``), Firefox/Safari (``fn@file:line:col``) and Python
  (``File "file", line N, in fn``);
* :func:`is_library` tells the user's code from libraries and runtime internals
  (``node_modules/``, ``node:internal``, ``site-packages`` …);
* :func:`resolve_source` finds a frame's file under the current directory or a source root;
* :func:`editor_command` is the argv that opens ``$VISUAL`` / ``$EDITOR`` at a line.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

_V8_CALL = re.compile(r"^\s*at\s+(?:async\s+)?(?P<fn>.+?)\s+\((?P<loc>[^()]+)\)\s*$")
_V8_BARE = re.compile(r"^\s*at\s+(?:async\s+)?(?P<loc>\S+)\s*$")
_GECKO = re.compile(r"^\s*(?P<fn>[^@\s]*)@(?P<loc>\S+)\s*$")
_PYTHON = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>.+))?\s*$')
_LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")

LIBRARY_MARKERS = ("node_modules/", "site-packages/", "dist-packages/", "/lib/python")
RUNTIME_PREFIXES = ("node:", "internal/", "bun:", "deno:", "ext:", "<", "native")
#: Editors that take ``--goto file:line:col``, and those that take ``file:line:col``; any
#: other editor gets ``+LINE file`` (vi, vim, nvim, emacs, nano, micro, kak, …).
GOTO_EDITORS = frozenset({"code", "code-insiders", "codium", "vscodium", "cursor"})
COLON_EDITORS = frozenset({"hx", "helix", "subl", "sublime_text", "zed"})
#: At most this many trailing parts of a frame's path are tried under each root.
MAX_SUFFIX_PARTS = 12


@dataclass(frozen=True)
class Frame:
    """One frame: where it points (``path`` as the stack says, after URL prefixes)."""

    path: str
    line: int
    column: int | None = None
    function: str = ""

    @property
    def library(self) -> bool:
        return is_library(self.path)

    @property
    def location(self) -> str:
        column = f":{self.column}" if self.column else ""
        return f"{self.path}:{self.line}{column}"


_RUNTIME_LINE = re.compile(r"^\s*at\s")


@dataclass(frozen=True)
class StackLine:
    text: str
    frame: Frame | None = None

    @property
    def library(self) -> bool:
        """A library frame, or a runtime line with no file (``at async Promise.all (index 0)``,
        ``at <anonymous>``): dimmed and folded with the library frames around it."""
        if self.frame is not None:
            return self.frame.library
        return bool(_RUNTIME_LINE.match(self.text))


def parse_stack(stack: str) -> list[StackLine]:
    """Every line of ``stack``, with its frame when it is one."""
    return [StackLine(line, parse_frame(line)) for line in stack.splitlines()]


def parse_frame(line: str) -> Frame | None:
    """The frame a stack line names, or ``None`` (a message line, ``at <anonymous>``…)."""
    match = _PYTHON.match(line)
    if match:
        path = match["path"]
        return Frame(path, int(match["line"]), None, (match["fn"] or "").strip())
    function, location = "", ""
    for pattern in (_V8_CALL, _V8_BARE, _GECKO):
        match = pattern.match(line)
        if match:
            function = (match.groupdict().get("fn") or "").strip()
            location = match["loc"]
            break
    if not location:
        return None
    found = _LOCATION.match(location)
    if not found:
        return None
    path = source_path(found["path"])
    if not path:
        return None
    column = int(found["col"]) if found["col"] else None
    return Frame(path, int(found["line"]), column, function)


def source_path(raw: str) -> str:
    """A frame's file without URL dressing: ``file:///a/b.ts`` -> ``/a/b.ts``,
    ``webpack://app/./src/x.ts`` -> ``src/x.ts``."""
    path = raw.strip()
    if path.startswith("file://"):
        return unquote(path[len("file://") :])
    for scheme in ("webpack-internal:///", "webpack://"):
        if path.startswith(scheme):
            rest = path[len(scheme) :]
            if scheme == "webpack://" and "/" in rest:
                rest = rest.split("/", 1)[1]  # drop the bundle name
            return rest.removeprefix("./")
    return path


def is_library(path: str) -> bool:
    """Library code or a runtime internal (dimmed, foldable), not the user's own code."""
    normalized = path.replace("\\", "/")
    if normalized.startswith(RUNTIME_PREFIXES):
        return True
    return any(marker in normalized for marker in LIBRARY_MARKERS)


def source_roots(extra: Sequence[str | Path] = (), cwd: Path | None = None) -> list[Path]:
    """Where frames' files are looked for: the current directory, then each ``--source-root``."""
    roots = [cwd or Path.cwd(), *(Path(r).expanduser() for r in extra)]
    unique: list[Path] = []
    for root in roots:
        resolved = root.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def resolve_source(path: str, roots: Sequence[Path]) -> tuple[Path | None, list[Path]]:
    """(the file a frame points to, the paths looked for first). Only files under a root are
    opened: an absolute path under one is taken as is; otherwise ``path`` is tried under each
    root, then its shorter and shorter trailing parts (a stack from a deployed bundle:
    ``/var/task/convex/tools.ts`` is found as ``<root>/convex/tools.ts``)."""
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = [p for p in pure.parts if p not in ("/", ".", "")]
    looked = [Path(pure)] if pure.is_absolute() else [root / Path(*parts) for root in roots]
    if not parts or ".." in parts:
        return None, looked
    if pure.is_absolute() and _under(Path(pure), roots):
        return Path(pure), looked
    for start in range(max(0, len(parts) - MAX_SUFFIX_PARTS), len(parts)):
        suffix = Path(*parts[start:])
        for root in roots:
            candidate = root / suffix
            if _under(candidate, [root]):
                return candidate, looked
    return None, looked


def _under(candidate: Path, roots: Sequence[Path]) -> bool:
    """``candidate`` is a file inside one of ``roots`` (symbolic links resolved)."""
    try:
        if not candidate.is_file():
            return False
        real = candidate.resolve()
    except OSError:
        return False
    return any(real.is_relative_to(root) for root in roots)


def editor_from_env(env: Mapping[str, str] | None = None) -> str:
    """``$VISUAL``, else ``$EDITOR`` ("" when neither is set)."""
    env = os.environ if env is None else env
    return (env.get("VISUAL") or env.get("EDITOR") or "").strip()


def editor_command(
    editor: str, file: Path | str, line: int, column: int | None = None
) -> list[str]:
    """The argv that opens ``file`` at ``line`` (and column) in ``editor`` (a command line)."""
    argv = shlex.split(editor)
    if not argv:
        raise ValueError("no editor command")
    name = PurePosixPath(argv[0].replace("\\", "/")).name.lower().removesuffix(".exe")
    target = f"{file}:{line}:{column or 1}"
    if name in GOTO_EDITORS:
        return [*argv, "--goto", target]
    if name in COLON_EDITORS:
        return [*argv, target]
    return [*argv, f"+{line}", str(file)]
