"""CruxClient against the Go-shaped `crux dev` v5 stand-in (``tests/gocrux``), and DELETE on
the embedded backend."""

from __future__ import annotations

import pytest
from gocrux import fixtures as fx
from gocrux.server import GoCrux
from records import simple_run

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.client import CruxClient
from crux_tui.contract.errors import HttpError, NotFound
from crux_tui.contract.models import items


async def test_runs_page_rows_are_operations(gocrux: GoCrux) -> None:
    async with CruxClient(gocrux.url) as client:
        page = await client.runs_page()
    rows = items(page.rows)
    # the server's order (firstSeenAt, then operation id), an Incomplete operation included
    assert [r.runId for r in rows] == [fx.CHAT, fx.LATE, fx.PLAIN]
    chat, late, _ = rows
    assert (chat.operationId, chat.rootRunId, chat.rootPresent) == (fx.CHAT, fx.CHAT, True)
    assert (chat.childRunCount, chat.failedChildCount, chat.topologyHealth) == (2, 1, "healthy")
    assert chat.firstSeenAt == chat.startedAt != ""
    assert (late.name, late.status, late.rootPresent) == (
        "Incomplete operation",
        "incomplete",
        False,
    )
    assert late.topologyHealth == "incomplete" and late.startedAt == "" and late.firstSeenAt
    assert page.revision == 10


async def test_cursor_paging_follows_first_seen_order(gocrux: GoCrux) -> None:
    async with CruxClient(gocrux.url) as client:
        first = await client.runs_page(limit=2)
        assert [r.runId for r in items(first.rows)] == [fx.CHAT, fx.LATE] and first.nextCursor
        assert [r.runId async for r in client.iter_runs(page_size=1)] == [
            fx.CHAT,
            fx.LATE,
            fx.PLAIN,
        ]


async def test_run_detail_of_a_member_run_is_its_operation(gocrux: GoCrux) -> None:
    async with CruxClient(gocrux.url) as client:
        by_child, problems = await client.run_detail_checked(fx.CHILD_SUM)
        by_operation = await client.run_detail(fx.CHAT)
    assert problems == []
    assert by_child.run.runId == by_operation.run.runId == fx.CHAT
    assert by_child.schemaVersion == 5
    members = items(by_child.memberRuns)
    assert [m.run.runId for m in members] == [fx.CHAT, fx.CHILD_SUM, fx.CHILD_NOTIFY]
    assert (members[1].parentRunId, members[1].triggeredBySpanId) == (fx.CHAT, "sp_sched")
    assert members[0].parentRunId == "" and members[2].run.status == "error"
    assert [d.code for d in items(members[2].diagnostics)] == ["span-error"]
    # the child root is mounted under its trigger span, as a run:<id> node
    sched = next(c for c in items(by_child.root.children) if c.spanId == "sp_sched")
    assert [c.id for c in items(sched.children)] == [f"run:{fx.CHILD_SUM}"]
    assert by_child.manifest == {"resolution": "manifest-unspecified", "definitions": []}
    rows = {r.nodeId: r for r in items(by_child.rows)}
    assert rows[f"run:{fx.CHILD_SUM}"].parentId == "span:sp_sched"


async def test_delta_names_operations_and_expires(gocrux: GoCrux) -> None:
    async with CruxClient(gocrux.url) as client:
        quiet = await client.runs_delta(10)
        assert (quiet.changes, quiet.expired) == (None, False)  # Go's null slice
        assert items(quiet.changes) == []
        revision = await gocrux.change(fx.PLAIN, notify=False)
        delta = await client.runs_delta(10)
        assert [(c.entity, c.id, c.revision) for c in items(delta.changes)] == [
            ("run", fx.PLAIN, revision)
        ]
        gocrux.expire_log()
        assert (await client.runs_delta(10)).expired


async def test_delete_run_removes_the_operation(gocrux: GoCrux) -> None:
    async with CruxClient(gocrux.url) as client:
        result = await client.delete_run(fx.CHILD_NOTIFY)  # a member run id: its operation goes
        assert items(result.operationIds) == [fx.CHAT] and result.revision == 11
        assert gocrux.count(f"/api/observability/runs/{fx.CHILD_NOTIFY}", "DELETE") == 1
        assert [r.runId for r in items((await client.runs_page()).rows)] == [fx.LATE, fx.PLAIN]
        with pytest.raises(NotFound):
            await client.run_detail(fx.CHAT)
        with pytest.raises(NotFound):
            await client.delete_run(fx.CHAT)


async def test_delete_run_on_the_embedded_backend(backend: EmbeddedBackend) -> None:
    async with CruxClient(backend.url) as client:
        await client.post_records(simple_run("run_gone"))
        await client.post_records(simple_run("run_kept"))
        try:
            result = await client.delete_run("run_gone")
        except HttpError as error:
            if error.status != 405:
                raise
            pytest.skip("this embedded backend has no DELETE /runs/{id} yet (v5 backend work)")
        assert items(result.operationIds) == ["run_gone"] and result.revision > 2
        assert [r.runId for r in items((await client.runs_page()).rows)] == ["run_kept"]
        with pytest.raises(NotFound):
            await client.run_detail("run_gone")
        with pytest.raises(NotFound):
            await client.delete_run("run_gone")
