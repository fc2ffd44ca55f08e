"""Who the backend answers (issue #13 item 1): Host names, tunnels, WebSocket handshakes,
and out-of-range numbers in queries (item 8)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from records import batch, simple_run
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from crux_tui.backend.access import AccessMiddleware
from crux_tui.backend.embedded import EmbeddedBackend

API = "/api/observability"


def page(backend: EmbeddedBackend, host: str, **params: str) -> httpx.Response:
    return httpx.get(backend.url + f"{API}/runs/page", headers={"Host": host}, params=params)


def test_foreign_host_is_refused_with_a_reason(backend: EmbeddedBackend) -> None:
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends its own name."""
    r = page(backend, "evil.example")
    assert r.status_code == 403
    assert r.text.count("\n") == 1
    assert "evil.example" in r.text and "--allow-host evil.example" in r.text
    posted = httpx.post(
        backend.url + f"{API}/records",
        json=batch(simple_run("rebound")),
        headers={"Host": f"evil.example:{backend.port}"},
    )
    assert posted.status_code == 403
    assert page(backend, f"127.0.0.1:{backend.port}").json()["rows"] == []  # nothing stored


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "localhost.", "127.0.0.1"]
)
def test_loopback_names_are_answered(backend: EmbeddedBackend, host: str) -> None:
    assert page(backend, host.format(port=backend.port)).status_code == 200


@pytest.mark.parametrize(
    "host",
    ["localhost:1", "127.0.0.1.evil.example", "localhost.evil.example", "", "a:b:c", "[::1"],
)
def test_other_names_and_ports_are_refused(backend: EmbeddedBackend, host: str) -> None:
    assert page(backend, host).status_code == 403


def test_allowed_host_needs_the_token(make_backend: Callable[..., EmbeddedBackend]) -> None:
    backend = make_backend(token="s3cret", allowed_hosts=["https://Tunnel.example/"])
    assert page(backend, "tunnel.example").status_code == 401
    assert page(backend, "tunnel.example", t="s3cret").status_code == 200
    assert page(backend, "tunnel.example:443", t="s3cret").status_code == 200
    refused = page(backend, "other.example", t="s3cret")
    assert refused.status_code == 403 and "--allow-host other.example" in refused.text
    assert page(backend, f"127.0.0.1:{backend.port}", t="s3cret").status_code == 200


