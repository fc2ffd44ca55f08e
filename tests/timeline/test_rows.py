"""Pure timeline layout: presentation order, toggles, details, expansion, search, errors."""

from __future__ import annotations

from crux_tui.timeline import (
    EXPAND_ALL_ROWS,
    TimelineModel,
    TimelineOptions,
    build_model,
    build_rows,
    collapse_all,
    error_targets,
    expand_all,
    find_errors,
    layout,
    match_count,
    match_targets,
    opening_options,
    reveal,
    reveal_all,
    step_target,
)
from tests.timeline.builders import boundary, convex_run, detail, node, run_detail

INFRA = TimelineOptions(show_infrastructure=True)
CANON = TimelineOptions(canonical_parents=True)


def tree(rows) -> list[tuple[int, str]]:
    return [(r.depth, r.key) for r in rows]


def test_presentation_order_is_backend_order_not_time_order():
    # siblings deliberately out of start order: the app must not reorder them
    root = node(
        "a",
        kind="agent",
        duration=100,
        children=[node("late", start=50), node("early", start=1), node("mid", start=20)],
    )
    rows = build_rows(run_detail(root))
    assert [r.key for r in rows] == ["a", "late", "early", "mid"]
    assert rows[0].expanded and rows[0].has_children
    assert not rows[1].has_children


def test_presentation_tree_and_hidden_count():
    model = build_model(convex_run())
    lay = layout(model, TimelineOptions())
    assert tree(lay) == [(0, "a"), (1, "g1"), (1, "t"), (1, "g2"), (2, "s")]
    # B, P and b2 are folded; s2 is merely collapsed (s is at depth 2)
    assert lay.hidden_count == 3
    assert not any(r.infrastructure for r in lay)


def test_infrastructure_toggle_shows_boundaries_where_they_canonically_stand():
    model = build_model(convex_run())
    lay = layout(model, INFRA)
    assert tree(lay) == [
        (0, "a"),
        (1, "B"),
        (2, "g1"),
        (2, "b2"),
        (3, "g2"),
        (4, "s"),
        (1, "t"),
    ]
    rows = {r.key: r for r in lay}
    assert rows["B"].infrastructure and rows["b2"].infrastructure
    assert not rows["B"].is_detail and rows["B"].has_children and rows["B"].expanded
    assert lay.hidden_count == 1  # only the prompt stays folded
    # off again: the presentation returns
    assert tree(layout(model, INFRA.toggle_infrastructure())) == tree(
        layout(model, TimelineOptions())
    )


def _agent_with_a_boundary_of_its_own(boundary_start: int) -> TimelineModel:
    """An agent ``a`` with ``g`` (start 10, folding boundary ``x`` whose canonical parent
    is ``a``) and ``h`` (start 60)."""
    root = node(
        "a",
        kind="agent",
        duration=100,
        children=[
            node(
                "g",
                kind="generation",
                start=10,
                details=[boundary("x", canonical_parent="a", start=boundary_start)],
            ),
            node("h", start=60),
        ],
    )
    return build_model(run_detail(root))


def test_infrastructure_boundary_without_moved_children_is_a_leaf_row():
    model = _agent_with_a_boundary_of_its_own(50)
    assert tree(layout(model, INFRA)) == [(0, "a"), (1, "g"), (1, "x"), (1, "h")]


def test_a_boundary_brought_back_at_a_siblings_start_goes_after_it():
    """Boundaries shown again go among their new siblings by start time; at the same start
    the row the backend presented comes first."""
    model = _agent_with_a_boundary_of_its_own(60)
    assert tree(layout(model, INFRA)) == [(0, "a"), (1, "g"), (1, "h"), (1, "x")]


def test_a_boundary_brought_back_leaves_the_other_rows_in_backend_order():
    """Only the rows that moved join their new siblings by start time; the rows that stay
    where the backend presented them keep its order (presentation §3.5), even beside a
    boundary brought back by the infrastructure toggle."""
    root = node(
        "a",
        kind="agent",
        duration=100,
        children=[
            node("late", start=50),
            node("early", start=1, details=[boundary("x", canonical_parent="a", start=70)]),
        ],
    )
    model = build_model(run_detail(root))
    assert tree(layout(model, INFRA)) == [(0, "a"), (1, "late"), (1, "early"), (1, "x")]


