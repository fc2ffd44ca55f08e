"""The detail pane and the artifact viewer through the real app (issue #14 item 1, issue #15
items 4, 9, 11 and 17): inspection or artifacts, why a status was reconciled, aligned rows, the
artifact list, and from a stack frame to the code."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.artifact_picker import ArtifactPicker
from crux_tui.app.widgets.diagnostics import DiagnosticsList
from crux_tui.app.widgets.stack_view import StackView

from .helpers import RunRecords, ago, post_records, screen_text, wait_for
from .test_run_screen import open_run, tool_error_run

API = "/api/observability"


async def select_row(pilot: Any, screen: Any, span_id: str, limit: int = 30) -> None:
    """Press ``down`` as a user would until the detail pane shows ``span_id``."""
    pane = screen.detail_pane
    for _ in range(limit):
        if pane.subject is not None and pane.subject.spanId == span_id:
            return
        await pilot.press("down")
        await pilot.pause()
    raise AssertionError(f"{span_id} not reached with the cursor")


def notified(app: Any, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


def pane_section(pane: Any, title: str) -> list[str]:
    """The lines of one section of the detail pane (title line excluded)."""
    lines = pane.plain_text().splitlines()
    start = lines.index(title.upper()) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


# ------------------------------------------------------------ inspection or artifacts (#14)


def reshaped(serve_app: Any, real_url: str, drop: str) -> str:
    """A backend answering with the embedded backend's bodies, ``drop`` (``inspection`` or
    ``artifacts``) removed from every node and detail: a Crux backend that does not fill
    ``inspection``, or one whose nodes carry it and no artifact list."""

    def strip(node: dict[str, Any]) -> None:
        node[drop] = None
        for det in node.get("details") or []:
            det[drop] = None
        for child in node.get("children") or []:
            strip(child)

    async def page(request: Request) -> JSONResponse:
        async with httpx.AsyncClient() as client:
            got = await client.get(f"{real_url}{API}/runs/page", params=request.query_params)
        return JSONResponse(got.json())

    async def detail(request: Request) -> JSONResponse:
        async with httpx.AsyncClient() as client:
            got = await client.get(f"{real_url}{API}/runs/{request.path_params['run_id']}")
        body = got.json()
        strip(body["root"])
        return JSONResponse(body)

    return serve_app(
        Starlette(routes=[Route(f"{API}/runs/page", page), Route(f"{API}/runs/{{run_id}}", detail)])
    )


EXPECTED_ERROR_BLOCK = [
    "  error            Error",
    "  message          index offline",
    "  category         tool",
    "  stack            Error: index offline | at search (tools.ts:10:5)  (a opens it)",
]


@pytest.mark.parametrize("drop", ["", "inspection", "artifacts"])
async def test_failed_tool_shows_one_error_block_from_inspection_or_artifacts(
    backend_url: str, serve_app: Any, drop: str
) -> None:
    """Both sections and artifacts (the embedded backend), artifacts only (a backend without
    ``inspection``) and inspection only: the same error block, the same artifacts to open."""
    await post_records(backend_url, tool_error_run("run_err"))
    url = reshaped(serve_app, backend_url, drop) if drop else backend_url
    app = make_app(url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_run(app, pilot, "run_err")
        await select_row(pilot, screen, "run_err_tool")
        pane = screen.detail_pane
        assert pane.evidence.from_inspection is (drop != "inspection")
        block = pane_section(pane, "error")
        assert block[:4] == EXPECTED_ERROR_BLOCK
        assert block[4].startswith(
            '  raw error        {"name": "Error", "message": "index offline"'
        )
        assert len(block) == 5
        assert "index offline" in screen_text(app)
        # the artifacts to open: the stack, then the raw error
        assert [a.kind for a in pane.artifacts] == ["error.stack", "error.raw"]
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactPicker), what="picker")
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
        viewer = app.screen
        assert viewer.artifact.kind == "error.raw"
        plain = viewer.plain_text()
        assert "Error: index offline" in plain and "category tool" in plain
        assert "E_INDEX" in plain


@pytest.mark.parametrize("drop", ["", "inspection"])
async def test_error_artifacts_are_listed_before_the_others(
    backend_url: str, serve_app: Any, drop: str
) -> None:
    """A failed tool that wrote an output before it threw: the pane's artifact list starts with
    its errors (stack, then raw), the output after them, whether the backend sent
    ``inspection`` or not; ``a`` offers them in that order (1 is the stack)."""
    records = tool_error_run("run_order")
    output = dict(next(r for r in records if r.get("kind") == "error.stack"))
    output.update(
        recordId="rec_run_order_output",
        artifactId="art_run_order_output",
        kind="output",
        preview="partial results",
    )
    first_error = next(i for i, r in enumerate(records) if r.get("kind") == "error.stack")
    records.insert(first_error, output)  # written before the errors
    await post_records(backend_url, records)
    url = reshaped(serve_app, backend_url, drop) if drop else backend_url
    app = make_app(url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_run(app, pilot, "run_order")
        await select_row(pilot, screen, "run_order_tool")
        pane = screen.detail_pane
        assert pane.evidence.from_inspection is (drop != "inspection")
        assert [a.kind for a in pane.artifacts] == ["error.stack", "error.raw", "output"]
        listed = pane.plain_text().split("\nARTIFACTS\n", 1)[1].splitlines()
        assert [line.split()[0] for line in listed] == ["error.stack", "error.raw", "output"]
        assert "  message          index offline" in pane_section(pane, "error")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactPicker), what="picker")
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
        assert app.screen.artifact.kind == "error.stack"


# ------------------------------------------------------------ reconciled statuses say why (#15.4)


def lease_expired_run(run_id: str) -> list[dict[str, Any]]:
    """``ctx.crux.runAction('rank citations')`` whose child action never acknowledged: the
    boundary (folded by the SDK's hint) went stale when its lease ran out."""
    r = RunRecords(run_id, name="publish draft", root_primitive="runtime.convex.action")
    r.started = ago(200)
    root, agent, bnd = f"{run_id}_action", f"{run_id}_editor", f"{run_id}_bnd"
    return [
        r.run_start(),
        r.span_start(root, "runtime.convex.action", "publish draft", started=ago(200)),
        r.span_start(agent, "agent.run", "editor", parent=root, agentId="editor", started=ago(199)),
        r.span_end(agent, ended=ago(190)),
        r.span_start(
            bnd,
            "runtime.convex.action",
            "rank citations",
            parent=root,
            started=ago(189),
            attributes={
                "functionRef": "citations:rank",
                "boundary": "convex.action",
                "presentation": {"display": "detail"},
            },
        ),
        r.event(
            bnd,
            "runtime.convex.boundary.requested",
            {"functionRef": "citations:rank", "leaseExpiresAt": ago(99)},
            ts=ago(189),
        ),
    ]


async def test_reconciled_status_names_its_cause_and_w_goes_there(backend_url: str) -> None:
    await post_records(backend_url, lease_expired_run("run_why"))
    app = make_app(backend_url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_run(app, pilot, "run_why")
        pane = screen.detail_pane
        await wait_for(pilot, lambda: pane.subject is not None, what="root selected")
        assert pane.subject.spanId == "run_why_action" and pane.subject.status == "stale"
        decided = next(line for line in pane.plain_text().splitlines() if "decided by" in line)
        assert "◇ stale ⚙ boundary rank citations — lease expired at" in decided
        assert "with no acknowledgement" in decided and "(w: go there)" in decided
        assert not screen.timeline.options.show_infrastructure
        await pilot.press("w")
        await wait_for(
            pilot,
            lambda: pane.subject is not None and pane.subject.spanId == "run_why_bnd",
            what="the boundary selected",
        )
        assert screen.timeline.options.show_infrastructure  # turned on to reveal it
        assert screen.timeline.selected_row.span_id == "run_why_bnd"
        assert notified(app, "Turned infrastructure on")


def deadline_run(run_id: str) -> list[dict[str, Any]]:
    """A generation whose provider stalled past its Crux operation deadline (no end record)."""
    r = RunRecords(run_id, name="summarize", started=ago(30))
    agent, gen = f"{run_id}_agent", f"{run_id}_gen"
    return [
        r.run_start(),
        r.span_start(agent, "agent.run", "summarize", agentId="summarizer", started=ago(30)),
        r.span_start(
            gen,
            "generation.call",
            "summarize thread",
            parent=agent,
            model="gpt-4o",
            started=ago(29),
            attributes={"timeoutMs": 5000},
        ),
    ]


async def test_diagnostic_without_spans_goes_to_the_span_that_caused_it(backend_url: str) -> None:
    await post_records(backend_url, deadline_run("run_dl"))
    app = make_app(backend_url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_run(app, pilot, "run_dl")
        diagnostics = screen.query_one(DiagnosticsList)
        codes = [d.code for d in diagnostics.diagnostics]
        assert codes[0] == "descendant-operation-deadline-exceeded"
        assert not diagnostics.diagnostics[0].spanIds
        # the stalled generation is a symptom too, listed above the diagnostics
        await wait_for(pilot, lambda: diagnostics.symptoms, what="the symptom")
        await pilot.press("D")
        await wait_for(pilot, lambda: diagnostics.has_focus, what="diagnostics focused")
        await pilot.press(*["down"] * len(diagnostics.symptoms), "enter")
        await wait_for(
            pilot,
            lambda: screen.detail_pane.subject.spanId == "run_dl_gen",
            what="the generation selected",
        )
        assert screen.timeline.has_focus
        assert notified(app, "descendant-operation-deadline-exceeded is about the run")


async def test_diagnostic_about_the_whole_run_says_so(backend_url: str) -> None:
    r = RunRecords("run_quiet", name="quiet run", started=ago(200))
    await post_records(
        backend_url,
        [r.run_start(), r.span_start("quiet_agent", "agent.run", "quiet", started=ago(200))],
    )
    app = make_app(backend_url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_run(app, pilot, "run_quiet")
        diagnostics = screen.query_one(DiagnosticsList)
        assert diagnostics.diagnostics[0].code == "stale-boundary"
        # the run left incomplete is a symptom too, listed above the diagnostics
        await wait_for(pilot, lambda: diagnostics.symptoms, what="the symptom")
        await pilot.press("D")
        await wait_for(pilot, lambda: diagnostics.has_focus, what="diagnostics focused")
        await pilot.press(*["down"] * len(diagnostics.symptoms), "enter")
        await wait_for(
            pilot,
            lambda: notified(app, "stale-boundary is about the run as a whole: run has no end"),
            what="the notice",
        )


# ------------------------------------------------------------ rows line up (#15.9)


async def test_wrapped_values_line_up_under_the_value(backend_url: str) -> None:
    message = "the index shard that holds the refund policy did not answer within the budget " * 2
    records = tool_error_run("run_wrap")
    end = next(r for r in records if r.get("spanId") == "run_wrap_tool" and r["type"] == "span:end")
    end["error"] = {"name": "Error", "message": message.strip(), "category": "tool"}
    await post_records(backend_url, records)
    app = make_app(backend_url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(120, 70)) as pilot:  # the pane: 50 columns at the right
        screen = await open_run(app, pilot, "run_wrap")
        await select_row(pilot, screen, "run_wrap_tool")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "  message " in line)
        pane_left = lines[first].index("│") + 1  # the pane's border
        column = lines[first].index("the index shard")
        wrapped = lines[first + 1]
        assert wrapped[pane_left:column].strip() == ""  # the wrapped part starts under it
        assert wrapped[column] != " " and "index" not in wrapped[:column]
        parent = next(line for line in lines if "canonical parent" in line)
        assert "canonical parent run_wrap_agent" in parent  # a space, then the value


# ------------------------------------------------------------ several artifacts: a list (#15.11)


async def test_a_offers_a_list_when_a_span_has_several_artifacts(backend_url: str) -> None:
    records = tool_error_run("run_pick")
    output = dict(next(r for r in records if r.get("kind") == "error.raw"))
    output.update(
        recordId="rec_run_pick_output",
        artifactId="art_run_pick_output",
        spanId="run_pick_gen",
        kind="output",
        preview="Let me search the docs.",
    )
    await post_records(backend_url, [*records, output])
    app = make_app(backend_url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_pick")
        await select_row(pilot, screen, "run_pick_tool")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactPicker), what="picker")
        text = screen_text(app)
        assert "2 artifacts of searchDocs" in text
        assert "1 error.stack" in text and "2 error.raw" in text
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
        assert app.screen.artifact.kind == "error.raw"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the run")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactPicker), what="picker")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="picker closed")
        # one artifact: straight to the viewer
        await pilot.press("up")
        await wait_for(
            pilot, lambda: screen.detail_pane.subject.spanId == "run_pick_gen", what="gen"
        )
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
        assert app.screen.artifact.kind == "output"


# ------------------------------------------------------------ stack frame -> editor (#15.17)


def fake_editor(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """An executable called ``name`` that writes its arguments, one a line, to a file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / f"{name}-argv.txt"
    script = bin_dir / name
    script.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{record}"\n', encoding="utf-8"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


async def open_stack(app: Any, pilot: Any, run_id: str) -> StackView:
    screen = await open_run(app, pilot, run_id)
    await select_row(pilot, screen, f"{run_id}_tool")
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, ArtifactPicker), what="picker")
    await pilot.press("1")
    await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
    return app.screen.query_one(StackView)


@pytest.mark.parametrize(
    ("editor", "expected"),
    [("vim", ["+10", "{file}"]), ("code", ["--goto", "{file}:10:5"]), ("hx", ["{file}:10:5"])],
)
async def test_a_stack_frame_opens_the_editor_at_its_line(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, editor: str, expected: list
) -> None:
    source = tmp_path / "project"
    (source / "src").mkdir(parents=True)
    (source / "src" / "tools.ts").write_text("export {}\n" * 20, encoding="utf-8")
    script, record = fake_editor(tmp_path, editor)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{script} --wait" if editor == "code" else str(script))
    records = tool_error_run("run_ed")
    stack = next(r for r in records if r.get("kind") == "error.stack")
    stack["preview"] = (
        "Error: index offline\n"
        "    at search (file:///var/task/src/tools.ts:10:5)\n"
        "    at wrap (/app/node_modules/@crux/core/dist/tools/call.js:131:18)\n"
        "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
        "    at run (agent.ts:3:1)"
    )
    await post_records(backend_url, records)
    app = make_app(backend_url, poll_interval=0.2, start_feed=False, source_roots=[str(source)])
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_stack(app, pilot, "run_ed")
        viewer = app.screen
        # the user's frame stands out and has the cursor; library frames are dimmed, foldable
        assert view.highlighted_frame is not None and view.highlighted_frame.function == "search"
        assert view.library_frames == 2
        await pilot.press("f")
        assert any("2 library frames" in line for line in view.plain_lines())
        assert not any("node_modules" in line for line in view.plain_lines())
        await pilot.press("enter")
        await wait_for(pilot, record.exists, what="the editor ran")
        file = str(source / "src" / "tools.ts")
        argv = record.read_text(encoding="utf-8").splitlines()
        wanted = [part.format(file=file) for part in expected]
        assert argv == (["--wait", *wanted] if editor == "code" else wanted)
        await wait_for(pilot, lambda: viewer.editor_runs == 1, what="back from the editor")
        assert app.screen is viewer and view.highlighted_frame.function == "search"
        assert view.folded  # where it was


async def test_a_frame_whose_file_is_missing_says_where_it_looked(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script, record = fake_editor(tmp_path, "vim")
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.chdir(tmp_path)
    await post_records(backend_url, tool_error_run("run_nf"))
    app = make_app(backend_url, poll_interval=0.2, start_feed=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_stack(app, pilot, "run_nf")
        await pilot.press("enter")
        looked = os.path.join(str(tmp_path.resolve()), "tools.ts")
        await wait_for(
            pilot, lambda: notified(app, f"Source not found: looked for {looked}"), what="notice"
        )
        assert not record.exists()