def test_a_token_without_allowed_hosts_answers_any_name(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """A non-loopback bind (``--host 0.0.0.0 --token T``) is reached by the machine's name."""
    backend = make_backend(token="s3cret")
    assert page(backend, "devbox.lan:4400", t="s3cret").status_code == 200
    assert page(backend, "devbox.lan:4400").status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def tunnel_serve() -> Iterator[tuple[str, str]]:
    """``crux-tui serve --allow-host tunnel.example`` (the README's tunnel recipe), as a
    child process; yields its URL and the token it printed."""
    serve = ["serve", "--port", "0", "--db", ":memory:", "--allow-host", "tunnel.example"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "crux_tui", *serve, "--exit-with-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    token_line = proc.stderr.readline()
    try:
        assert lines and "http://" in lines[0], lines
        url = lines[0].split(" on ", 1)[1].split(" ", 1)[0]
        assert "requires a token" in token_line, token_line
        yield url, token_line.rsplit(" ", 1)[1].strip()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(15)


def test_the_tunnel_recipe_needs_the_token(tunnel_serve: tuple[str, str]) -> None:
    url, token = tunnel_serve
    assert len(token) == 64
    through_tunnel = {"Host": "tunnel.example"}
    records = batch(simple_run("from-convex"))
    r = httpx.post(url + f"{API}/records", json=records, headers=through_tunnel)
    assert r.status_code == 401
    # the Crux SDK sends CRUX_DEVTOOLS_TOKEN as a bearer token
    bearer = {**through_tunnel, "Authorization": f"Bearer {token}"}
    assert httpx.post(url + f"{API}/records", json=records, headers=bearer).status_code == 202
    # a plain TCP forwarder lets anyone send a loopback Host: the token still stands
    assert httpx.get(url + f"{API}/runs/page").status_code == 401
    assert httpx.get(url + f"{API}/runs/page", params={"t": token}).json()["rows"]


# ---------------------------------------------------------------------- WebSocket scopes


async def _echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def _handshake(url: str, host: str, path: str = "/ws/ui") -> str:
    """The status line a raw WebSocket handshake with ``Host: host`` gets."""
    address = url.removeprefix("http://")
    name, port = address.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=10) as sock:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test_websocket_handshakes_pass_the_same_checks(serve_app: Callable[[Any], str]) -> None:
    app = AccessMiddleware(Starlette(routes=[WebSocketRoute("/ws/ui", _echo)]))
    url = serve_app(app)
    port = url.rsplit(":", 1)[1]
    assert " 101 " in _handshake(url, f"127.0.0.1:{port}")
    assert " 403 " in _handshake(url, f"evil.example:{port}")
    guarded = serve_app(AccessMiddleware(Starlette(routes=[WebSocketRoute("/ws/ui", _echo)]), "k"))
    port = guarded.rsplit(":", 1)[1]
    assert " 403 " in _handshake(guarded, f"127.0.0.1:{port}")  # no token: refused
    assert " 101 " in _handshake(guarded, f"127.0.0.1:{port}", "/ws/ui?t=k")


def test_the_backends_ws_ui_and_delete_pass_the_same_checks(
    make_backend: Callable[..., EmbeddedBackend],
) -> None:
    """The real ``/ws/ui`` and ``DELETE`` behind the middleware: loopback names only without
    a token; with one, an allowed tunnel name needs it (``?t=``, or a bearer to delete)."""
    backend = make_backend()
    port = backend.port
    assert " 101 " in _handshake(backend.url, f"127.0.0.1:{port}")
    assert " 403 " in _handshake(backend.url, f"evil.example:{port}")
    assert httpx.post(backend.url + f"{API}/records", json=batch(simple_run("a"))).is_success
    rebound = httpx.delete(backend.url + f"{API}/runs/a", headers={"Host": "evil.example"})
    assert rebound.status_code == 403
    assert httpx.get(backend.url + f"{API}/runs/a").status_code == 200  # not deleted

    guarded = make_backend(token="s3cret", allowed_hosts=["tunnel.example"])
    assert " 403 " in _handshake(guarded.url, "tunnel.example")
    assert " 101 " in _handshake(guarded.url, "tunnel.example", "/ws/ui?t=s3cret")
    assert " 403 " in _handshake(guarded.url, "other.example", "/ws/ui?t=s3cret")
    bearer = {"Authorization": "Bearer s3cret"}
    posted = httpx.post(guarded.url + f"{API}/records", json=batch(simple_run("b")), headers=bearer)
    assert posted.status_code == 202
    through_tunnel = {"Host": "tunnel.example"}
    url = guarded.url + f"{API}/runs/b"
    assert httpx.delete(url, headers=through_tunnel).status_code == 401
    # a bearer token is for writes only: reads still take ?t=
    assert httpx.get(url, headers={**through_tunnel, **bearer}).status_code == 401
    assert httpx.delete(url, headers={**through_tunnel, **bearer}).status_code == 200


def test_serve_answers_ws_ui_through_the_tunnel_with_the_token(
    tunnel_serve: tuple[str, str],
) -> None:
    """``serve`` runs with WebSocket support (the child ``demo``/``open`` start is the same
    command), behind the same checks."""
    url, token = tunnel_serve
    assert " 403 " in _handshake(url, "tunnel.example")
    assert " 101 " in _handshake(url, "tunnel.example", f"/ws/ui?t={token}")


# ---------------------------------------------------------------------- item 8


@pytest.mark.parametrize(
    ("path", "params", "headers"),
    [
        ("/runs/delta", {"since": str(2**64)}, {}),
        ("/runs/delta", {"since": "-" + "9" * 30}, {}),
        ("/runs/page", {"limit": "9" * 25}, {}),
        ("/runs/a/spans/s/events", {"limit": str(2**63)}, {}),
        ("/stream", {"lastEventId": str(2**70)}, {}),
        ("/stream", {}, {"Last-Event-ID": "1" + "0" * 40}),
    ],
)
def test_out_of_range_integers_are_a_one_line_400(
    backend: EmbeddedBackend, path: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    httpx.post(backend.url + f"{API}/records", json=batch(simple_run("a")))
    url = backend.url + API + path
    with httpx.stream("GET", url, params=params, headers=headers, timeout=10) as r:
        assert r.status_code == 400  # (a stream that started would never end)
        text = r.read().decode()
    assert text.count("\n") == 1 and "out of range" in text, text
    assert httpx.get(backend.url + f"{API}/runs/delta", params={"since": "0"}).status_code == 200
