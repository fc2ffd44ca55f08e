"""The symptoms crux-tui recognises: one per row of the "Common Symptoms" table of the Convex
observability guide (``convex-observability.md``), with a stable kebab-case code, the guide's
wording of the symptom and its likely cause, and the fix.

:class:`Symptom` is what a rule finds in a run: which spans show it, what the records say
(``evidence``) and how to fix it (``fix``, one or two lines).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec


class Symptom(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One instrumentation mistake found in a run.

    ``spanIds`` are the spans that show it (the first is the one to look at); ``runId`` the
    member run they belong to. Strings may quote record content: display them as data
    (``sanitize.clean``, ``sanitize.say``).
    """

    code: str
    title: str
    spanIds: list[str] = msgspec.field(default_factory=list)
    evidence: str = ""
    fix: str = ""
    runId: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    """A row of the guide's table."""

    code: str
    title: str
    cause: str
    fix: str

    def found(self, span_ids: list[str], evidence: str, run_id: str = "", fix: str = "") -> Symptom:
        """A symptom of this kind (``fix`` replaces the usual one when the records say more)."""
        return Symptom(
            code=self.code,
            title=self.title,
            spanIds=[s for s in span_ids if s],
            evidence=evidence,
            fix=fix or self.fix,
            runId=run_id,
        )


CHILD_ACTION_SEPARATE_RUN = Kind(
    "child-action-separate-run",
    "Child action appears as a separate run",
    "raw ctx.runAction() or an unwrapped target action",
    "Call the child with ctx.crux.runAction(label, fn, args) and export the target action "
    "from @crux/convex/server, so the child joins its caller's operation.",
)
RUN_STAYS_INCOMPLETE = Kind(
    "run-stays-incomplete",
    "Run stays incomplete in devtools",
    "the worker exited before the records were delivered",
    "Export the action from @crux/convex/server (its wrappers flush before returning), or "
    "await flushObservability() from @crux/convex/observability on unusual exit paths.",
)
PLAN_FLOW_INCOMPLETE_GENERATION = Kind(
    "plan-flow-incomplete-generation",
    "Plan flow shows incomplete generation",
    "the generation's terminal end was delayed past its deadline",
    "Nothing is lost: once its end arrives the backend folds the output under the suspended "
    "flow. Flush before suspending (Convex flow() helpers do) or raise its timeoutMs.",
)
GENERATION_PAST_TIMEOUT = Kind(
    "generation-past-timeout",
    "Generation stays running past timeout",
    "the provider or worker never delivered the terminal span end",
    "Set timeoutMs on the generation: core then emits a terminal timeout span, and the backend "
    "reconciles the gap at the deadline.",
)
AGENT_TOOLS_WITHOUT_GENERATION = Kind(
    "agent-tools-without-generation",
    "Chat agent has tools but no generation",
    "a raw Convex Agent import",
    "Import Agent from @crux/convex/agent instead of @convex-dev/agent: its generateText / "
    "streamText calls then emit generation spans.",
)
TOOL_LABEL_CALL_ID = Kind(
    "tool-label-call-id",
    "Tool row shows only call ID",
    "a direct Convex Agent tool that was not wrapped or named",
    "Define the tool with createTool() from @crux/convex/agent, or wrap it with "
    "wrapConvexTool(tool, { name }).",
)
FLOW_AS_CHAT_ROOT = Kind(
    "flow-as-chat-root",
    "Flow appears as chat root",
    "a flow used as a generic tracing wrapper",
    "Keep the public action / agent run as the root; use flow() only for actual flows "
    "(steps, suspension points).",
)
BRIDGE_COMMAND_MESSAGE_ONLY = Kind(
    "bridge-command-message-only",
    "Bridge command has only a message",
    "an older peer or a malformed command response",
    "Use the current @crux/convex bridge setup, so command.error.details carries the "
    "normalized error details.",
)

#: Every kind, in the guide's order.
KINDS: tuple[Kind, ...] = (
    CHILD_ACTION_SEPARATE_RUN,
    RUN_STAYS_INCOMPLETE,
    PLAN_FLOW_INCOMPLETE_GENERATION,
    GENERATION_PAST_TIMEOUT,
    AGENT_TOOLS_WITHOUT_GENERATION,
    TOOL_LABEL_CALL_ID,
    FLOW_AS_CHAT_ROOT,
    BRIDGE_COMMAND_MESSAGE_ONLY,
)
KIND_BY_CODE = {kind.code: kind for kind in KINDS}
