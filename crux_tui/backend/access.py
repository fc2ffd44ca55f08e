"""Who may talk to the backend: the Host, Origin and token checks in front of every route.

One ASGI middleware covers HTTP and WebSocket scopes alike:

* **Host** (DNS rebinding, tunnels): without a token only loopback names are answered
  (``127.0.0.1``, ``localhost``, ``[::1]``, with the bound port or none); a tunnel's
  public name must be allowed by name (``--allow-host NAME``), which requires the token.
* **Origin**: a browser origin must be loopback or the same host (403 otherwise).
* **Token**: when set, reads carry ``?t=TOKEN``; the writes (ingest, and the delete of an
  operation) may use ``Authorization: Bearer`` instead.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crux_tui.sanitize import clean

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
INGEST_PATH = "/api/observability/records"
#: ``DELETE {RUNS_PATH}/{id}`` deletes an operation (a write, like ingest).
RUNS_PATH = "/api/observability/runs"
_MAX_SHOWN_HOST = 80


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (``[::1]`` brackets allowed)."""
    name = host.lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header value -> ``(lower-case name without brackets, port or None)``.

    A value that is not a name with an optional numeric port gives ``("", None)``.
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return "", None
        port_text = rest[1:] if rest else None
    elif value.count(":") == 1:
        name, port_text = value.split(":")
    elif ":" in value:
        return "", None
    else:
        name, port_text = value, None
    if port_text is None:
        return name.rstrip("."), None
    if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        return "", None
    return name.rstrip("."), int(port_text)


def normalize_allowed_host(value: str) -> str:
    """An ``--allow-host`` value as it is matched (lower case; brackets, scheme, path and
    trailing dot removed): ``https://Tunnel.example/`` -> ``tunnel.example``."""
    text = value.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    text = text.split("/", 1)[0]
    name, port = split_host(text)
    return f"{name}:{port}" if port is not None else name


class AccessMiddleware:
    """Host (403), Origin (403) and token (401) checks in front of every route."""

    def __init__(
        self, app: ASGIApp, token: str | None = None, allowed_hosts: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.token = token or None
        self.allowed_hosts = frozenset(normalize_allowed_host(h) for h in allowed_hosts if h)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        refusal = self.host_refusal(host, scope.get("server"))
        if refusal is None:
            origin = headers.get("origin")
            if origin is not None and not origin_allowed(origin, host):
                refusal = "cross-origin request denied"
        if refusal is not None:
            await _deny(scope, receive, send, 403, refusal)
            return
        origin = headers.get("origin")
        if kind == "http" and scope["method"] == "OPTIONS" and origin is not None:
            await Response(status_code=204, headers=_cors_headers(origin))(scope, receive, send)
            return
        if self.token and not self._authorized(scope, headers):
            await _deny(scope, receive, send, 401, "unauthorized")
            return
        if origin is None or kind != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in _cors_headers(origin).items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def host_refusal(self, host: str, server: Any) -> str | None:
        """Why a request with this ``Host`` header is refused, or ``None`` when it is not.

        ``server`` is the ASGI ``(address, port)`` the request arrived on.
        """
        if self.token and not self.allowed_hosts:
            return None  # every request needs the token anyway (a non-loopback bind)
        name, port = split_host(host)
        bound = server[1] if isinstance(server, (tuple, list)) and len(server) > 1 else None
        if name and is_loopback(name) and (port is None or bound is None or port == bound):
            return None
        if name and (name in self.allowed_hosts or f"{name}:{port}" in self.allowed_hosts):
            return None
        shown = clean(host)[:_MAX_SHOWN_HOST] or "(none)"
        if self.token:
            return f"host {shown} is not allowed: add --allow-host {name or 'NAME'} to serve it"
        return (
            f"host {shown} is not allowed: without a token only loopback names are served;"
            f" to serve a tunnel, restart with --allow-host {name or 'NAME'} (a token is then"
            " required)"
        )

    def _authorized(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        token = self.token.encode()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        for candidate in query.get("t", []):
            if hmac.compare_digest(candidate.encode(), token):
                return True
        if _is_write(scope):
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                return hmac.compare_digest(auth[7:].strip().encode(), token)
        return False


def _is_write(scope: Scope) -> bool:
    """Ingest (``POST`` records) and delete (``DELETE`` a run): the producer's requests,
    which may carry the token as a bearer header."""
    if scope["type"] != "http":
        return False
    path, method = scope["path"], scope["method"]
    if method == "POST":
        return path == INGEST_PATH
    return method == "DELETE" and path.startswith(RUNS_PATH + "/")


def origin_allowed(origin: str, host_header: str) -> bool:
    """A browser ``Origin`` may call us when it is loopback or the same host."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if not parts.scheme or not parts.netloc:
        return False
    hostname = (parts.hostname or "").lower()
    if hostname in LOOPBACK_HOSTS or hostname.endswith(".localhost"):
        return True
    return parts.netloc.lower() == host_header.lower()


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Authorization, Bypass-Tunnel-Reminder",
        "Vary": "Origin",
    }


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Answer ``status`` with a one-line body; a WebSocket handshake is closed before it is
    accepted, which the server answers with 403 (a denial response with a body would make
    uvicorn log an error for every refused handshake)."""
    if scope["type"] == "http":
        await PlainTextResponse(message + "\n", status_code=status)(scope, receive, send)
        return
    await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
