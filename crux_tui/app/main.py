"""Entry points used by the CLI: :func:`make_app` and :func:`run_tui`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crux_tui.app.app import CruxApp


def make_app(url: str, token: str | None = None, **options: Any) -> CruxApp:
    """Build the app for a backend URL (``options`` go to :class:`CruxApp`, e.g. tests)."""
    return CruxApp(url, token, **options)


def run_tui(
    url: str,
    token: str | None = None,
    notices: Sequence[str] = (),
    source_roots: Sequence[str] = (),
    live: str = "auto",
    *,
    source: str = "",
) -> int:
    """Run the TUI until the user quits; returns the process exit code.

    ``notices`` are problems found before it opened (shown as notifications);
    ``source_roots`` are where stack frames' files are looked for (``--source-root``);
    ``live`` forces a live transport (``sse``, ``ws``, ``poll``; ``auto`` picks the best);
    ``source`` names what is shown when it is not the backend at ``url`` (``demo``, a file).
    """
    app = make_app(url, token, notices=notices, source_roots=source_roots, live=live, source=source)
    result = app.run()
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(result or 0)
