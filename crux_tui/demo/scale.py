"""Runs of any size, for benchmarks: an agent loop of streamed turns and tool calls."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from crux_tui.demo.builder import Record, RunBuilder
from crux_tui.demo.turns import ToolPlan, boundary, streamed_turn

_TOOLS = ("searchDocs", "lookupOrders", "readFile", "runQuery", "fetchPage")


def scaled_run_records(
    span_count: int, seed: int = 7, now: datetime | None = None, run_id: str | None = None
) -> list[Record]:
    """One finished run of about ``span_count`` spans: streamed turns (folded streams),
    promoted tool calls, prompt details and, every tenth turn, a Convex child action
    across a folded boundary."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    b = RunBuilder(
        run_id or f"run_scale_{span_count}",
        f"agent loop ({span_count:,} spans)",
        "agent.run",
        now - timedelta(hours=1),
        rng,
    )
    b.run_start()
    agent = b.start("agent.run", "long agent", 1, None, agentId="long-agent")
    spans, t, turn = 1, 5.0, 0
    while spans < span_count:
        turn += 1
        if turn % 4 == 0:
            b.span("prompt.resolve", "agent.prompt", t, t + 2, agent, promptId="agent.prompt")
            spans += 1
        if turn % 10 == 0:
            span, t = boundary(b, agent, t, "subtask", "tasks:run", child_ms=300)
            b.span(
                "generation.call",
                "subtask generation",
                t - 250,
                t - 40,
                span,
                model="gpt-4o-mini",
                provider="openai",
            )
            spans += 2
        tool = None
        if turn % 2:
            name = _TOOLS[turn % len(_TOOLS)]
            tool = ToolPlan(name, {"n": turn}, {"ok": True}, duration_ms=rng.randint(20, 400))
        t, _ = streamed_turn(
            b,
            agent,
            t + 1,
            turn,
            text=f"turn {turn}",
            tool=tool,
            duration_ms=rng.randint(200, 1200),
        )
        spans += 3 if tool else 2
        t += 1
    b.end(agent, 1, t + 1)
    b.run_end("ok", t + 2)
    return b.records
