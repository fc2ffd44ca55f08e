"""Building blocks shared by the scenarios: a streamed Convex Agent turn, a tool call,
and a ``ctx.crux.runAction`` boundary, each emitting what the Crux SDK emits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crux_tui.demo.builder import RunBuilder

MODEL = "gpt-4o"
PROVIDER = "openai"
LEASE_MS = 90_000  # DEFAULT_CONVEX_BOUNDARY_LEASE_MS


@dataclass(frozen=True)
class ToolPlan:
    """A tool call a streamed turn requests."""

    name: str
    args: dict[str, Any]
    result: Any
    duration_ms: int = 400
    #: False: a direct Convex Agent tool, neither wrapped nor named, whose span the SDK
    #: can only label with the call id
    named: bool = True


def streamed_turn(
    b: RunBuilder,
    agent: str,
    at_ms: float,
    step: int,
    *,
    text: str,
    tool: ToolPlan | None = None,
    duration_ms: int = 900,
    messages: bool = False,
    streamed: bool = True,
    stream: str | None = None,
) -> tuple[float, str | None]:
    """One Convex Agent turn plus the tool call it requested, run after it.

    Streamed (``thread.streamText``): a ``generation.stream`` wrapping one AI SDK step;
    the backend folds the stream and the tool executes as the step's sibling. Not
    streamed (``generateText``): one ``generation.call`` whose tool runs beneath it
    canonically and is promoted to an agent sibling by the backend.
    ``stream``: a ``generation.stream`` already opened at ``at_ms`` (:func:`open_stream`).
    Returns (end offset, tool span id).
    """
    if streamed and stream is None:
        stream = open_stream(b, agent, at_ms)
    step_start = at_ms + 5
    step_span = b.start(
        "generation.call",
        f"step-{step}" if streamed else "generateText",
        step_start,
        stream or agent,
        model=MODEL,
        provider=PROVIDER,
        attributes={"source": "convex.agent.step", "stepNumber": step},
    )
    if messages:
        b.artifact(
            step_span,
            "messages",
            step_start + 1,
            {
                "source": "convex.agent",
                "phase": "call-args",
                "messages": [
                    {"role": "system", "content": "You are a concise support agent."},
                    {"role": "user", "content": "Can I get a refund on my annual plan?"},
                ],
            },
        )
    input_tokens = b.rng.randint(300, 2400)
    output_tokens = b.rng.randint(20, 220)
    end_ms = step_start + duration_ms
    finish = "tool-calls" if tool else "stop"
    tool_call_id = b.new_id("call") if tool else None
    b.event(
        step_span,
        "generation.step",
        end_ms - 10,
        {
            "stepNumber": step,
            "finishReason": finish,
            "toolCalls": [{"toolCallId": tool_call_id, "toolName": tool.name}] if tool else [],
            "text": text,
        },
    )
    if tool:
        b.artifact(
            step_span,
            "tool.request",
            end_ms - 8,
            {"toolCallId": tool_call_id, "toolName": tool.name, "args": tool.args},
            attributes={"toolCallId": tool_call_id},
        )
    metrics = b.usage(step_span, end_ms - 5, input_tokens, output_tokens, input_tokens * 2.5e-6)
    b.event(stream or step_span, "generation.finished", end_ms, {"finishReason": finish})
    b.artifact(step_span, "output", end_ms - 1, text, content_type="text/plain", encoding="text")
    b.end(step_span, step_start, end_ms - 2, metrics=metrics, attributes={"finishReason": finish})
    if stream:
        b.end(stream, at_ms, end_ms)
    if not tool or tool_call_id is None:
        return end_ms, None
    # the agent loop executes the tool after the step that requested it
    tool_start = end_ms + 15
    tool_span = b.start(
        "tool.call",
        tool.name if tool.named else tool_call_id,
        tool_start,
        agent if streamed else step_span,
        toolName=tool.name if tool.named else None,
        attributes={"toolCallId": tool_call_id, "phase": "tool.execute"},
    )
    b.artifact(tool_span, "tool.args", tool_start + 1, tool.args)
    tool_end = tool_start + tool.duration_ms
    b.artifact(tool_span, "tool.result", tool_end - 1, tool.result)
    b.event(tool_span, "tool.result", tool_end - 1, {"toolCallId": tool_call_id})
    b.end(tool_span, tool_start, tool_end)
    return tool_end, tool_span


def open_stream(b: RunBuilder, agent: str, at_ms: float) -> str:
    """``thread.streamText`` starts: its ``generation.stream`` stays open until the turn ends."""
    return b.start(
        "generation.stream",
        "streamText",
        at_ms,
        agent,
        model=MODEL,
        provider=PROVIDER,
        attributes={"source": "convex.agent", "mode": "text"},
    )


def boundary(
    b: RunBuilder,
    parent: str,
    at_ms: float,
    label: str,
    function_ref: str,
    *,
    received: bool = True,
    completed: bool = True,
    caller_end: bool = True,
    child_ms: float = 1500,
) -> tuple[str, float]:
    """``ctx.crux.runAction(label, ...)``: the caller's boundary span, flushed before the
    worker boundary, and the child's acknowledgements. Returns (boundary span, end offset)."""
    span = b.start(
        "runtime.convex.action",
        label,
        at_ms,
        parent,
        attributes={
            "functionRef": function_ref,
            "boundary": "convex.action",
            "boundaryId": b.new_id("boundary"),
            "presentation": {"display": "detail"},
        },
    )
    b.event(
        span,
        "runtime.convex.boundary.requested",
        at_ms + 1,
        {"functionRef": function_ref, "leaseExpiresAt": b.at(at_ms + LEASE_MS)},
    )
    end_ms = at_ms + child_ms
    if received:
        b.event(
            span,
            "runtime.convex.boundary.received",
            at_ms + 40,
            {"functionRef": function_ref, "leaseExpiresAt": b.at(at_ms + LEASE_MS)},
        )
    if completed:
        b.event(span, "runtime.convex.boundary.completed", end_ms - 5, {"status": "ok"})
    if caller_end:
        b.end(span, at_ms, end_ms)
    return span, end_ms


