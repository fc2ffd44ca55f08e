"""Display class (§3.3), node kind / label / detail role (§4); severity is
:func:`crux_tui.contract.statuses.severity_of`."""

from __future__ import annotations

from typing import Any

from crux_tui.contract.models import SpanSummary
from crux_tui.contract.statuses import OK, QUIET_STATUSES
from crux_tui.contract.vocabulary import LABEL_FIELDS

from .common import attrs, number, presentation, text

DISPLAY_HINTS = frozenset({"primary", "detail", "metadata"})
OPERATION_BOUNDARY = frozenset({"agent", "tool", "flow", "composition", "handoff", "delegate"})
GEN_CONTEXT = frozenset({"generation", "context", "prompt"})
GOVERNANCE = frozenset({"constraint", "guardrail", "citation", "scoring", "security"})
GOVERNANCE_FLAGS = (
    "blocked",
    "retried",
    "transformed",
    "redacted",
    "rerouted",
    "changedModel",
    "changedTool",
    "remediation",
)
DETAIL_PRIMITIVES = frozenset(
    {
        "context.resolve",
        "context.predicate",
        "context.cache",
        "prompt.resolve",
        "prompt.budget",
        "routing.router",
        "routing.cascade",
        "cache.lookup",
        "cost.record",
    }
)
DETAIL_FAMILIES = frozenset({"context", "prompt", "routing", "cache", "cost"})
FAMILY_KINDS = frozenset(
    {
        "generation",
        "agent",
        "tool",
        "flow",
        "composition",
        "memory",
        "retrieval",
        "constraint",
        "guardrail",
        "citation",
        "scoring",
        "security",
    }
)
ROLES = {
    "prompt": "input",
    "context": "input",
    "memory": "input",
    "retrieval": "input",
    "routing": "decision",
    "cost": "accounting",
    "constraint": "guard",
    "guardrail": "guard",
    "security": "guard",
}


def _truthy(value: Any) -> bool:
    if isinstance(value, (dict, list, str)):
        return len(value) > 0
    return bool(value) if isinstance(value, (bool, int, float)) else value is not None


def display_classes(
    spans: list[SpanSummary],
    topo: list[str],
    pparent: dict[str, str],
    pchildren: dict[str, list[str]],
    by_id: dict[str, SpanSummary],
) -> dict[str, str]:
    """Display class for every span, computed top-down over the *presentation* parents (O(n))."""
    anc_retr_mem: dict[str, bool] = {}
    anc_retr: dict[str, bool] = {}
    gen_first: dict[str, bool] = {}  # a generation|context|prompt ancestor before an op boundary
    result: dict[str, str] = {}
    for sid in topo:
        span = by_id[sid]
        p = pparent.get(sid, "")
        if p:
            pf = by_id[p].family
            anc_retr_mem[sid] = pf in ("retrieval", "memory") or anc_retr_mem[p]
            anc_retr[sid] = pf == "retrieval" or anc_retr[p]
            if pf in GEN_CONTEXT:
                gen_first[sid] = True
            elif pf in OPERATION_BOUNDARY:
                gen_first[sid] = False
            else:
                gen_first[sid] = gen_first[p]
        else:
            anc_retr_mem[sid] = anc_retr[sid] = gen_first[sid] = False
        result[sid] = _classify(span, anc_retr_mem[sid], anc_retr[sid], gen_first[sid])
    # Redundant Convex-Agent stream fold (§3.3 tail).
    for span in spans:
        sid = span.spanId
        if span.primitive != "generation.stream" or result[sid] != "primary" or span.metrics:
            continue
        kids = pchildren.get(sid) or ()
        if len(kids) == 1 and is_convex_agent_step(by_id[kids[0]]):
            result[sid] = "detail"
    return result


def _classify(span: SpanSummary, anc_retr_mem: bool, anc_retr: bool, gen_first: bool) -> str:
    hint = text(presentation(span), "display")
    if hint in DISPLAY_HINTS:
        return hint
    family, primitive = span.family, span.primitive
    if not family or not primitive:
        return "detail"
    if primitive == "flow.suspension":
        return "primary"
    if primitive == "retrieval.stage" and span.status == OK:
        return "detail"
    if family in ("embedding", "memory") and (anc_retr_mem or gen_first):
        return "detail"
    if family == "retrieval" and (anc_retr or gen_first):
        return "detail"
    if (
        family in GOVERNANCE
        and primitive != "constraint.retry"
        and span.status in QUIET_STATUSES
        and not any(_truthy(attrs(span).get(flag)) for flag in GOVERNANCE_FLAGS)
    ):
        return "detail"
    if primitive in DETAIL_PRIMITIVES or family in DETAIL_FAMILIES:
        return "detail"
    return "primary"


def normalize_name(value: str) -> str:
    return value.lower().replace("_", "-").replace(" ", "-")


def is_convex_agent_step(span: SpanSummary) -> bool:
    if span.primitive != "generation.call":
        return False
    a = attrs(span)
    if text(a, "source") == "convex.agent.step" or number(a.get("stepNumber")) is not None:
        return True
    return "step-" in normalize_name(span.name)


def is_transition(span: SpanSummary) -> bool:
    return span.family in ("handoff", "delegate") or span.primitive in (
        "handoff.prepare",
        "delegate.invoke",
    )


def node_kind(span: SpanSummary) -> str:
    if span.primitive == "flow.suspension":
        return "suspension"
    if span.primitive == "flow.step":
        return "step"
    family = span.family
    if family in ("handoff", "delegate"):
        return "transition"
    if family in FAMILY_KINDS:
        return family
    if family in DETAIL_FAMILIES:
        return "detail"
    return "operation"


def role(span: SpanSummary) -> str:
    return ROLES.get(span.family, "")


def label(span: SpanSummary) -> str:
    hint = text(presentation(span), "label")
    if hint and not (hint == span.model and span.family != "generation"):
        return hint
    for name in LABEL_FIELDS:
        value: str = getattr(span, name)
        if value:
            return value
    return ""
