"""Fixtures for app tests: a real embedded backend per test, and a dead URL."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from crux_tui.backend.embedded import EmbeddedBackend


@pytest.fixture
def backend_url() -> Iterator[str]:
    with EmbeddedBackend(keepalive=1.0) as backend:
        yield backend.url.rstrip("/")


@pytest.fixture
def demo_url(backend_url: str) -> str:
    """A backend holding the demo scenarios (without the live run)."""
    from crux_tui.demo import build_demo_records
    from crux_tui.loading import load_records

    assert load_records(backend_url, build_demo_records()) == []
    return backend_url


@pytest.fixture
def down_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
