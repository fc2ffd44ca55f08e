"""The pure parts of the live feed: /ws/ui messages, token.chunk thinning, run directory."""

from __future__ import annotations

import asyncio
import json

from gocrux import fixtures as fx
from gocrux.shapes import deleted_event, lifecycle_event, token_chunk_event

from crux_tui.contract.models import ObservabilityEvent, RunDetail, RunSummary
from crux_tui.contract.tolerant import decode_tolerant
from crux_tui.live.directory import RunDirectory, operation_id
from crux_tui.live.session import Coalescer, Job, TaskRunner
from crux_tui.live.throttle import TokenThrottle
from crux_tui.live.websocket import decode_message, ws_url


def test_ws_url() -> None:
    assert ws_url("http://127.0.0.1:4400") == "ws://127.0.0.1:4400/ws/ui"
    assert ws_url("https://tunnel.example/base/", "a b") == "wss://tunnel.example/base/ws/ui?t=a+b"
    # only the trailing slashes go: the base path is kept whatever it ends with
    assert ws_url("http://host:1/DEVTOOLS-X//") == "ws://host:1/DEVTOOLS-X/ws/ui"


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
    assert throttle.offer(_chunk(5), 13.1) is not None  # exactly one interval later


def _chunk_of(ref: str, payload_run: object) -> ObservabilityEvent:
    """A ``token.chunk`` whose ``refId`` is ``ref`` and whose payload's ``runId`` is
    ``payload_run`` (absent when ``None``)."""
    shape = token_chunk_event("run_x", "s", 0)
    shape["refId"] = ref
    if payload_run is None:
        del shape["payload"]["runId"]
    else:
        shape["payload"]["runId"] = payload_run
    event = decode_message(json.dumps({"type": "observability:event", "event": shape}))
    assert event is not None
    return event


def test_token_throttle_keys_a_chunk_by_its_ref_else_its_payload_run() -> None:
    """A chunk's run is its ``refId``; without one, its payload's ``runId`` when that is a
    string; else it names no run (all such chunks, an empty ``runId``'s too, are one burst,
    and none raises)."""
    throttle = TokenThrottle(1.0)
    # by refId, whatever the payload says
    assert throttle.offer(_chunk_of("run_a", "run_same"), 10.0) is not None
    assert throttle.offer(_chunk_of("run_b", "run_same"), 10.0) is not None
    assert throttle.offer(_chunk_of("run_a", None), 10.1) is None
    # no refId: by the payload's runId
    assert throttle.offer(_chunk_of("", "run_c"), 10.0) is not None
    assert throttle.offer(_chunk_of("", "run_d"), 10.0) is not None
    assert throttle.offer(_chunk_of("", "run_c"), 10.1) is None
    # neither: one run-less burst, a runId that is not a string included
    assert throttle.offer(_chunk_of("", None), 10.0) is not None
    assert throttle.offer(_chunk_of("", ["not", "a", "run"]), 10.1) is None
    assert throttle.offer(_chunk_of("", 7), 10.2) is None
    assert throttle.offer(_chunk_of("", ""), 10.3) is None


def test_token_throttle_drops_a_held_chunk_once_a_newer_one_passes() -> None:
    """A chunk that passes because its run's interval ended replaces the one held for that
    run: the older one is never released after it."""
    throttle = TokenThrottle(1.0)
    assert throttle.offer(_chunk(0), 10.0) is not None
    assert throttle.offer(_chunk(1), 10.5) is None  # held
    newer = throttle.offer(_chunk(2), 11.2)  # offered before the held one was due-checked
    assert newer is not None and newer.payload["eventId"] == "evt_2"
    assert throttle.next_due() is None
    assert throttle.due(13.0) == []


def test_token_throttle_forgets_idle_runs_but_never_one_with_a_held_chunk() -> None:
    """Past 1024 remembered runs, those whose interval has ended are forgotten; a run with a
    held chunk is kept, and its chunk is still released when due."""
    throttle = TokenThrottle(1.0)
    assert throttle.offer(_chunk(0, "run_held"), 10.0) is not None
    assert throttle.offer(_chunk(1, "run_held"), 10.5) is None
    for n in range(1100):
        assert throttle.offer(_chunk(n, f"run_{n}"), 10.0) is not None
    # a new run makes the throttle forget idle runs: none is yet, each one's interval goes on
    assert throttle.offer(_chunk(0, "run_other"), 10.6) is not None
    assert throttle.offer(_chunk(1, "run_5"), 10.7) is None  # held, not passed
    # past the interval: the next new run makes the throttle forget the idle ones
    assert throttle.offer(_chunk(0, "run_new"), 12.0) is not None
    assert throttle.next_due() == 11.0
    released = sorted((e.refId, e.payload["eventId"]) for e in throttle.due(12.0))
    assert released == [("run_5", "evt_1"), ("run_held", "evt_1")]
    assert throttle.offer(_chunk(2, "run_held"), 12.5) is None  # passed at 12.0: held again


