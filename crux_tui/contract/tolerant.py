"""Tolerant JSON: bounded nesting depth and best-effort decoding into the contract models.

Two concerns shared by the backend and the client:

* **Depth.** ``msgspec`` (like any recursive decoder) raises ``RecursionError`` on
  JSON nested about a thousand levels deep, and the app's renderers recurse too.
  :func:`limit_depth` replaces containers nested deeper than :data:`MAX_DEPTH` with the
  :data:`TRUNCATED` marker string (iteratively, so any depth is fine), and
  :func:`truncate_json_bytes` does the same on raw JSON text that is too deep to decode.
* **Shape.** :func:`decode_tolerant` decodes strictly first; when the body does not match
  the model (``"children": "x"``, ``"durationMs": "abc"``, ``null`` where an object
  belongs), it decodes generic JSON and coerces it into the model node by node: a field
  that does not fit gets its default and is reported, a list element that does not fit is
  dropped and reported. The caller shows what could be parsed and says how much could not.
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

T = TypeVar("T")

#: Containers nested deeper than this (counting the record or body itself as level 0)
#: are replaced by :data:`TRUNCATED`.
MAX_DEPTH = 64
#: What a too-deep container is replaced with.
TRUNCATED = f"<truncated: nested deeper than {MAX_DEPTH} levels>"
#: Depth at which :func:`truncate_json_bytes` cuts raw JSON (well below the decoder's limit).
RAW_MAX_DEPTH = 200

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


_CONTAINERS = (dict, list, tuple)


def _too_deep(value: Any, max_depth: int) -> bool:
    """Whether a container sits at level ``>= max_depth`` (the root is level 0)."""
    return _deeper_than(value, max_depth)


def _deeper_than(item: Any, budget: int) -> bool:  # recursion bounded by max_depth
    if isinstance(item, dict):
        children: Any = item.values()
    elif isinstance(item, list | tuple):
        children = item
    else:
        return False
    if budget <= 0:
        return True
    for child in children:  # a plain loop: this runs for every ingested record
        if isinstance(child, _CONTAINERS) and _deeper_than(child, budget - 1):
            return True
    return False


def limit_depth(value: Any, max_depth: int = MAX_DEPTH) -> tuple[Any, int]:
    """``(value, n)``: ``value`` with containers at level ``>= max_depth`` replaced.

    ``n`` counts the replaced containers; when it is 0 the original object is returned.
    """
    if not _too_deep(value, max_depth):
        return value, 0
    count = 0

    def cut(item: Any, level: int) -> Any:  # recursion bounded by max_depth
        nonlocal count
        if isinstance(item, dict | list | tuple):
            if level >= max_depth:
                count += 1
                return TRUNCATED
            if isinstance(item, dict):
                return {k: cut(v, level + 1) for k, v in item.items()}
            return [cut(v, level + 1) for v in item]
        return item

    return cut(value, 0), count


def truncate_json_bytes(raw: bytes, max_depth: int = RAW_MAX_DEPTH) -> bytes:
    """Raw JSON with every container at level ``>= max_depth`` replaced by the marker string.

    Works on the text (strings are skipped, brackets counted), so it never recurses.
    Malformed input comes back malformed; decoding it then fails as usual.
    """
    marker = msgspec.json.encode(TRUNCATED)
    out: list[bytes] = []
    depth = 0
    pos = 0  # start of the not yet copied text
    cut_from: int | None = None
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token[:1] == b'"':
            continue
        if token in (b"[", b"{"):
            if depth == max_depth and cut_from is None:
                cut_from = match.start()
            depth += 1
        else:
            depth -= 1
            if cut_from is not None and depth == max_depth:
                out.append(raw[pos:cut_from])
                out.append(marker)
                pos = match.end()
                cut_from = None
    out.append(raw[pos:] if cut_from is None else raw[pos:cut_from] + marker)
    return b"".join(out)


def decode_json(raw: bytes) -> Any:
    """Generic JSON decode that survives any nesting depth (too deep parts are marked)."""
    try:
        return msgspec.json.decode(raw)
    except RecursionError:
        return msgspec.json.decode(truncate_json_bytes(raw))


# ---------------------------------------------------------------------- tolerant decode


class _Unfit(Exception):
    """A value does not fit its type and has no sensible replacement at this level."""


_NONE = type(None)


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _field_default(field: msgspec.structs.FieldInfo) -> Any:
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    raise _Unfit(field.name)


def _coerce(value: Any, tp: Any, path: str, problems: list[str]) -> Any:
    """Convert ``value`` to ``tp``, repairing what does not fit (raises :class:`_Unfit`)."""
    try:
        return msgspec.convert(value, tp)
    except (msgspec.ValidationError, RecursionError, TypeError, ValueError):
        pass
    if tp is Any or tp is object:
        return limit_depth(value)[0]
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and _NONE in args:
            return None
        for arg in args:
            if arg is _NONE:
                continue
            if _is_struct(arg) or get_origin(arg) in (list, dict):
                return _coerce(value, arg, path, problems)
        raise _Unfit(path)
    if _is_struct(tp):
        if not isinstance(value, dict):
            raise _Unfit(path)
        kwargs: dict[str, Any] = {}
        for field in msgspec.structs.fields(tp):
            if field.encode_name not in value:
                continue
            where = f"{path}.{field.encode_name}" if path else field.encode_name
            try:
                kwargs[field.name] = _coerce(value[field.encode_name], field.type, where, problems)
            except _Unfit:
                problems.append(where)
                kwargs[field.name] = _field_default(field)
        return tp(**kwargs)
    if origin is list:
        if not isinstance(value, list):
            raise _Unfit(path)
        (arg,) = get_args(tp) or (Any,)
        out = []
        for index, item in enumerate(value):
            try:
                out.append(_coerce(item, arg, f"{path}[{index}]", problems))
            except _Unfit:
                problems.append(f"{path}[{index}]")
        return out
    if origin is dict:
        if not isinstance(value, dict):
            raise _Unfit(path)
        _, arg = get_args(tp) or (str, Any)
        result: dict[str, Any] = {}
        for key, item in value.items():
            try:
                result[str(key)] = _coerce(item, arg, f"{path}.{key}", problems)
            except _Unfit:
                problems.append(f"{path}.{key}")
        return result
    raise _Unfit(path)


def coerce(value: Any, kind: type[T]) -> tuple[T, list[str]]:
    """Best-effort conversion of generic JSON ``value`` into ``kind``.

    Returns the value and the paths (``root.children[0].durationMs``) that could not be
    parsed. Raises ``msgspec.ValidationError`` when nothing usable is left: a struct
    expected and a string found at the top, or an object none of whose fields fit.
    """
    problems: list[str] = []
    expected = getattr(kind, "__name__", str(kind))
    try:
        result = _coerce(value, kind, "", problems)
    except _Unfit as exc:
        raise msgspec.ValidationError(f"expected {expected}, got {type(value).__name__}") from exc
    if _is_struct(kind) and isinstance(value, dict) and problems:
        fields = msgspec.structs.fields(typing.cast("type[msgspec.Struct]", kind))
        known = [f.encode_name for f in fields if f.encode_name in value]
        if known and all(name in problems for name in known):
            raise msgspec.ValidationError(f"no field of the body fits {expected}")
    return typing.cast(T, result), problems


def decode_tolerant(raw: bytes, kind: type[T]) -> tuple[T, list[str]]:
    """Decode ``raw`` as ``kind``: strictly when it fits, else field by field.

    Raises ``msgspec.DecodeError`` for text that is not JSON and ``msgspec.ValidationError``
    when the top level does not fit at all.
    """
    try:
        return msgspec.json.decode(raw, type=kind), []
    except (msgspec.ValidationError, RecursionError):
        pass
    return coerce(decode_json(raw), kind)


def dumps(value: Any, *, indent: int | None = None, compact: bool = False) -> str:
    """``json.dumps`` for display that survives any nesting: too-deep values are cut to
    :data:`MAX_DEPTH` levels (with the marker) instead of raising ``RecursionError``."""
    separators = (",", ":") if compact else None
    try:
        return json.dumps(
            value, indent=indent, separators=separators, ensure_ascii=False, default=str
        )
    except RecursionError:
        limited, _ = limit_depth(value)
        return json.dumps(
            limited, indent=indent, separators=separators, ensure_ascii=False, default=str
        )
