"""Settled RunDetail bodies kept with the records: a restarted ``serve --db FILE`` serves them
without projecting again, a new record drops them, an in-memory database keeps none."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from records import RunBuilder, batch, simple_run

from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.backend.process import BackendProcess

API = "/api/observability"


def _post(url: str, records: list[dict]) -> None:
    assert httpx.post(f"{url}{API}/records", json=batch(records)).status_code == 202


def _detail(url: str, ref: str) -> httpx.Response:
    response = httpx.get(f"{url}{API}/runs/{ref}", timeout=30)
    assert response.status_code == 200
    return response


def _kept_row(db: Path, operation: str) -> tuple[int, str] | None:
    """``(revision, stamp)`` of the body kept for ``operation``, read from outside."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT revision, stamp FROM stored_bodies WHERE operation_id = ?", (operation,)
        ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def _operation_revision(db: Path, operation: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT revision FROM operations WHERE operation_id = ?", (operation,)
        ).fetchone()
    return int(row[0])


def _wait_kept(db: Path, operation: str, not_by: str = "") -> tuple[int, str]:
    """Wait until a body is kept for the operation at its current revision (by other code
    than ``not_by``)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = _kept_row(db, operation)
        if row is not None and row[0] == _operation_revision(db, operation) and row[1] != not_by:
            return row
        time.sleep(0.05)
    raise AssertionError(f"no body was kept for {operation}")


def _rename_span_behind_its_back(db: Path) -> None:
    """Edit the stored records so that a projection would name the agent span otherwise
    (nothing the server can notice: no revision moves)."""
    with sqlite3.connect(db) as conn:
        changed = conn.execute(
            'UPDATE records SET payload = replace(payload, \'"name":"agent"\','
            " '\"name\":\"renamed-agent\"') WHERE type = 'span:start' AND span_id = 'agent'"
        ).rowcount
    assert changed == 1


def _agent_name(body: httpx.Response) -> str:
    return str(body.json()["root"]["name"])


def test_a_restarted_file_backend_serves_the_kept_body_until_a_record_lands(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.sqlite3"
    with BackendProcess(db=str(db)) as backend:
        _post(backend.url, simple_run("r1"))
        first = _detail(backend.url, "r1")
    # stopped at once: what was queued to be kept is written before the process ends
    assert _kept_row(db, "r1") is not None
    assert _agent_name(first) == "agent"
    _rename_span_behind_its_back(db)

    with BackendProcess(db=str(db)) as backend:
        # the kept body, not a projection of the (edited) records
        again = _detail(backend.url, "r1")
        assert again.content == first.content
        assert _agent_name(again) == "agent"

        # a late record: its commit drops the kept body, the next read projects the records
        before = _operation_revision(db, "r1")
        late = RunBuilder("r1", segment_id="late")
        _post(backend.url, [late.span("late-tool", "tool.call", parent="agent", at=950, end=960)])
        revision = _operation_revision(db, "r1")
        assert revision > before
        row = _kept_row(db, "r1")
        assert row is None or row[0] == revision  # never the body of the older revision
        third = _detail(backend.url, "r1")
        assert "late-tool" in third.json()["spanIndex"]
        assert _agent_name(third) == "renamed-agent"
        assert _wait_kept(db, "r1")[0] == revision


def test_a_body_kept_by_other_code_is_not_served(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    with BackendProcess(db=str(db)) as backend:
        _post(backend.url, simple_run("r1"))
        _detail(backend.url, "r1")
        _, stamp = _wait_kept(db, "r1")
    _rename_span_behind_its_back(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE stored_bodies SET stamp = 'crux-tui 0.0.1'")

    with BackendProcess(db=str(db)) as backend:
        assert _agent_name(_detail(backend.url, "r1")) == "renamed-agent"
        assert _wait_kept(db, "r1", not_by="crux-tui 0.0.1")[1] == stamp  # kept again, by this code


def test_an_in_memory_backend_keeps_no_body(make_backend: Callable[..., EmbeddedBackend]) -> None:
    backend = make_backend()
    _post(backend.url, simple_run("r1"))
    _detail(backend.url, "r1")
    _detail(backend.url, "r1")
    backend.app.state.body_keeper.close()  # whatever was queued is written now
    assert backend.store.stored_body_bytes() == (0, 0)


def test_kept_bodies_are_counted_as_stored_and_as_served(
    tmp_path: Path, make_backend: Callable[..., EmbeddedBackend]
) -> None:
    """``stored_body_bytes`` is ``(stored, served)``: the kept bodies are compressed, so they
    take fewer bytes than the RunDetail bodies they are served as."""
    backend = make_backend(db=str(tmp_path / "runs.sqlite3"))
    _post(backend.url, simple_run("r1"))
    served = len(_detail(backend.url, "r1").content)
    backend.app.state.body_keeper.close()  # whatever was queued is written now
    stored, raw = backend.store.stored_body_bytes()
    assert raw == served
    assert 0 < stored < served
