"""The pure parts of the live feed: /ws/ui messages, token.chunk thinning, run directory."""

from __future__ import annotations

import json

from gocrux import fixtures as fx
from gocrux.shapes import deleted_event, lifecycle_event, token_chunk_event

from crux_tui.contract.models import ObservabilityEvent, RunDetail, RunSummary
from crux_tui.contract.tolerant import decode_tolerant
from crux_tui.live.directory import RunDirectory
from crux_tui.live.throttle import TokenThrottle
from crux_tui.live.websocket import decode_message, ws_url


def test_ws_url() -> None:
    assert ws_url("http://127.0.0.1:4400") == "ws://127.0.0.1:4400/ws/ui"
    assert ws_url("https://tunnel.example/base/", "a b") == "wss://tunnel.example/base/ws/ui?t=a+b"


def test_only_observability_messages_decode() -> None:
    event = {"type": "observability:event", "event": deleted_event([fx.CHAT], 7)}
    decoded = decode_message(json.dumps(event))
    assert decoded is not None and decoded.action == "deleted"
    assert decoded.payload == {"operationIds": [fx.CHAT], "revision": 7}
    for ignored in (
        {"type": "index", "definitions": [{"id": "d", "text": "x" * 1000}] * 100},
        {"type": "inspect:event", "event": {"_tag": "InspectEvent", "timestamp": "not a number"}},
        {"type": "observability:event"},
        {"type": "observability:event", "event": {"timestamp": "soon"}},
        [1, 2, 3],
    ):
        assert decode_message(json.dumps(ignored)) is None
    assert decode_message(b"\xff not json") is None


def _chunk(n: int, run: str = fx.CHILD_SUM) -> ObservabilityEvent:
    raw = json.dumps({"type": "observability:event", "event": token_chunk_event(run, "s", n)})
    event = decode_message(raw)
    assert event is not None
    return event


def test_token_throttle_passes_one_then_the_latest_held() -> None:
    throttle = TokenThrottle(1.0)
    assert throttle.offer(_chunk(0), 10.0) is not None
    assert throttle.next_due() is None
    assert throttle.offer(_chunk(1), 10.1) is None
    assert throttle.offer(_chunk(2), 10.2) is None
    assert throttle.offer(_chunk(0, "other_run"), 10.2) is not None  # per run
    assert throttle.next_due() == 11.0
    assert throttle.due(10.9) == []
    released = throttle.due(11.0)
    assert [e.payload["eventId"] for e in released] == ["evt_2"]
    assert throttle.next_due() is None
    assert throttle.offer(_chunk(3), 11.5) is None  # 0.5 s after the release
    assert throttle.offer(_chunk(4), 12.1) is not None  # a full interval later


def test_run_directory_maps_member_runs_to_their_operation() -> None:
    detail, problems = decode_tolerant(
        json.dumps(fx.chat_operation(fx.datetime.now(fx.UTC)).detail).encode(), RunDetail
    )
    assert problems == []
    directory = RunDirectory()
    directory.note_detail(detail)
    directory.note_runs([RunSummary(runId="run_listed_child", operationId="run_op_x")])
    lifecycle = decode_message(
        json.dumps(
            {"type": "observability:event", "event": lifecycle_event(fx.CHILD_NOTIFY, "error")}
        )
    )
    assert lifecycle is not None
    assert fx.CHAT in directory.operations(lifecycle)
    assert directory.operation_of("run_listed_child") == "run_op_x"
    assert directory.operation_of("unknown") == "unknown"
    assert directory.members_of(fx.CHAT) == {fx.CHAT, fx.CHILD_SUM, fx.CHILD_NOTIFY}
    directory.forget([fx.CHAT])
    assert directory.operation_of(fx.CHILD_SUM) == fx.CHILD_SUM and len(directory) == 1