def test_a_layout_slice_is_its_rows():
    lay = layout(build_model(convex_run()), TimelineOptions())
    assert [row.key for row in lay[1:3]] == ["g1", "t"]
    assert [row.key for row in lay[:]] == [row.key for row in lay]


def test_reveal_all_opens_a_collapsed_root_too():
    """Every ancestor of a found row is opened, the run's root included."""
    model = build_model(convex_run())
    folded = TimelineOptions(collapsed=frozenset({"a"}))
    assert tree(layout(model, folded)) == [(0, "a")]
    opened = reveal_all(model, folded, ["s2"])
    assert "a" not in opened.collapsed and "s" in opened.expanded
    assert "s2" in [row.key for row in layout(model, opened)]


def test_canonical_toggle_rebuilds_tree_from_canonical_parents():
    model = build_model(convex_run())
    lay = layout(model, CANON)
    assert tree(lay) == [(0, "a"), (1, "g1"), (2, "t"), (1, "g2"), (2, "s")]
    rows = {r.key: r for r in lay}
    assert rows["t"].reparented  # canonical parent g1 != presentation parent a
    assert not rows["s"].reparented
    both = layout(model, TimelineOptions(show_infrastructure=True, canonical_parents=True))
    assert tree(both) == [
        (0, "a"),
        (1, "B"),
        (2, "g1"),
        (3, "t"),
        (2, "b2"),
        (3, "g2"),
        (4, "s"),
    ]
    assert tree(layout(model, CANON.toggle_canonical())) == tree(layout(model, TimelineOptions()))


def test_canonical_orders_children_by_start_then_span_id_and_orphans_go_to_root():
    root = node(
        "r",
        duration=100,
        children=[
            node("z", start=5, canonical_parent="missing"),
            node("b", start=5),
            node("c", start=1),
        ],
    )
    lay = layout(build_model(run_detail(root)), CANON)
    assert [r.key for r in lay] == ["r", "c", "b", "z"]
    assert (
        next(r for r in lay if r.key == "z").reparented is False
    )  # orphan -> root == presentation


def test_canonical_falls_back_to_the_owner_when_no_canonical_parent_is_reachable():
    """``c``: a folded prompt shown because a row sits under it (``t``), whose own canonical
    parents are unreachable (folded boundaries naming each other), stays under the span it
    is folded into (its owner ``g``), not under the root."""
    root = node(
        "r",
        duration=100,
        children=[
            node(
                "g",
                kind="generation",
                start=10,
                details=[
                    detail("p", canonical_parent="B1", start=20),
                    boundary("B1", canonical_parent="B2", start=21),
                    boundary("B2", canonical_parent="B1", start=22),
                ],
            ),
            node("t", start=30, canonical_parent="p"),
            node("h", start=60),
        ],
    )
    lay = layout(build_model(run_detail(root)), CANON)
    assert tree(lay) == [(0, "r"), (1, "g"), (2, "p"), (3, "t"), (1, "h")]


def test_reveal_all_expands_every_collapsed_ancestor_of_the_rows_asked_for():
    """``reveal_all`` (the ``i`` toggle revealing boundaries, a search): each collapsed
    ancestor of a row showing one of the keys is expanded, nothing else; unknown keys and
    rows already shown change nothing (the same options back)."""
    root = node(
        "a",
        children=[
            node("b", children=[node("c", children=[node("d"), node("e")])]),
            node("f", children=[node("g")]),
        ],
    )
    model = build_model(run_detail(root))
    collapsed = collapse_all(TimelineOptions())
    assert [r.key for r in layout(model, collapsed)] == ["a", "b", "f"]
    revealed = reveal_all(model, collapsed, ["d", "nope"])
    assert revealed.expanded == {"b", "c"}
    assert [r.key for r in layout(model, revealed)] == ["a", "b", "c", "d", "e", "f"]
    assert reveal_all(model, revealed, ["d", "e"]) is revealed
    assert reveal_all(model, collapsed, ["nope"]) is collapsed


