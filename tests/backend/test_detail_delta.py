"""RunDetail deltas (``contract.delta``): the embedded backend over real HTTP answers a
refetch of a running operation with what changed since the tag the client holds, and the
client's merge of it equals the full body fetched at the same moment (pinned clock)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from gocrux import fixtures as fx
from gocrux.server import GoCrux

from crux_tui.backend.detail_delta import diff_details
from crux_tui.backend.embedded import EmbeddedBackend
from crux_tui.contract.client import CruxClient
from crux_tui.contract.delta import (
    DELTA_BASE_HEADER,
    DETAIL_TAG_HEADER,
    DeltaMismatch,
    RunDetailDelta,
    apply_delta,
    node_index,
)
from crux_tui.contract.models import RunDetail, RunDetailNode
from crux_tui.demo import scaled_run_records
from tests.app.helpers import post_records
from tests.conftest import PINNED_CLOCK

API = "/api/observability"


def pinned_run(spans: int, run_id: str) -> list[dict[str, Any]]:
    """A scaled run whose last record is a second before the pinned clock (so the
    lifecycle ticker finds nothing gone quiet while it runs)."""
    pinned = datetime.fromisoformat(PINNED_CLOCK.replace("Z", "+00:00"))
    draft = scaled_run_records(spans, now=pinned, run_id=run_id)
    last = max(datetime.fromisoformat(r["endedAt"].replace("Z", "+00:00")) for r in draft[-1:])
    return scaled_run_records(
        spans, now=pinned + (pinned - last) - timedelta(seconds=1), run_id=run_id
    )


def _nodes(detail: RunDetail) -> int:
    return len(node_index(detail.root))


async def test_each_refetch_of_a_running_run_is_a_delta_equal_to_the_full_body(
    pinned_backend: EmbeddedBackend,
) -> None:
    records = pinned_run(120, "run_live_delta")
    run_id = "run_live_delta"
    rng = random.Random(17)
    # the run arrives in batches of random sizes; the last one ends it
    cuts = sorted(rng.sample(range(20, len(records) - 1), 6))
    batches = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
    await post_records(pinned_backend.url, batches[0])
    async with CruxClient(pinned_backend.url) as client:
        first = await client.run_detail_answer(run_id)
        assert first.detail is not None and first.tag and first.delta is None
        shown, tag = first.detail, first.tag
        deltas = 0
        for batch in batches[1:]:
            await post_records(pinned_backend.url, batch)
            answer = await client.run_detail_answer(run_id, since=tag)
            assert answer.delta is not None, "a running run's refetch is a delta"
            merged = apply_delta(shown, answer.delta)
            full = await client.run_detail_answer(run_id)
            assert full.detail is not None
            assert merged == full.detail
            assert msgspec.json.encode(merged) == msgspec.json.encode(full.detail)
            # what changed, not the whole run again
            assert 0 < len(answer.delta.nodes or []) < _nodes(full.detail)
            deltas += 1
            shown, tag = full.detail, full.tag
        assert deltas == len(batches) - 1
        assert shown.run.status == "ok" and not tag  # settled: no tag, cached whole


async def test_an_unknown_or_replaced_tag_gets_the_full_body(
    pinned_backend: EmbeddedBackend,
) -> None:
    records = pinned_run(40, "run_tags")[:-2]  # running
    await post_records(pinned_backend.url, records)
    path = f"{API}/runs/run_tags"
    async with httpx.AsyncClient(base_url=pinned_backend.url) as http:
        first = await http.get(path)
        tag = first.headers[DETAIL_TAG_HEADER]
        assert DELTA_BASE_HEADER not in first.headers
        second = await http.get(path)  # the backend keeps only the last one it served
        assert second.headers[DETAIL_TAG_HEADER] != tag
        for since in (tag, "not-a-tag", "1.1"):
            answer = await http.get(path, params={"since": since})
            assert answer.status_code == 200
            assert DELTA_BASE_HEADER not in answer.headers
            body = msgspec.json.decode(answer.content, type=RunDetail)
            assert body.run.runId == "run_tags" and _nodes(body) > 10
        newest = answer.headers[DETAIL_TAG_HEADER]
        delta = await http.get(path, params={"since": newest})
        assert delta.headers[DELTA_BASE_HEADER] == newest
        assert msgspec.json.decode(delta.content, type=RunDetailDelta).base == newest


async def test_a_settled_run_is_served_whole_without_a_tag(pinned_backend: EmbeddedBackend) -> None:
    await post_records(pinned_backend.url, pinned_run(30, "run_settled"))
    async with httpx.AsyncClient(base_url=pinned_backend.url) as http:
        answer = await http.get(f"{API}/runs/run_settled", params={"since": "5.1"})
    assert answer.status_code == 200
    assert DETAIL_TAG_HEADER not in answer.headers and DELTA_BASE_HEADER not in answer.headers
    assert msgspec.json.decode(answer.content, type=RunDetail).run.status == "ok"


async def test_a_backend_without_tags_is_refetched_whole(gocrux: GoCrux) -> None:
    async with CruxClient(gocrux.url) as client:
        answer = await client.run_detail_answer(fx.CHAT)
        assert answer.detail is not None and answer.tag == "" and answer.delta is None
        # a tag it never sent (it ignores the parameter): still the whole body
        again = await client.run_detail_answer(fx.CHAT, since="7.1")
        assert again.delta is None and again.detail == answer.detail


# ---------------------------------------------------------------- the merge, without I/O


def _node(node_id: str, *kids: RunDetailNode, label: str = "") -> RunDetailNode:
    return RunDetailNode(id=node_id, name=label or node_id, children=list(kids) if kids else None)


def _detail(root: RunDetailNode) -> RunDetail:
    return RunDetail(root=root)


def _wire(detail: RunDetail) -> RunDetail:
    """As a client decodes it (numbers as the JSON says them)."""
    return msgspec.json.decode(msgspec.json.encode(detail), type=RunDetail)


def _tree(rng: random.Random, size: int) -> RunDetailNode:
    """A random tree of ``size`` nodes with ids ``n0..``, labels drawn from a few words."""
    nodes = [RunDetailNode(id="n0", name="root")]
    for i in range(1, size):
        parent = rng.choice(nodes)
        node = RunDetailNode(id=f"n{i}", name=rng.choice(["a", "b", "c"]))
        parent.children = [*(parent.children or []), node]
        nodes.append(node)
    return nodes[0]


def _mutated(rng: random.Random, root: RunDetailNode, fresh: int) -> RunDetailNode:
    """A copy of the tree with some labels changed, some subtrees dropped, nodes added."""
    copy = msgspec.json.decode(msgspec.json.encode(root), type=RunDetailNode)
    everything = list(node_index(copy).values())
    for node in rng.sample(everything, min(3, len(everything))):
        node.name = rng.choice(["a", "b", "c", "d"])
    for node in everything:
        if node.children and rng.random() < 0.1:
            node.children = [kid for kid in node.children if rng.random() < 0.7] or None
    alive = list(node_index(copy).values())
    for i in range(fresh):
        parent = rng.choice(alive)
        parent.children = [*(parent.children or []), RunDetailNode(id=f"new{i}", name="new")]
    return copy


@pytest.mark.parametrize("seed", range(40))
def test_a_delta_applied_rebuilds_the_new_tree_and_shares_what_did_not_change(seed: int) -> None:
    rng = random.Random(seed)
    old = _wire(_detail(_tree(rng, rng.randint(1, 60))))
    new = _wire(_detail(_mutated(rng, old.root, rng.randint(0, 5))))
    delta = diff_details(old, new, "1.1", "2.2")
    assert delta is not None
    wire = msgspec.json.decode(msgspec.json.encode(delta), type=RunDetailDelta)
    merged = apply_delta(old, wire)
    assert msgspec.json.encode(merged) == msgspec.json.encode(new)
    # a subtree in which nothing changed is the old objects, not a copy
    olds = node_index(old.root)
    changed = {node.id for node in wire.nodes or ()} | set(wire.children or {})
    for node_id, node in node_index(merged.root).items():
        untouched = all(n.id not in changed for n in node_index(node).values())
        assert (node is olds.get(node_id)) == untouched, node_id


def _chain(depth: int, last: str) -> RunDetailNode:
    """A path of ``depth`` nodes (deeper than Python's recursion limit); the last one is
    named ``last``."""
    root = leaf = _node("n0")
    for i in range(1, depth):
        child = _node(f"n{i}", label=last if i == depth - 1 else "")
        leaf.children = [child]
        leaf = child
    return root


def test_a_deep_tree_merges_without_recursion() -> None:
    old, new = _detail(_chain(5000, "before")), _detail(_chain(5000, "after"))
    delta = diff_details(old, new, "1.1", "2.2")
    assert delta is not None and [n.id for n in delta.nodes or ()] == ["n4999"]
    merged = apply_delta(old, delta)
    path = [(n.id, n.name) for n in node_index(merged.root).values()]
    assert path == [(n.id, n.name) for n in node_index(new.root).values()]
    assert node_index(merged.root)["n4999"].name == "after"


def test_a_delta_that_does_not_fit_is_refused() -> None:
    old = _detail(_node("r", _node("a"), _node("b")))
    new = _detail(_node("r", _node("a"), _node("b", _node("c"))))
    delta = diff_details(old, new, "1.1", "2.2")
    assert delta is not None
    elsewhere = _detail(_node("r", _node("a")))  # not the RunDetail the delta was made on
    with pytest.raises(DeltaMismatch):
        apply_delta(elsewhere, delta)
    cyclic = msgspec.structs.replace(delta, children={**(delta.children or {}), "c": ["r"]})
    with pytest.raises(DeltaMismatch):
        apply_delta(old, cyclic)


def test_repeated_node_ids_get_no_delta() -> None:
    old = _detail(_node("r", _node("a")))
    new = _detail(_node("r", _node("a"), _node("a", label="again")))
    assert diff_details(old, new, "1.1", "2.2") is None


def test_the_backend_keeps_a_bounded_number_of_running_operations() -> None:
    from crux_tui.backend.detail_delta import LiveDetails
    from crux_tui.contract.models import RunDetailRow

    def detail(rows: int) -> RunDetail:
        return RunDetail(rows=[RunDetailRow(nodeId=f"n{i}") for i in range(rows)])

    live = LiveDetails(keep=3, max_rows=100)
    for name in ("a", "b", "c", "d"):
        live.keep_detail(name, live.new_tag(1), detail(10))
    assert [live.get(name) is not None for name in "abcd"] == [False, True, True, True]
    live.keep_detail("big", live.new_tag(2), detail(95))  # over the rows: the oldest go
    assert [live.get(name) is not None for name in "bcd"] == [False, False, False]
    live.keep_detail("huge", live.new_tag(3), detail(500))  # alone: kept all the same
    assert live.get("huge") is not None and live.get("big") is None
