"""Fixtures of the reliability tests: the app tests' backend and dead URL, plus helpers."""

from __future__ import annotations

from tests.app.conftest import backend_url, down_url

__all__ = ["backend_url", "down_url"]
