"""Closed vocabularies of canonical records, schema v2 (``crux-api.md`` section 4.3)."""

from __future__ import annotations

SCHEMA_VERSION = 2

RECORD_TYPES = frozenset(
    {"run:start", "run:end", "span:start", "span:end", "span", "span:event", "edge", "artifact"}
)

RUN_STATUSES = frozenset({"running", "ok", "error", "blocked", "cancelled", "suspended"})
SPAN_STATUSES = RUN_STATUSES | {"skipped"}

ARTIFACT_KINDS = frozenset(
    [
        "approval.request",
        "input",
        "output",
        "messages",
        "system",
        "context",
        "context.contribution",
        "prompt",
        "prompt.budget",
        "tool.args",
        "tool.request",
        "tool.result",
        "retrieval.hits",
        "memory.snapshot",
        "memory.recall",
        "memory.diff",
        "memory.write",
        "handoff.payload",
        "delegate.report",
        "constraint.report",
        "guardrail.report",
        "error.stack",
        "error.raw",
        "stream.timeline",
        "score.report",
        "citation.report",
        "comparison.report",
        "baseline.promotion",
        "composition.report",
        "routing.report",
        "cache.report",
        "compaction.report",
        "embedding.report",
        "indexing.report",
        "ingest.report",
        "corpus.report",
        "security.report",
        "validation.feedback",
    ]
)

EDGE_TYPES = frozenset(
    [
        "caused",
        "triggered",
        "called",
        "explains",
        "produced",
        "consumed",
        "handoff.payload",
        "delegate.invoked",
        "memory.read",
        "memory.write",
        "retrieval.returned",
        "citation.used",
        "constraint.retry",
        "guardrail.blocked",
        "fallback.attempt",
        "replay.of",
        "feedback.for",
        "eval.case_of",
        "comparison.baseline",
        "comparison.candidate",
    ]
)

_FAMILIES: dict[str, str] = {
    "run": "run",
    "generation": "generation.call generation.stream",
    "prompt": "prompt.resolve prompt.budget",
    "context": "context.resolve context.predicate context.cache",
    "agent": "agent.run",
    "flow": "flow.run flow.step flow.suspension",
    "composition": "composition.parallel composition.pipeline composition.consensus "
    "composition.swarm composition.branch composition.join composition.vote",
    "tool": "tool.call tool.approval",
    "retrieval": "retrieval.pipeline retrieval.query retrieval.recipe retrieval.retrieve "
    "retrieval.stage retrieval.step",
    "embedding": "embedding.call",
    "memory": "memory.read memory.write",
    "constraint": "constraint.check constraint.retry",
    "guardrail": "guardrail.run",
    "routing": "routing.router routing.split routing.retry routing.fallback routing.cascade",
    "runtime": "runtime.convex.action runtime.convex.query runtime.convex.mutation "
    "runtime.convex.schedule runtime.convex.resume runtime.convex.flush",
    "cache": "cache.lookup",
    "compaction": "compaction.run",
    "eval": "eval.run eval.case",
    "scoring": "scoring.judge",
    "citation": "citation.check",
    "handoff": "handoff.prepare",
    "delegate": "delegate.invoke",
    "workspace": "workspace.operation",
    "plan": "plan.operation",
    "task": "task.operation",
    "indexing": "indexing.pipeline",
    "ingest": "ingest.parse",
    "corpus": "corpus.sync",
    "skill": "skill.load",
    "security": "security.warning",
    "cost": "cost.record",
    "feedback": "feedback.record",
    "custom": "custom.operation",
}

#: primitive -> family, for every known v2 primitive.
PRIMITIVE_FAMILY: dict[str, str] = {
    primitive: family for family, names in _FAMILIES.items() for primitive in names.split()
}


def is_custom(name: str) -> bool:
    """``custom.<something>`` names are accepted wherever a closed list applies."""
    return name.startswith("custom.") and len(name) > len("custom.")


def is_infrastructure_primitive(primitive: str) -> bool:
    """Convex runtime spans (``runtime.convex.*``) are infrastructure."""
    return primitive.startswith("runtime.convex.")


#: Where a span's display label comes from, first non-empty wins (after an explicit
#: ``attributes.presentation.label``).
LABEL_FIELDS = (
    "toolName",
    "agentId",
    "flowId",
    "stepId",
    "promptId",
    "contextId",
    "memoryId",
    "retrieverId",
    "name",
    "primitive",
    "spanId",
)
