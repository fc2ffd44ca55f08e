"""Closed vocabularies of canonical records, per schema version.

Schema v2 is ``crux-api.md`` section 4.3; v4 and v5 add and drop names (``crux-v5.md``
section A.4). :data:`TAXONOMY` says which names a record of each version may use. The
status vocabulary (names, sets, ranks, severities, glyphs) is :mod:`crux_tui.contract.statuses`.
"""

from __future__ import annotations

from typing import NamedTuple

#: The version crux-tui writes (the current Crux schema).
SCHEMA_VERSION = 5
#: The versions crux-tui reads: batches of any other version are refused.
SUPPORTED_SCHEMA_VERSIONS = frozenset({2, 3, 4, 5})
#: From this version on every record names its operation (``operationId``) and a child
#: run's ``run:start`` names its parent run.
OPERATION_SCHEMA_VERSION = 4
#: From this version on records may carry a validated ``deployment`` identity.
DEPLOYMENT_SCHEMA_VERSION = 3

RECORD_TYPES = frozenset(
    {"run:start", "run:end", "span:start", "span:end", "span", "span:event", "edge", "artifact"}
)

V2_ARTIFACT_KINDS = frozenset(
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

V2_EDGE_TYPES = frozenset(
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


def _primitives(families: dict[str, str]) -> dict[str, str]:
    return {primitive: family for family, names in families.items() for primitive in names.split()}


#: primitive -> family, schema v2 and v3.
V2_PRIMITIVE_FAMILY: dict[str, str] = _primitives(_FAMILIES)
V4_PRIMITIVE_FAMILY: dict[str, str] = {
    **V2_PRIMITIVE_FAMILY,
    **_primitives(
        {
            "media": "media.generate_image media.transcribe media.generate_speech media.describe",
            "mcp": "mcp.connect mcp.discover",
            "defer": "defer.scheduled defer.run",
            "generation": "generation.stream.attempt",
            "memory": "memory.capture",
        }
    ),
}
V5_PRIMITIVE_FAMILY: dict[str, str] = {
    **V4_PRIMITIVE_FAMILY,
    **_primitives(
        {"evidence": "evidence.record", "thread": "thread.operation", "effect": "effect.run"}
    ),
}
#: primitive -> family, for every primitive of any version (display, builders).
PRIMITIVE_FAMILY = V5_PRIMITIVE_FAMILY

V4_EDGE_TYPES = (V2_EDGE_TYPES | {"derived.from"}) - {"comparison.baseline", "comparison.candidate"}
V5_EDGE_TYPES = V4_EDGE_TYPES | {"evidence.for", "recovery.of"}
V4_ARTIFACT_KINDS = (V2_ARTIFACT_KINDS | {"media.report"}) - {
    "comparison.report",
    "baseline.promotion",
}
V5_ARTIFACT_KINDS = V4_ARTIFACT_KINDS | {"approval.decision", "request.plan", "effect.receipt"}


class Taxonomy(NamedTuple):
    """The closed lists a record of one schema version is checked against."""

    primitive_family: dict[str, str]
    edge_types: frozenset[str]
    artifact_kinds: frozenset[str]


_V2 = Taxonomy(V2_PRIMITIVE_FAMILY, V2_EDGE_TYPES, V2_ARTIFACT_KINDS)
#: schema version -> its taxonomy (v3 only added ``deployment``).
TAXONOMY: dict[int, Taxonomy] = {
    2: _V2,
    3: _V2,
    4: Taxonomy(V4_PRIMITIVE_FAMILY, V4_EDGE_TYPES, V4_ARTIFACT_KINDS),
    5: Taxonomy(V5_PRIMITIVE_FAMILY, V5_EDGE_TYPES, V5_ARTIFACT_KINDS),
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


# --------------------------------------------------------------------------- operations (v5)

#: Marks a member (child) run of an operation: its row in the timeline, its count in the list.
MEMBER_RUN_GLYPH = "↳"
MEMBER_RUN_WORD = "run"
#: Counts an operation's failed child runs in the runs list (``!1``).
FAILED_CHILDREN_GLYPH = "!"
#: An operation whose delivery lost records (``⇣2``: two rejected).
DEGRADED_DELIVERY_GLYPH = "⇣"


# --------------------------------------------------------------------------- timeline marks

#: An infrastructure span brought back as a row (the ``i`` toggle), and the infrastructure
#: span a status was decided by.
INFRASTRUCTURE_GLYPH = "⚙"
INFRASTRUCTURE_MARK = f"{INFRASTRUCTURE_GLYPH} infra"
#: A folded span shown because it holds rows (canonical parents, ``c``).
FOLDED_MARK = "◦ folded"
#: A row placed away from its canonical parent (``↰``; ``↰ from <label>`` with ``c``).
MOVED_GLYPH = "↰"
MOVED_FROM = f"{MOVED_GLYPH} from"
#: A span carrying an error object although its status is not an error status.
ERROR_OBJECT_GLYPH = "●"


# --------------------------------------------------------------------------- symptoms

#: Marks an instrumentation symptom (``crux_tui.symptoms``): in the runs list, the run's
#: diagnostics, the detail pane and ``doctor``'s output. Unlike every status glyph.
SYMPTOM_GLYPH = "⚑"
SYMPTOM_WORD = "symptom"


def symptom_count_text(count: int) -> str:
    """``⚑ symptom`` / ``⚑ 3 symptoms``."""
    if count == 1:
        return f"{SYMPTOM_GLYPH} {SYMPTOM_WORD}"
    return f"{SYMPTOM_GLYPH} {count} {SYMPTOM_WORD}s"
