"""The detail pane as a widget: what it does while its screen goes away."""

from datetime import UTC, datetime

import msgspec
from textual.app import App, ComposeResult

from crux_tui.app.widgets.detail_pane import DetailPane
from crux_tui.contract.models import RunDetailNode


class Host(App[None]):
    """The pane alone (a run screen mounts it among others)."""

    def now(self) -> datetime:
        return datetime(2026, 12, 2, tzinfo=UTC)

    def compose(self) -> ComposeResult:
        yield DetailPane(id="detail")


async def test_a_highlight_that_arrives_while_the_screen_closes_is_dropped() -> None:
    """Escape right after Enter on a run: the first row's highlight can reach the detail pane
    after its screen began to close and before the pane's sections were added. Nothing can be
    mounted into a pane being removed; showing the row must not raise (it did: NoMatches on
    ``#detail-artifacts``, a traceback instead of the runs list)."""
    subject = msgspec.convert(
        {"id": "span:a", "spanId": "a", "name": "tool", "attributes": {"k": "v"}}, RunDetailNode
    )
    app = Host()
    async with app.run_test() as pilot:
        pane = app.query_one(DetailPane)
        pane.remove()  # as the run screen's pop removes it, not awaited
        pane.show(subject, None)
        await pilot.pause()
        assert pane.subject is subject
        assert not app.query(DetailPane)
    assert app.return_code in (None, 0)


async def test_sections_are_added_when_a_row_has_attributes() -> None:
    """The same show on a pane that stays: its attributes section appears."""
    subject = msgspec.convert(
        {"id": "span:a", "spanId": "a", "name": "tool", "attributes": {"k": "v"}}, RunDetailNode
    )
    app = Host()
    async with app.run_test() as pilot:
        pane = app.query_one(DetailPane)
        pane.show(subject, None)
        await pilot.pause()
        assert pane.query_one("#detail-attributes").display
        assert not pane.query_one("#detail-artifacts").display
