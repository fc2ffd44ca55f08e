"""Projection fidelity (issue #14), end to end: SDK-shaped records POSTed to the embedded
backend over HTTP, the RunDetail JSON read back (presentation.md §3.4, §4, R6)."""

from __future__ import annotations

from typing import Any

import httpx
from records import RunBuilder, batch

from crux_tui.backend.embedded import EmbeddedBackend

API = "/api/observability"


def run_detail(backend: EmbeddedBackend, records: list[dict[str, Any]]) -> dict[str, Any]:
    """POST the records, then GET the run's RunDetail (the pinned clock: base + 5 s)."""
    posted = httpx.post(f"{backend.url}{API}/records", json=batch(records))
    assert posted.status_code in (200, 202), posted.text
    rejected = [d for d in posted.json()["dispositions"] if d["outcome"] != "accepted"]
    assert not rejected, rejected
    got = httpx.get(f"{backend.url}{API}/runs/{records[0]['runId']}")
    assert got.status_code == 200, got.text
    return got.json()


def nodes(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """spanId -> node (the root under its span id too)."""
    found: dict[str, dict[str, Any]] = {}
    stack = [detail["root"]]
    while stack:
        node = stack.pop()
        found[node.get("spanId") or node["id"]] = node
        stack.extend(node.get("children") or [])
    return found


def detail_ids(node: dict[str, Any]) -> list[str]:
    return [d["spanId"] for d in node.get("details") or []]


# ------------------------------------------------------------------ §3.4 sibling buffering


def agent_turn(run: RunBuilder) -> list[dict[str, Any]]:
    """What ``crux.agent(...).run()`` emits for one turn: the prompt and the context are
    resolved, the model is called, the cost is recorded -- all children of the agent span."""
    return [
        run.run_start(name="support", root_primitive="agent.run"),
        run.span_start("agent", "agent.run", name="support", at=1, agentId="support"),
        run.span("prompt", "prompt.resolve", parent="agent", at=2, end=3, promptId="support.v3"),
        run.span("ctx", "context.resolve", parent="agent", at=3, end=5, contextId="tickets"),
        run.span(
            "gen",
            "generation.call",
            parent="agent",
            at=6,
            end=400,
            model="gpt-4o",
            provider="openai",
        ),
        run.span("cost", "cost.record", parent="agent", at=401, end=402),
        run.span_end("agent", at=410),
        run.run_end(at=420),
    ]


def test_pending_details_go_to_the_next_visible_sibling(pinned_backend) -> None:
    detail = run_detail(pinned_backend, agent_turn(RunBuilder("run_siblings")))
    by_span = nodes(detail)
    root, gen = detail["root"], by_span["gen"]
    assert root["spanId"] == "agent" and [c["spanId"] for c in root["children"]] == ["gen"]
    assert detail_ids(gen) == ["prompt", "ctx"]
    assert detail_ids(root) == ["cost"]  # no visible sibling after it: trails the agent
    index = detail["spanIndex"]
    assert index["prompt"]["ownerNodeId"] == "span:gen"
    assert index["prompt"]["path"] == ["run:run_siblings", "span:gen", "detail:prompt"]
    assert index["ctx"]["reason"] == "chronology"
    assert index["cost"]["ownerNodeId"] == "run:run_siblings"
    assert detail["counts"] == {"primary": 2, "detail": 3, "metadata": 0, "attachedDetails": 3}
    owner = {d["spanId"]: d["source"]["ownerSpanId"] for d in gen["details"]}
    assert owner == {"prompt": "gen", "ctx": "gen"}


def test_pending_details_never_cross_roots(pinned_backend) -> None:
    """A top-level context span stays a run-level detail, not a detail of the next root."""
    run = RunBuilder("run_roots")
    records = [
        run.run_start(name="two roots", root_primitive="agent.run"),
        run.span("top_ctx", "context.resolve", at=1, end=2, contextId="workspace"),
        run.span("a1", "agent.run", at=3, end=50, agentId="triage"),
        run.span("a2", "agent.run", at=60, end=90, agentId="reply"),
        run.run_end(at=100),
    ]
    detail = run_detail(pinned_backend, records)
    root = detail["root"]
    assert root["virtual"] is True
    assert [c["spanId"] for c in root["children"]] == ["a1", "a2"]
    assert detail_ids(root) == ["top_ctx"]
    assert detail_ids(nodes(detail)["a1"]) == []
    assert detail["spanIndex"]["top_ctx"]["ownerNodeId"] == "run:run_roots"


def test_a_folded_wrapper_hands_its_leftovers_to_the_next_sibling(pinned_backend) -> None:
    """A router wraps the first generation; a memory read inside it that comes *after* the
    generation is pending when the wrapper ends, and goes to the next visible sibling."""
    run = RunBuilder("run_wrapper")
    records = [
        run.run_start(name="chat", root_primitive="agent.run"),
        run.span_start("agent", "agent.run", name="chat", at=1),
        run.span_start("router", "routing.router", parent="agent", at=2),
        run.span("g1", "generation.call", parent="router", at=3, end=100, model="gpt-4o-mini"),
        run.span("ctx_late", "context.resolve", parent="router", at=101, end=102),
        run.span_end("router", at=103),
        run.span("g2", "generation.call", parent="agent", at=110, end=300, model="gpt-4o"),
        run.span_end("agent", at=310),
        run.run_end(at=320),
    ]
    detail = run_detail(pinned_backend, records)
    by_span = nodes(detail)
    assert [c["spanId"] for c in detail["root"]["children"]] == ["g1", "g2"]
    assert detail_ids(by_span["g1"]) == ["router"]
    assert detail_ids(by_span["g2"]) == ["ctx_late"]
    assert detail_ids(detail["root"]) == []
    assert [r["expandedDefault"] for r in detail["rows"]] == [True, True, True]


# ------------------------------------------------------------------ R6 decidedBy


def diagnostics_of(obj: dict[str, Any]) -> dict[str, Any]:
    return (obj.get("attributes") or {}).get("diagnostics") or {}


def lease_expired_run(run: RunBuilder) -> list[dict[str, Any]]:
    """A Convex action whose child action never acknowledged: ``ctx.crux.runAction`` opened
    the boundary (folded by the SDK's presentation hint) and its 90 s lease ran out."""
    boundary = {
        "functionRef": "citations:rank",
        "boundary": "convex.action",
        "presentation": {"display": "detail"},
    }
    return [
        run.run_start(name="publish draft", root_primitive="runtime.convex.action"),
        run.span_start(
            "action",
            "runtime.convex.action",
            name="publish draft",
            at=1,
            attributes={"functionRef": "drafts:publish"},
        ),
        run.span("editor", "agent.run", parent="action", at=10, end=900, agentId="editor"),
        run.span_start(
            "bnd",
            "runtime.convex.action",
            parent="action",
            name="rank citations",
            at=950,
            attributes=boundary,
        ),
        run.event(
            "bnd",
            "runtime.convex.boundary.requested",
            951,
            {"functionRef": "citations:rank", "leaseExpiresAt": run.at(3000)},
        ),
    ]


def test_terminal_children_names_the_child_that_decided(pinned_backend) -> None:
    detail = run_detail(pinned_backend, lease_expired_run(RunBuilder("run_lease")))
    root = detail["root"]
    assert root["spanId"] == "action" and root["status"] == "stale"
    assert diagnostics_of(root) == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "bnd",
        "decidedByReason": "runtime.convex.boundary.lease",
    }
    # the run was closed by its only top-level span; the chain leads to the boundary
    run = detail["run"]
    assert run["status"] == "stale"
    assert diagnostics_of(run) == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "action",
        "causeSpanId": "bnd",
        "decidedByReason": "runtime.convex.boundary.lease",
    }
    # the boundary itself keeps Crux's fields
    boundary = next(d for d in root["details"] if d["spanId"] == "bnd")
    assert diagnostics_of(boundary)["reconciledFrom"] == "runtime.convex.boundary.lease"
    assert diagnostics_of(boundary)["leaseExpiresAt"] == "2026-05-16T18:00:03.000Z"
    placed = detail["spanIndex"]["bnd"]
    assert (placed["placement"], placed["ownerNodeId"], placed["reason"]) == (
        "detail",
        "run:run_lease",
        "chronology",
    )
    assert placed["path"] == ["run:run_lease", "detail:bnd"]