def test_run_directory_maps_member_runs_to_their_operation() -> None:
    detail, problems = decode_tolerant(
        json.dumps(fx.chat_operation(fx.datetime.now(fx.UTC)).detail).encode(), RunDetail
    )
    assert problems == []
    directory = RunDirectory()
    directory.note_detail(detail)
    assert len(directory) == 2  # the two child runs: the operation's own run maps nowhere
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


def test_a_run_summary_names_its_operation_else_its_root_run_else_itself() -> None:
    """``operationId`` (v4+), else ``rootRunId`` (an older backend listing a member run),
    else the run itself (a v2 run is its own operation); the directory maps by it."""
    assert operation_id(RunSummary(runId="run_c", rootRunId="run_r", operationId="op")) == "op"
    assert operation_id(RunSummary(runId="run_c", rootRunId="run_r")) == "run_r"
    assert operation_id(RunSummary(runId="run_v2")) == "run_v2"
    directory = RunDirectory()
    directory.note_runs([RunSummary(runId="run_c", rootRunId="run_r"), RunSummary(runId="run_v2")])
    assert directory.operation_of("run_c") == "run_r"
    assert directory.operation_of("run_v2") == "run_v2" and len(directory) == 1


async def test_task_runner_keeps_the_errors_of_its_work_and_waits_for_work_it_started() -> None:
    """A TaskRunner names each task after its job, keeps what the work raised (a cancelled
    task raised nothing), cancels the running work of an exclusive job when a new one
    starts, and ``idle`` waits for work started by work, never raising."""
    runner = TaskRunner()
    seen: list[str] = []
    release = asyncio.Event()
    loop_errors: list[dict] = []  # what the loop was told went wrong (in a callback)
    asyncio.get_running_loop().set_exception_handler(lambda _, context: loop_errors.append(context))

    async def child() -> None:
        await asyncio.sleep(0)
        seen.append("child")

    async def parent() -> None:
        runner.spawn(Job("children"), child())
        seen.append("parent")

    async def failing() -> None:
        raise ValueError("boom")

    async def held() -> None:
        await release.wait()
        seen.append("held")

    exclusive = Job("single", exclusive=True)
    assert runner.spawn(Job("parents", "start a child"), parent()).get_name() == "start a child"
    assert runner.spawn(Job("failures"), failing()).get_name() == "failures"
    first = runner.spawn(exclusive, held())
    runner.spawn(exclusive, held())  # cancels the first
    assert runner.busy
    release.set()
    await runner.idle()
    assert not runner.busy and first.cancelled()
    assert sorted(seen) == ["child", "held", "parent"]
    assert len(runner.errors) == 1 and isinstance(runner.errors[0], ValueError)
    assert str(runner.errors[0]) == "boom"
    # closing cancels what still runs, without raising
    stuck = runner.spawn(Job("stuck"), asyncio.Event().wait())
    await asyncio.sleep(0)
    await runner.aclose()
    assert stuck.cancelled() and not runner.busy and len(runner.errors) == 1
    assert loop_errors == []  # a cancelled task is not an error, not even for the loop


async def test_coalescer_runs_one_load_in_flight_and_one_more_for_a_burst() -> None:
    """Requests while a load runs ask for exactly one more load after it; none before the
    first request."""
    runner = TaskRunner()
    gate = asyncio.Event()
    loads: list[int] = []

    async def load() -> None:
        loads.append(len(loads))
        await gate.wait()

    coalescer = Coalescer(runner, Job("loads"), load)
    await asyncio.sleep(0)
    assert loads == [] and coalescer.running is False and coalescer.pending is False
    coalescer.request()
    assert coalescer.running is True
    await asyncio.sleep(0)
    for _ in range(3):
        coalescer.request()
    gate.set()
    await runner.idle()
    assert loads == [0, 1] and coalescer.running is False and coalescer.pending is False
    assert runner.errors == []
