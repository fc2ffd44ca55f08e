"""The ``/ws/ui`` channel of `crux dev` (``crux-v5.md`` D.3): its URL and its messages.

Pure functions, no I/O: the feed owns the connection.
"""

from __future__ import annotations

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


class _Envelope(msgspec.Struct, gc=False):
    #: left undecoded until the type says it is worth it (empty when absent)
    event: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


_type_decoder = msgspec.json.Decoder(_Type)
_envelope_decoder = msgspec.json.Decoder(_Envelope)
_event_decoder = msgspec.json.Decoder(ObservabilityEvent)


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
    if not raw_event or bytes(raw_event) == b"null":
        return None
    try:
        return _event_decoder.decode(raw_event)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _with_payload_text(raw_event)


def _with_payload_text(raw_event: msgspec.Raw) -> ObservabilityEvent | None:
    """An event whose ``payload`` came as a JSON string (seen from some builds)."""
    try:
        data = msgspec.json.decode(raw_event)
        if not isinstance(data, dict) or not isinstance(data.get("payload"), str):
            return None
        data["payload"] = msgspec.json.decode(data["payload"])
        return msgspec.convert(data, ObservabilityEvent)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
