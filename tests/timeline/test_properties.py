"""Property test: random presentation trees with folded details and arbitrary canonical parents."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crux_tui.timeline import TimelineOptions, build_model, layout, structure
from tests.timeline.builders import boundary, detail, node, run_detail


@st.composite
def random_runs(draw):
    n_nodes = draw(st.integers(1, 25))
    n_details = draw(st.integers(0, 12))
    ids = [f"s{i}" for i in range(n_nodes + n_details)]
    ref = st.sampled_from([*ids, "", "ghost"])
    nodes = []
    for i in range(n_nodes):
        nodes.append(
            node(
                ids[i],
                start=draw(st.one_of(st.none(), st.integers(0, 1000))),
                status=draw(st.sampled_from(["ok", "error", "running", "stale", "incomplete"])),
                canonical_parent=draw(ref),
            )
        )
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n_nodes)]
    for i, p in enumerate(parents, start=1):
        nodes[p].children.append(nodes[i])
    for j in range(n_details):
        sid = ids[n_nodes + j]
        if draw(st.booleans()):
            d = boundary(sid, canonical_parent=draw(ref), start=draw(st.integers(0, 1000)))
        else:
            d = detail(sid, canonical_parent=draw(ref), start=draw(st.integers(0, 1000)))
        nodes[draw(st.integers(0, n_nodes - 1))].details.append(d)
    return run_detail(nodes[0])


option_sets = st.builds(
    TimelineOptions,
    show_infrastructure=st.booleans(),
    canonical_parents=st.booleans(),
    show_details=st.booleans(),
    expanded=st.frozensets(st.sampled_from([f"s{i}" for i in range(40)]), max_size=8),
    collapsed=st.frozensets(st.sampled_from([f"s{i}" for i in range(40)]), max_size=8),
    expand_mode=st.sampled_from(["default", "all", "none"]),
    search=st.sampled_from(["", "s1", "S", "zzz"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_runs(), option_sets)
def test_layout_invariants(detail, options):
    model = build_model(detail)
    lay = layout(model, options)
    s = structure(model, options)
    keys = lay.row_keys()
    # no duplicates; every span is either a row of the structure or counted hidden
    assert len(keys) == len(set(keys))
    assert len(s.order) == len(set(s.order))
    assert len(s.order) + lay.hidden_count == model.span_count
    assert keys[0] == model.entries[model.root].key
    visible = set(lay.positions)
    rows = list(lay)
    for p, row in zip(lay.positions, rows, strict=True):
        parent = s.up[p]
        if parent == -1:
            assert p == 0
            continue
        assert parent in visible
        assert s.depth[p] == s.depth[parent] + 1
        parent_row = lay[lay.positions.index(parent)]
        assert parent_row.expanded and parent_row.has_children
        assert row.depth == s.depth[p]
    # index_of agrees with iteration
    for i, key in enumerate(keys):
        assert lay.index_of(key) == i
    # toggles round-trip, also against a freshly built model
    for toggle in ("toggle_infrastructure", "toggle_canonical", "toggle_details"):
        there = getattr(options, toggle)()
        layout(model, there)
        back = getattr(there, toggle)()
        assert layout(model, back).row_keys() == keys
        assert layout(build_model(detail), back).row_keys() == keys
    # match count is over all spans, not only visible ones
    needle = options.search.strip().lower()
    expected = sum(1 for e in model.entries if needle and needle in e.haystack)
    assert lay.match_count == expected