def test_the_worst_child_decides_and_the_first_of_equals(pinned_backend) -> None:
    run = RunBuilder("run_worst")
    records = [
        run.run_start(name="triage", root_primitive="agent.run"),
        run.span_start("agent", "agent.run", name="triage", at=1),
        run.span("t1", "tool.call", parent="agent", at=10, end=20, toolName="lookup"),
        run.span(
            "t2",
            "tool.call",
            parent="agent",
            at=30,
            end=40,
            status="error",
            toolName="charge",
            error={"name": "Error", "message": "card declined"},
        ),
        run.span(
            "t3", "tool.call", parent="agent", at=50, end=60, status="error", toolName="refund"
        ),
        run.span(
            "t4", "tool.call", parent="agent", at=70, end=80, status="cancelled", toolName="notify"
        ),
    ]
    detail = run_detail(pinned_backend, records)
    assert detail["root"]["status"] == "error"
    assert diagnostics_of(detail["root"]) == {
        "reconciledFrom": "terminal.children",
        "decidedBy": "t2",
    }


# ------------------------------------------------------------------ §4 inspection


def artifact_record(
    run: RunBuilder, span_id: str, kind: str, preview: Any, **attributes: Any
) -> dict[str, Any]:
    record = run.artifact(span_id, kind, preview)
    record["contentType"], record["encoding"] = "application/json", "json"
    if attributes:
        record["attributes"] = attributes
    return record