def schedule(
    b: RunBuilder,
    parent: str,
    at_ms: float,
    function_ref: str,
    *,
    delay_ms: float = 0,
    child_ms: float = 500,
    failed: bool = False,
) -> str:
    """``ctx.scheduler.runAfter(delay_ms, function_ref, ...)``: the caller's schedule span
    (infrastructure, folded; closed as soon as the job is scheduled) and the scheduled
    function's acknowledgements on it. The scheduled function is a child run of the
    operation whose ``run:start`` names this span (``triggeredBySpanId``). Returns the span."""
    span = b.start(
        "runtime.convex.schedule",
        f"runAfter {function_ref}",
        at_ms,
        parent,
        attributes={
            "functionRef": function_ref,
            "boundary": "convex.schedule",
            "boundaryId": b.new_id("boundary"),
            "delayMs": delay_ms,
            "presentation": {"display": "detail"},
        },
    )
    b.event(
        span,
        "runtime.convex.boundary.requested",
        at_ms + 1,
        {"functionRef": function_ref, "leaseExpiresAt": b.at(at_ms + delay_ms + LEASE_MS)},
    )
    b.end(span, at_ms, at_ms + 4)
    started = at_ms + delay_ms + 30
    b.event(span, "runtime.convex.boundary.received", started, {"functionRef": function_ref})
    if failed:
        b.event(span, "runtime.convex.boundary.failed", started + child_ms, {"status": "error"})
    else:
        b.event(span, "runtime.convex.boundary.completed", started + child_ms, {"status": "ok"})
    return span


def approval_point(
    b: RunBuilder, flow: str, at_ms: float, question: str, approvers: list[str]
) -> str:
    """A flow suspending at ``plan-approval``: the suspension span (10 ms) and the
    ``approval.request`` it asks. Returns the span."""
    span = b.span(
        "flow.suspension",
        "plan-approval",
        at_ms,
        at_ms + 10,
        flow,
        status="suspended",
        stepId="plan-approval",
    )
    b.artifact(span, "approval.request", at_ms + 5, {"question": question, "approvers": approvers})
    return span
