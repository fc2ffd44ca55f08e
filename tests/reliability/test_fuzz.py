"""Fuzz: generated (valid and mutated) schema-v2 records -> validation -> graph -> projection.

``test_fuzz_records_validate_and_project`` runs 10,000 deterministic examples (CI budget:
well under a minute on a 2-core machine). Each example is a small batch: valid records of
one run (spans with random parents, events, artifacts, edges, ends) plus mutated copies
(wrong types, missing or extra fields, random JSON). Properties:

* :func:`validate_record` never raises and answers one disposition per record;
* every unmutated valid record is accepted;
* the accepted records assemble into a graph whose projection never raises, indexes
  every span, and forms an acyclic tree whose rows are its preorder.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import RunBuilder

from crux_tui.backend.assembly.graph import assemble_graph
from crux_tui.backend.ingest import validate_record
from crux_tui.backend.projection import project_run_detail
from crux_tui.contract.models import RunSummary

NOW = datetime(2026, 5, 16, 18, 0, 5, tzinfo=UTC)
PRIMITIVES = ["agent.run", "generation.call", "tool.call", "flow.step", "memory.read"]
STATUSES = ["ok", "error", "running", "cancelled", "suspended", "weird"]
SPAN_IDS = ["s0", "s1", "s2", "s3", "ghost"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def valid_records(draw: Any) -> list[dict[str, Any]]:
    run = RunBuilder("run_fuzz")
    out = [run.run_start()] if draw(st.booleans()) else []
    if not out:
        run.seq = draw(st.integers(1, 3))  # a later segment position
    for _ in range(draw(st.integers(0, 6))):
        sid = draw(st.sampled_from(SPAN_IDS[:-1]))
        parent = draw(st.sampled_from([None, *SPAN_IDS]))
        kind = draw(st.integers(0, 5))
        at = draw(st.integers(0, 900))
        if kind == 0:
            prim = draw(st.sampled_from(PRIMITIVES))
            out.append(run.span_start(sid, prim, parent=parent, at=at))
        elif kind == 1:
            out.append(run.span_end(sid, draw(st.sampled_from(STATUSES)), at=at))
        elif kind == 2:
            prim = draw(st.sampled_from(PRIMITIVES))
            out.append(run.span(sid, prim, parent=parent, at=at, end=at + 5))
        elif kind == 3:
            out.append(run.event(sid, draw(st.sampled_from(["usage.observed", "x.y"])), at))
        elif kind == 4:
            out.append(run.artifact(sid, draw(st.sampled_from(["output", "error.stack"]))))
        else:
            out.append(run.edge(sid, draw(st.sampled_from(SPAN_IDS))))
    if draw(st.booleans()):
        out.append(run.run_end(draw(st.sampled_from(STATUSES))))
    return out


@st.composite
def mutated(draw: Any, record: dict[str, Any]) -> Any:
    how = draw(st.integers(0, 4))
    copy = dict(record)
    key = draw(st.sampled_from(sorted(copy)))
    if how == 0:
        del copy[key]
    elif how == 1:
        copy[key] = draw(json_values)
    elif how == 2:
        copy[draw(st.text(max_size=6))] = draw(json_values)
    elif how == 3:
        copy["type"] = draw(st.sampled_from(["span", "edge", "artifact", "run:suspend", "zz"]))
    else:
        return draw(json_values)
    return copy


@st.composite
def batches(draw: Any) -> tuple[list[Any], list[bool]]:
    valid = draw(valid_records())
    records: list[Any] = []
    pristine: list[bool] = []
    for record in valid:
        if draw(st.integers(0, 3)) == 0:
            records.append(draw(mutated(record)))
            pristine.append(False)
        else:
            records.append(record)
            pristine.append(True)
    return records, pristine


@settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(batches())
def test_fuzz_records_validate_and_project(data: tuple[list[Any], list[bool]]) -> None:
    records, pristine = data
    wires = []
    for index, (record, clean) in enumerate(zip(records, pristine, strict=True)):
        disposition, wire = validate_record(index, record)
        assert disposition.index == index
        assert disposition.outcome in ("accepted", "rejected")
        if clean:
            assert disposition.outcome == "accepted", disposition
        if disposition.outcome == "accepted" and wire is not None:
            wires.append(wire)
        else:
            assert disposition.outcome == "accepted" or disposition.code != "accepted"
    graph = assemble_graph(RunSummary(runId="run_fuzz", traceId="trace_run_fuzz"), wires)
    detail = project_run_detail(graph, NOW)
    span_ids = {s.spanId for s in graph.spans or []}
    assert set(detail.spanIndex or {}) == span_ids
    seen: set[int] = set()
    preorder: list[str] = []
    stack = [detail.root]
    while stack:
        node = stack.pop()
        assert id(node) not in seen  # acyclic
        seen.add(id(node))
        preorder.append(node.id)
        stack.extend(reversed(node.children or []))
    assert [row.nodeId for row in detail.rows or []] == preorder
