"""A run that keeps streaming while the demo is open, so the live view is visibly live."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx

from crux_tui.contract.vocabulary import SCHEMA_VERSION
from crux_tui.demo.builder import Record, RunBuilder
from crux_tui.demo.turns import ToolPlan, open_stream, streamed_turn

LIVE_RUN_ID = "run_live_chat"


def live_run_records(seed: int = 7, start: datetime | None = None) -> Iterator[list[Record]]:
    """Batches of a never-ending chat, timestamped as they are produced.

    As the Crux SDK does, the agent span stays open across turns and every batch ends
    with the next turn's ``generation.stream`` already open (the model is streaming its
    answer): between batches the run is running, never closed by its finished children.
    Each later batch finishes that turn (its step, and the tool call it asks for) and
    opens the next one.
    """
    rng = random.Random(seed)
    started = start or datetime.now(UTC)
    b = RunBuilder(
        LIVE_RUN_ID,
        "live chat (streaming)",
        "runtime.convex.action",
        started,
        rng,
        session_id="thread_live",
    )
    b.run_start({"functionRef": "chat:stream"})
    root = b.start(
        "runtime.convex.action", "chat", 1, None, attributes={"functionRef": "chat:stream"}
    )
    agent = b.start("agent.run", "live agent", 3, root, agentId="live")

    def offset(turn: int) -> float:
        if start is not None:
            return turn * 2000.0
        return (datetime.now(UTC) - started).total_seconds() * 1000

    turn, at_ms = 1, offset(1)
    stream = open_stream(b, agent, at_ms)
    yield _drain(b)
    while True:
        tool = (
            ToolPlan("searchDocs", {"query": f"question {turn}"}, {"hits": turn})
            if turn % 2
            else None
        )
        streamed_turn(
            b,
            agent,
            at_ms,
            turn,
            text=f"Answer part {turn}.",
            tool=tool,
            duration_ms=rng.randint(300, 900),
            stream=stream,
        )
        turn += 1
        at_ms = offset(turn)
        stream = open_stream(b, agent, at_ms)
        yield _drain(b)


def _drain(b: RunBuilder) -> list[Record]:
    batch, b.records = b.records, []
    return batch


class LiveRunFeeder:
    """Posts the live run, one batch every ``interval`` seconds, from a daemon thread."""

    def __init__(self, url: str, *, interval: float = 1.5, seed: int = 7) -> None:
        self.url = url.rstrip("/")
        self.interval = interval
        self.seed = seed
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crux-demo-live", daemon=True)

    def start(self) -> LiveRunFeeder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            for batch in live_run_records(self.seed):
                try:
                    client.post(
                        "/api/observability/records",
                        json={"schemaVersion": SCHEMA_VERSION, "records": batch},
                    )
                except httpx.HTTPError:
                    self.errors += 1  # the backend is going away; keep quiet
                if self._stop.wait(self.interval):
                    return