def failed_tool_run(run: RunBuilder) -> list[dict[str, Any]]:
    """An agent turn as the SDK reports it: the generation asks for ``searchDocs`` (its
    ``tool.request`` artifact carries the call id), the tool runs as the agent's sibling
    step and throws; the SDK records the error, its stack and the raw provider error."""
    call = {"toolCallId": "call_7"}
    return [
        run.run_start(name="support", root_primitive="agent.run"),
        run.span_start("agent", "agent.run", name="support", at=1, agentId="support"),
        run.span("prompt", "prompt.resolve", parent="agent", at=2, end=3, promptId="support"),
        artifact_record(run, "prompt", "prompt", "You are a support agent."),
        run.span_start(
            "gen", "generation.call", parent="agent", at=4, model="gpt-4o", provider="openai"
        ),
        artifact_record(run, "gen", "messages", [{"role": "user", "content": "refund?"}]),
        artifact_record(
            run, "gen", "tool.request", {**call, "toolName": "searchDocs", "args": {"q": "r"}}
        ),
        run.event("gen", "usage.observed", 90, {"inputTokens": 40, "outputTokens": 9}),
        run.span_end("gen", at=100, metrics={"inputTokens": 40, "outputTokens": 9}),
        run.span_start(
            "tool", "tool.call", parent="gen", at=101, toolName="searchDocs", attributes=call
        ),
        artifact_record(run, "tool", "tool.args", {"q": "r"}),
        artifact_record(run, "tool", "error.raw", {"code": "E_INDEX", "status": 503}),
        artifact_record(
            run, "tool", "error.stack", "Error: index offline\n    at search (t.ts:1:1)"
        ),
        artifact_record(run, "tool", "custom.trace", {"hops": 3}),
        run.span_end(
            "tool",
            status="error",
            at=150,
            error={"name": "Error", "message": "index offline", "category": "tool"},
        ),
        run.span_end("agent", status="error", at=160),
        run.run_end("error", at=170),
    ]


def test_inspection_errors_come_first_in_their_order(pinned_backend) -> None:
    detail = run_detail(pinned_backend, failed_tool_run(RunBuilder("run_insp")))
    tool = nodes(detail)["tool"]
    inspection = tool["inspection"]
    errors = inspection["errors"]
    assert [(e["type"], e.get("kind")) for e in errors] == [
        ("span.error", None),
        ("artifact", "error.stack"),
        ("artifact", "error.raw"),
    ]
    assert errors[0]["id"] == "error:tool"
    assert errors[0]["data"] == {"name": "Error", "message": "index offline", "category": "tool"}
    by_kind = {a["kind"]: a for a in tool["artifacts"]}
    for item in errors[1:]:  # the artifact's id, kind and preview
        assert item["id"] == by_kind[item["kind"]]["artifactId"]
        assert item["data"]["preview"] == by_kind[item["kind"]]["preview"]
    # the section order of §4, empty ones omitted
    assert list(inspection) == ["errors", "tools", "raw"]
    assert [i["type"] for i in inspection["raw"]] == ["attributes", "artifact"]
    assert inspection["raw"][1]["kind"] == "custom.trace"


def test_a_tool_call_shows_the_request_of_the_generation_that_asked(pinned_backend) -> None:
    detail = run_detail(pinned_backend, failed_tool_run(RunBuilder("run_req")))
    by_span = nodes(detail)
    gen, tool = by_span["gen"], by_span["tool"]
    request = next(a for a in gen["artifacts"] if a["kind"] == "tool.request")
    tools = tool["inspection"]["tools"]
    assert [(i["kind"], i["id"]) for i in tools] == [
        ("tool.request", request["artifactId"]),
        ("tool.args", next(a["artifactId"] for a in tool["artifacts"] if a["kind"] == "tool.args")),
    ]
    assert tools[0]["sourceSpanId"] == "gen" and "sourceSpanId" not in tools[1]
    assert tools[0]["data"]["preview"]["toolName"] == "searchDocs"
    # the generation lists its own request, its messages, usage event, metrics, prompt detail
    inspection = gen["inspection"]
    assert list(inspection) == ["input", "messages", "tools", "events", "metrics"]
    assert inspection["input"] == [
        {
            "type": "detail",
            "id": "detail:prompt",
            "label": "support",
            "kind": "detail",
            "role": "input",
            "sourceSpanId": "prompt",
        }
    ]
    assert [i["label"] for i in inspection["events"]] == ["usage.observed"]
    assert inspection["metrics"] == [{"type": "metrics", "id": "metrics:gen"}]
    # a folded detail has its own inspection
    prompt = gen["details"][0]
    template = prompt["artifacts"][0]
    assert prompt["inspection"] == {
        "input": [
            {
                "type": "artifact",
                "id": template["artifactId"],
                "kind": "prompt",
                "data": {"preview": "You are a support agent."},
            }
        ]
    }


def test_children_all_ok_decide_nothing(pinned_backend) -> None:
    run = RunBuilder("run_all_ok")
    records = [
        run.run_start(name="triage", root_primitive="agent.run"),
        run.span_start("agent", "agent.run", name="triage", at=1),
        run.span("t1", "tool.call", parent="agent", at=10, end=20, toolName="lookup"),
    ]
    detail = run_detail(pinned_backend, records)
    assert detail["root"]["status"] == "ok"
    assert diagnostics_of(detail["root"]) == {"reconciledFrom": "terminal.children"}
    assert diagnostics_of(detail["run"]) == {"reconciledFrom": "terminal.children"}
