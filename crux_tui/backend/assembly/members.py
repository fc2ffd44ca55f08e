"""One member run of an operation, as the operation RunDetail takes it (crux-v5.md C.1, C.5):
its canonical graph, its ``run:start`` links, and the ``definitionRefs`` of the run and of
each span. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crux_tui.backend.assembly.graph import assemble_graph
from crux_tui.backend.projection.operation import MemberGraph
from crux_tui.backend.wire import WireRecord
from crux_tui.contract.models import RunSummary

Refs = list[dict[str, Any]]


def definition_refs(
    wires: Sequence[WireRecord],
) -> tuple[tuple[dict[str, Any], ...], dict[str, Refs]]:
    """``(run refs, span id -> refs)``: the first ``run:start``'s ``definitionRefs``, and
    each span's from its first start record that carries some (non-object refs dropped)."""
    run_refs: tuple[dict[str, Any], ...] = ()
    span_refs: dict[str, Refs] = {}
    for w in wires:
        refs = w.definitionRefs
        if refs is None or not isinstance(refs, list):
            continue
        refs = [r for r in refs if isinstance(r, dict)]
        if w.type == "run:start" and not run_refs:
            run_refs = tuple(refs)
        elif w.type in ("span:start", "span") and w.spanId and refs:
            span_refs.setdefault(w.spanId, refs)
    return run_refs, span_refs


def member_graph(
    summary: RunSummary,
    wires: Sequence[WireRecord],
    *,
    parent_run_id: str,
    triggered_by_span_id: str,
    has_start: bool,
) -> MemberGraph:
    """A member run from its stored summary, its records (arrival order) and its links."""
    run_refs, span_refs = definition_refs(wires)
    return MemberGraph(
        graph=assemble_graph(summary, wires),
        parent_run_id=parent_run_id,
        triggered_by_span_id=triggered_by_span_id,
        has_start=has_start,
        definition_refs=run_refs,
        span_refs=span_refs,
    )