def test_with_search_sets_only_the_search():
    options = TimelineOptions(show_details=True).with_search("tool")
    assert (options.search, options.show_details) == ("tool", True)
    assert options.with_search("") == TimelineOptions(show_details=True)


def test_details_inline_under_owner():
    model = build_model(convex_run())
    lay = layout(model, TimelineOptions(show_details=True))
    assert tree(lay) == [
        (0, "a"),
        (1, "g1"),
        (2, "B"),
        (2, "P"),
        (1, "t"),
        (1, "g2"),
        (2, "b2"),
        (2, "s"),
    ]
    rows = {r.key: r for r in lay}
    assert rows["P"].is_detail and rows["P"].kind == "detail"
    assert rows["P"].role == "input" and rows["P"].placement_reason == "explains-edge"
    assert rows["B"].infrastructure and rows["B"].is_detail
    assert rows["g1"].has_children and rows["g1"].expanded
    assert lay.hidden_count == 0
    # with infrastructure on, boundaries become structural rows, the prompt stays a detail row
    both = layout(model, TimelineOptions(show_details=True, show_infrastructure=True))
    assert [(r.key, r.is_detail) for r in both if r.key in ("B", "P")] == [
        ("B", False),
        ("P", True),
    ]


def test_expansion_survives_toggles_and_refetch():
    model = build_model(convex_run())
    opts = TimelineOptions().with_expanded("s", True).with_expanded("g2", True)
    assert "s2" in layout(model, opts).row_keys()
    for toggled in (opts.toggle_infrastructure(), opts.toggle_canonical(), opts.toggle_details()):
        assert "s2" in layout(model, toggled).row_keys()
    collapsed = opts.with_expanded("g2", False)
    assert "s" not in layout(model, collapsed).row_keys()
    assert "s" not in layout(model, collapsed.toggle_infrastructure()).row_keys()
    # a refetch builds a new model; keys are span ids, so the same options apply
    refetched = build_model(convex_run())
    assert layout(refetched, opts).row_keys() == layout(model, opts).row_keys()


def test_a_row_toggled_back_and_forth_gives_the_same_options():
    """An override says one thing of a row: collapsing it takes back its expand override
    (and expanding its collapse override), so the same toggles give equal options: the
    view keeps a layout as current while its options compare equal."""
    collapsed = TimelineOptions().with_expanded("g2", False)
    again = collapsed.with_expanded("g2", True).with_expanded("g2", False)
    assert again == collapsed
    assert (again.expanded, again.collapsed) == (frozenset(), frozenset({"g2"}))
    expanded = TimelineOptions().with_expanded("g2", True)
    assert expanded.with_expanded("g2", False).with_expanded("g2", True) == expanded


def test_expand_all_and_collapse_all():
    model = build_model(convex_run())
    assert "s2" in layout(model, expand_all(TimelineOptions())).row_keys()
    collapsed = collapse_all(TimelineOptions())
    assert layout(model, collapsed).row_keys() == ["a", "g1", "t", "g2"]
    assert layout(model, collapsed.with_expanded("a", False)).row_keys() == ["a"]
    assert layout(model, expand_all(collapsed)).row_keys()[-1] == "s2"


def test_search_counts_all_spans_and_reveal():
    model = build_model(convex_run())
    assert match_count(model, "STEP") == 2  # s and s2 ("outer step", "inner step")
    assert match_count(model, "rank citations") == 1  # folded boundary counts too
    assert match_count(model, "searchdocs") == 1
    assert match_count(model, "gpt-4o") == 2  # by model
    assert match_count(model, "") == 0
    opts = TimelineOptions(search="inner")
    lay = layout(model, opts)
    assert lay.match_count == 1
    assert "s2" not in lay.row_keys()
    assert match_targets(model, opts) == ["s2"]
    rev = reveal(model, opts, "s2")
    assert rev is not None and rev.key == "s2"
    lay2 = layout(model, rev.options)
    assert "s2" in lay2.row_keys()
    assert lay2[lay2.index_of("s2")].is_match
    # a folded span reveals its owner row
    rev_b = reveal(model, TimelineOptions(), "B")
    assert rev_b is not None and rev_b.key == "g1"
    assert reveal(model, TimelineOptions(), "nope") is None


