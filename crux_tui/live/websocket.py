"""The ``/ws/ui`` channel of `crux dev` (``crux-v5.md`` D.3): its URL and its messages.

Pure functions, no I/O: the feed owns the connection.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import msgspec

from crux_tui.contract.models import ObservabilityEvent

WS_PATH = "/ws/ui"
#: The one message type an observability client acts on; every other type is ignored.
OBSERVABILITY_MESSAGE = "observability:event"


def ws_url(base_url: str, token: str | None = None) -> str:
    """``ws(s)://host[:port]/<base path>/ws/ui[?t=token]`` for an ``http(s)`` base URL."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = urlencode({"t": token}) if token else ""
    return urlunsplit((scheme, parts.netloc, parts.path + WS_PATH, query, ""))


class _Type(msgspec.Struct, gc=False):
    """Only the ``type`` of a message: every other member is skipped, unparsed."""

    type: str = ""


class _RawEvent(msgspec.Struct, kw_only=True, gc=False):
    tag: str = msgspec.field(default="ObservabilityEvent", name="_tag")
    id: str = ""
    timestamp: int = 0
    kind: str = ""
    action: str = ""
    severity: str = "info"
    refId: str = ""
    #: an object, or (seen from some builds) that object as a JSON string
    payload: Any = None


class _Envelope(msgspec.Struct, gc=False):
    event: _RawEvent | None = None


_type_decoder = msgspec.json.Decoder(_Type)
_envelope_decoder = msgspec.json.Decoder(_Envelope)


def decode_message(raw: str | bytes) -> ObservabilityEvent | None:
    """The ``ObservabilityEvent`` of an ``observability:event`` message, else ``None``.

    Every other message type (``index`` -- megabytes --, ``index:delta``,
    ``inspect:event``, ``flow:snapshot``, ``runtime:snapshot``, invalidations, types
    added later) and anything undecodable is ``None``: ignored, never an error.
    """
    try:
        if _type_decoder.decode(raw).type != OBSERVABILITY_MESSAGE:
            return None
        raw_event = _envelope_decoder.decode(raw).event
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if raw_event is None:
        return None
    payload = raw_event.payload
    if isinstance(payload, str | bytes):
        try:
            payload = msgspec.json.decode(payload)
        except msgspec.DecodeError:
            payload = None
    return ObservabilityEvent(
        id=raw_event.id,
        timestamp=raw_event.timestamp,
        kind=raw_event.kind,
        action=raw_event.action,
        severity=raw_event.severity,
        refId=raw_event.refId,
        payload=payload if isinstance(payload, dict) else None,
    )
