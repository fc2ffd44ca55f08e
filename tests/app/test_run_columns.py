"""The runs list's columns: the name takes the free width, optional columns drop first."""

from __future__ import annotations

import pytest

from crux_tui.app.main import make_app
from crux_tui.app.run_columns import CELL_PADDING, NAME_MIN, SCROLLBAR, plan_columns
from crux_tui.app.screens.runs import RunsScreen, content_widths
from crux_tui.demo import DEMO_SCENARIOS

from .helpers import screen_text, wait_for

CONTENT = {"name": 35, "primitive": 21, "model": 6, "health": 0}


def keys(width: int, content: dict[str, int] = CONTENT) -> list[str]:
    return [column.key for column in plan_columns(width, content)]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 160, 200, 300])
def test_columns_fill_the_width_and_never_overflow(width: int) -> None:
    columns = plan_columns(width, CONTENT)
    total = sum(column.width + CELL_PADDING for column in columns)
    name = next(column for column in columns if column.key == "name")
    assert name.width >= NAME_MIN
    if name.width > NAME_MIN:
        assert total == width - SCROLLBAR  # the name takes whatever is left
    assert {"status", "name", "started", "duration"} <= set(keys(width))


def test_optional_columns_come_in_by_importance_as_the_width_grows() -> None:
    assert keys(80) == ["status", "name", "state", "started", "duration"]
    assert keys(120) == [
        "status", "name", "state", "model", "started", "duration", "tokens", "cost", "spans",
    ]  # fmt: skip
    assert "primitive" in keys(160)
    assert "health" not in keys(300)  # nothing to show
    assert "health" in keys(120, {**CONTENT, "health": 4})


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_demo_run_names_are_whole(demo_url: str, size: tuple[int, int]) -> None:
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=size) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunsScreen) and app.screen.table.row_count >= 8,
            what="demo runs",
        )
        text = screen_text(app)
        for _, name, _ in DEMO_SCENARIOS:
            assert name in text, name


async def test_the_health_column_makes_room_for_symptom_marks(demo_url: str) -> None:
    """The health column is measured with the symptom counts: once the list's pass marks a
    run, the column is laid out again so that ``⚑ symptom`` shows whole."""
    app = make_app(demo_url, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        runs = await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, RunsScreen)
                and app.symptom_book.count("run_unnamed_tool")
                and app.screen
            ),
            what="symptoms found",
        )
        health = next(column for column in runs.columns if column.key == "health")
        assert health.width >= len("⚑ symptom")
        line = next(line for line in screen_text(app).splitlines() if "shipping quote" in line)
        assert line.rstrip().endswith("⚑ symptom"), line
        widths = content_widths(runs.visible_runs(), {"run_unnamed_tool": 12})
        assert widths["health"] >= len("⚑ 12 symptoms")