def test_match_targets_map_folded_spans_to_owner():
    model = build_model(convex_run())
    assert match_targets(model, TimelineOptions(search="citations")) == ["g1"]
    assert match_targets(model, TimelineOptions(search="citations", show_infrastructure=True)) == [
        "B"
    ]


def test_error_navigation():
    root = node(
        "a",
        duration=100,
        children=[
            node("x", status="error", start=1),
            node(
                "y",
                start=2,
                children=[node("y1", start=3, children=[node("deep", status="blocked", start=4)])],
            ),
            node("z", status="cancelled", start=5),
        ],
    )
    model = build_model(run_detail(root))
    opts = TimelineOptions()
    rows = layout(model, opts)
    assert [rows[i].key for i in find_errors(rows)] == ["x", "z"]
    targets = error_targets(model, opts)
    assert targets == ["x", "deep", "z"]  # includes the collapsed one
    assert step_target(model, opts, targets, "a", True) == "x"
    assert step_target(model, opts, targets, "x", True) == "deep"
    assert step_target(model, opts, targets, "z", True) == "x"  # wraps
    assert step_target(model, opts, targets, "x", False) == "z"
    assert step_target(model, opts, targets, None, False) == "z"


def test_incomplete_and_stale_are_not_running_and_error_field_counts():
    root = node(
        "a",
        duration=100,
        children=[
            node("inc", status="incomplete", ended=False, start=1),
            node("st", status="stale", ended=False, start=2),
            node("run", status="running", ended=False, start=3),
            node("err", status="ok", error={"message": "x"}, start=4),
        ],
    )
    rows = {r.key: r for r in build_rows(run_detail(root))}
    assert rows["inc"].status == "incomplete" and not rows["inc"].open_ended
    assert rows["st"].status == "stale" and not rows["st"].open_ended
    assert rows["run"].open_ended
    assert rows["err"].is_error
    assert rows["inc"].severity == "warn"


def test_row_fields():
    model = build_model(convex_run())
    rows = {r.key: r for r in layout(model, TimelineOptions())}
    g2 = rows["g2"]
    assert g2.span_id == "g2" and g2.node_id == "span:g2"
    assert g2.label == "second turn" and g2.display_kind == "generation"
    assert g2.tokens == 30 and g2.cost == 0.01 and g2.model == "gpt-4o"
    assert g2.start_offset_ms == 410 and g2.duration_ms == 170
    assert g2.source is model.entry("g2").source
    assert rows["a"].node_id == "run:run_1"


def test_virtual_root_without_span_id():
    root = node("", "run", kind="run", children=[node("x", start=1)])
    lay = layout(build_model(run_detail(root, run_id="r9")), TimelineOptions())
    assert lay.row_keys() == ["run:r9", "x"]


def test_labels_are_cleaned():
    root = node("a", "[bold red]x[/] \x1b]52;c;aGk=\x07ok\nline", duration=5)
    (row,) = build_rows(run_detail(root))
    assert row.label == "[bold red]x[/] ok line"
    assert "\x1b" not in row.label


def test_hostile_deep_tree_and_duplicates_and_cycles():
    depth = 10_000
    leaf = node("n0", start=0)
    for i in range(1, depth):
        leaf = node(
            f"n{i}", start=0, children=[leaf], canonical_parent=f"n{i - 2}" if i > 2 else ""
        )
    # duplicate span id and a canonical cycle between folded boundaries
    leaf.children = [*leaf.children, node("n5", start=1)]
    leaf.details = [
        boundary("c1", canonical_parent="c2"),
        boundary("c2", canonical_parent="c1"),
    ]
    model = build_model(run_detail(leaf))
    for opts in (
        expand_all(TimelineOptions()),
        expand_all(TimelineOptions(show_infrastructure=True, canonical_parents=True)),
        expand_all(TimelineOptions(canonical_parents=True, show_details=True)),
    ):
        keys = layout(model, opts).row_keys()
        assert len(keys) == len(set(keys))
        assert len(keys) + layout(model, opts).hidden_count == model.span_count


