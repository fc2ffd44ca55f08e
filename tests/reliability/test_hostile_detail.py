"""A backend that answers hostile RunDetail shapes and weird SSE events: the app survives."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crux_tui.app.main import make_app
from crux_tui.app.screens.artifact import ArtifactScreen
from crux_tui.app.screens.run import RunScreen
from crux_tui.contract.models import RunDetail, RunsDelta, RunsPage
from crux_tui.contract.tolerant import TRUNCATED, coerce, decode_tolerant
from tests.app.helpers import ago, screen_text, wait_for

API = "/api/observability"
BIG = "B" * 3_000_000  # a several-MB artifact preview


def hostile_detail() -> dict[str, Any]:
    good_child = {
        "id": "span:tool",
        "spanId": "tool",
        "name": "good tool",
        "kind": "tool",
        "status": "ok",
        "durationMs": 5,
        "display": {"kind": "tool", "label": "good tool"},
        "artifacts": [
            {"artifactId": "big", "kind": "output", "preview": BIG, "sizeBytes": "huge"},
            "not an artifact",
        ],
        "children": None,
    }
    bad_child = {
        "id": "span:bad",
        "spanId": "bad",
        "name": None,
        "kind": 12,
        "status": "exploded-in-a-new-way",
        "durationMs": "abc",
        "timing": "soon",
        "display": None,
        "children": "x",
        "details": [{"id": 5, "timing": {"durationMs": []}}, None],
        "events": [{"name": {"x": 1}, "attributes": "nope"}],
        "diagnostics": [{"code": "x", "message": ["not", "text"]}],
        "extraField": {"anything": True},
    }
    return {
        "schemaVersion": 2,
        "run": {
            "runId": "run_bad",
            "name": "hostile detail",
            "status": "mystery",
            "durationMs": "abc",
            "startedAt": None,
            "metrics": [],
            "spanCount": "two",
            "whatIsThis": None,
        },
        "root": {
            "id": "span:root",
            "spanId": "root",
            "name": "root span",
            "kind": "agent",
            "durationMs": None,
            "attributes": {"deep": json.loads('{"a":' * 100 + "1" + "}" * 100)},
            "children": [good_child, bad_child, None, 7],
        },
        "rows": "not rows",
        "spanIndex": {"root": {"placement": "node", "nodeId": "span:root"}, "bad": 5},
        "facets": {"status": {"ok": "one"}},
        "diagnostics": None,
        "counts": None,
    }


def hostile_backend() -> Starlette:
    async def page(request: Request) -> JSONResponse:
        rows = [
            {
                "runId": "run_bad",
                "name": "hostile detail",
                "status": "mystery",
                "startedAt": ago(3),
            },
            {"runId": None, "name": 5, "durationMs": "x"},  # a broken row
        ]
        return JSONResponse({"revision": "one", "rows": rows, "nextCursor": 7})

    async def detail(request: Request) -> Response:
        return Response(msgspec.json.encode(hostile_detail()), media_type="application/json")

    async def stream(request: Request) -> StreamingResponse:
        async def body():
            yield b"retry: 1000\n\n"
            for chunk in (
                b"event: observability\ndata: not json\n\n",
                b"event: observability\ndata: [1,2]\n\n",
                b'event: observability\ndata: {"kind": 5, "payload": "x", "refId": ["a"]}\n\n',
                b"event: observability\nid: \x00weird\ndata: {}\n\n",
                b"event: something-else\ndata: {}\n\n",
                b": comment only\n\n",
                b'event: observability\nid: 9\ndata: {"kind": "observability.records",'
                b' "refId": "run_bad", "payload": {"runId": "run_bad", "revision": 9}}\n\n',
            ):
                yield chunk
                await asyncio.sleep(0.05)
            while True:
                await asyncio.sleep(0.2)
                yield b": keep-alive\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route(f"{API}/runs/page", page),
            Route(f"{API}/stream", stream),
            Route(f"{API}/runs/{{run_id}}", detail),
        ]
    )


def test_coerce_keeps_what_fits_and_names_what_does_not() -> None:
    detail, problems = decode_tolerant(msgspec.json.encode(hostile_detail()), RunDetail)
    assert detail.run.name == "hostile detail" and detail.run.status == "mystery"
    assert detail.run.durationMs == 0 and detail.run.spanCount == 0
    kids = detail.root.children or []
    assert [k.spanId for k in kids] == ["tool", "bad"]  # null and 7 dropped
    assert kids[0].artifacts and kids[0].artifacts[0].preview == BIG
    assert kids[1].children is None and kids[1].durationMs == 0 and kids[1].status
    assert detail.rows is None and set(detail.spanIndex or {}) == {"root"}
    for path in (
        "run.durationMs",
        "root.children[1].durationMs",
        "root.children[1].children",
        "root.children[2]",
        "rows",
        "spanIndex.bad",
    ):
        assert path in problems, (path, problems)
    page, page_problems = decode_tolerant(
        b'{"revision":"one","rows":[{"runId":"r","name":5},3]}', RunsPage
    )
    assert [r.runId for r in page.rows or []] == ["r"] and page_problems
    with pytest.raises(msgspec.ValidationError):  # nothing fits: a protocol error
        decode_tolerant(b'{"changes": 5}', RunsDelta)
    with pytest.raises(msgspec.ValidationError):
        decode_tolerant(b'"a string"', RunDetail)
    value, _ = coerce({"attributes": json.loads('{"a":' * 200 + "1" + "}" * 200)}, dict)
    assert "a" in value["attributes"]
    deep = b'{"root":{"attributes":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}}"
    detail, _ = decode_tolerant(deep, RunDetail)
    assert TRUNCATED in json.dumps(detail.root.attributes)


async def test_app_shows_what_it_can_and_marks_the_rest(serve_app) -> None:
    url = serve_app(hostile_backend())
    app = make_app(url, poll_interval=100.0)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: "hostile detail" in screen_text(app), what="runs list")
        await wait_for(pilot, lambda: app.connection_state == "live", what="stream")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.detail is not None,
            what="detail",
        )
        screen = app.screen
        await wait_for(pilot, lambda: "good tool" in screen_text(app), what="good child")
        assert screen.parse_problems
        text = screen_text(app)
        assert "could not be parsed" in text
        # the bad child is still a row, the good one keeps its data
        assert screen.timeline.select_span("bad")
        await pilot.pause()
        assert screen.timeline.select_span("tool")
        pane = screen.detail_pane
        await wait_for(pilot, lambda: pane.subject is not None and pane.subject.spanId == "tool")
        pane.request_artifact(pane.artifacts[0])
        await wait_for(pilot, lambda: isinstance(app.screen, ArtifactScreen), what="viewer")
        await pilot.pause()
        assert "BBBB" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        await pilot.press("r")
        await pilot.pause(0.3)
        assert app.is_running and app.screen is screen


def test_display_json_survives_any_nesting() -> None:
    from crux_tui.contract.tolerant import dumps

    deep: list = []
    cursor = deep
    for _ in range(5000):
        cursor.append([])
        cursor = cursor[0]
    text = dumps({"preview": deep}, indent=2)
    assert "truncated" in text
    assert dumps({"x": 1}, compact=True) == '{"x":1}'
