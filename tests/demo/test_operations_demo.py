"""The demo's operations: the late root turns an "Incomplete operation" into the cron's run
while you watch, in the runs list of the real app."""

from __future__ import annotations

import httpx

from crux_tui.app.main import make_app
from crux_tui.app.screens.runs import RunsScreen
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.demo import LATE_OPERATION_ID, LateRootFeeder, demo_file_records
from crux_tui.demo.late_root import LATE_CHILD_ID, LATE_NAME
from tests.app.helpers import screen_text, wait_for

API = "/api/observability"


def late_row(app) -> object | None:
    screen = app.screen
    if not isinstance(screen, RunsScreen):
        return None
    return next((r for r in screen.visible_runs() if r.runId == LATE_OPERATION_ID), None)


async def test_the_late_root_completes_the_incomplete_operation_on_screen(
    backend: EmbeddedBackend,
) -> None:
    feeder = LateRootFeeder(backend.url, delay=600).start()  # the root waits for release()
    try:
        app = make_app(backend.url)
        async with app.run_test(size=(160, 40)) as pilot:
            row = await wait_for(pilot, lambda: late_row(app), what="the incomplete row")
            assert (row.name, row.status, row.rootPresent) == (
                "Incomplete operation",
                "incomplete",
                False,
            )
            await wait_for(
                pilot,
                lambda: "Incomplete operation" in screen_text(app),
                what="the incomplete row on screen",
            )
            first_seen = row.firstSeenAt
            feeder.release()
            done = await wait_for(
                pilot,
                lambda: (r := late_row(app)) is not None and r.rootPresent and r,
                what="the root arrived",
            )
            assert (done.name, done.status, done.childRunCount) == (LATE_NAME, "ok", 1)
            assert done.firstSeenAt == first_seen  # the same row, in the same place
            await wait_for(
                pilot, lambda: LATE_NAME[:20] in screen_text(app), what="the cron's name shown"
            )
    finally:
        feeder.stop()
    detail = httpx.get(backend.url + f"{API}/runs/{LATE_CHILD_ID}").json()
    schedule = next(
        d
        for n in [detail["root"]]
        for d in n.get("details") or []
        if d["primitive"] == "runtime.convex.schedule"
    )
    assert schedule["spanId"] in {m["triggeredBySpanId"] for m in detail["memberRuns"]}
    assert [c["id"] for c in detail["root"]["children"]] == [f"run:{LATE_CHILD_ID}"]


def test_demo_records_file_holds_every_operation_in_posting_order() -> None:
    records = demo_file_records()
    late = [r for r in records if r["operationId"] == LATE_OPERATION_ID]
    assert late[0]["runId"] == LATE_CHILD_ID and late[-1]["runId"] == LATE_OPERATION_ID
    assert {r["schemaVersion"] for r in records} == {5}
