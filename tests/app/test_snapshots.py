"""Every state of the README tour as an SVG snapshot, at 80x24 and 120x40, and the main
ones without colour (NO_COLOR). The app is driven into each state by
``crux_tui.screenshots.drive``, the code path that makes the README's screenshots.

After an intended change to what a screen shows, regenerate with
``pytest tests/app/test_snapshots.py --snapshot-update`` and look at the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from crux_tui.screenshots import SIZES, TOUR, drive, tour_app, tour_backend

#: The states also checked without colour: statuses that must stand out by other means.
NO_COLOR_STATES = ("runs", "errors", "error-stack", "incomplete")


@pytest.fixture(scope="module")
def tour_url() -> Iterator[str]:
    with tour_backend() as url:
        yield url


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("state", [state.name for state in TOUR])
def test_tour_state(snap_compare, tour_url: str, state: str, size: tuple[int, int]) -> None:
    app = tour_app(tour_url)
    assert snap_compare(app, terminal_size=size, run_before=partial(drive, state=state))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("state", NO_COLOR_STATES)
def test_tour_state_without_colour(
    snap_compare, tour_url: str, state: str, size: tuple[int, int]
) -> None:
    app = tour_app(tour_url, no_color=True)
    assert app.no_color
    assert snap_compare(app, terminal_size=size, run_before=partial(drive, state=state))