def test_error_targets_are_where_errors_start_not_where_they_rolled_up():
    thrown = {"name": "TypeError", "message": "Cannot read properties of undefined"}
    root = node(
        "action",
        status="error",
        error=thrown,  # the same error, rethrown by every ancestor
        duration=100,
        children=[
            node(
                "agent",
                status="error",
                error=thrown,
                start=1,
                children=[
                    node("gen", start=2),
                    node("tool", status="error", error=thrown, start=3),
                    node("judge", status="error", error={"message": "own failure"}, start=4),
                ],
            ),
            node("flow", status="error", start=5, children=[node("step", status="error")]),
            node("bare", status="cancelled", start=6),
        ],
    )
    model = build_model(run_detail(root))
    assert error_targets(model, TimelineOptions()) == ["tool", "judge", "step", "bare"]


def test_each_toggle_flips_its_option_and_twice_restores_it():
    """``d``, ``i`` and ``c`` are toggles: pressed twice, the timeline is as it was."""
    opts = TimelineOptions()
    for name, field in (
        ("toggle_details", "show_details"),
        ("toggle_infrastructure", "show_infrastructure"),
        ("toggle_canonical", "canonical_parents"),
    ):
        once = getattr(opts, name)()
        assert getattr(once, field) is (not getattr(opts, field)), name
        assert getattr(getattr(once, name)(), field) is getattr(opts, field), name


def test_expand_all_leaves_every_row_open_but_the_one_collapsed_after_it() -> None:
    """Expand all (``expand_mode="all"``) opens every row, however deep; a row collapsed
    afterwards closes only itself (g1's details), the deep rows elsewhere stay open."""
    model = build_model(convex_run())
    opts = expand_all(TimelineOptions(show_details=True)).with_expanded("g1", False)
    assert layout(model, opts).row_keys() == ["a", "g1", "t", "g2", "b2", "s", "s2"]


def test_canonical_parents_that_name_each_other_hang_from_the_root() -> None:
    """Canonical parents (``c``) that loop (x under y, y under x) cannot reach the root:
    the loop is cut where it was entered, that span hangs from the root, no span is lost."""
    root = node(
        "a",
        kind="agent",
        duration=100,
        children=[node("x", canonical_parent="y", start=1), node("y", canonical_parent="x")],
    )
    model = build_model(run_detail(root))
    assert tree(layout(model, expand_all(CANON))) == [(0, "a"), (1, "x"), (2, "y")]


def test_a_row_with_a_single_child_has_children() -> None:
    """A row has children (the RunDetailRow ``hasChildren``) from its first child on:
    with one child it is expandable, and open at presentation depth 0."""
    rows = build_rows(run_detail(node("a", kind="agent", children=[node("only")])))
    assert [(r.key, r.has_children, r.expanded) for r in rows] == [
        ("a", True, True),
        ("only", False, False),
    ]


def test_a_run_opens_fully_expanded_when_small_and_untouched() -> None:
    """A run of at most EXPAND_ALL_ROWS nodes opens fully expanded (nothing left to find),
    unless its expansion was already chosen; a bigger run opens as presented."""
    model = build_model(convex_run())
    untouched = TimelineOptions(show_details=True)
    opened = opening_options(model, untouched)
    assert opened == expand_all(untouched)
    assert "s2" in layout(model, opened).row_keys()  # below presentation depth 2
    for chosen in (untouched.with_expanded("g1", False), collapse_all(untouched)):
        assert opening_options(model, chosen) == chosen
    many = [node(f"n{i}") for i in range(EXPAND_ALL_ROWS)]  # + the root: one too many
    big = build_model(run_detail(node("a", kind="agent", children=many)))
    assert opening_options(big, untouched) == untouched
    at_limit = build_model(run_detail(node("a", kind="agent", children=many[1:])))
    assert opening_options(at_limit, untouched) == expand_all(untouched)
