"""The run's root node (§4 *Root*, build.py): a virtual run root stands for the run itself."""

from __future__ import annotations

from .builders import diag_codes, graph, project, span


def test_a_virtual_run_root_carries_the_runs_own_fields_and_diagnostics():
    """Two top-level spans: no span is the root, the run is (its model, provider, prompt and
    its own diagnostics, as the run has them)."""
    g = graph(
        [span("t1", "", "tool.call", start=0), span("t2", "", "tool.call", start=1)],
        name="two tools",
        model="m-1",
        provider="acme",
        promptId="prompt.support",
    )
    d = project(g, now=100)  # nothing protected: the run went stale
    root = d.root
    assert root.virtual and root.id == "run:run_1" and root.kind == "run"
    assert (root.display.kind, root.display.label) == ("run", "two tools")
    assert (root.model, root.provider, root.promptId) == ("m-1", "acme", "prompt.support")
    assert (root.status, d.run.status) == ("incomplete", "incomplete")
    assert diag_codes(root.diagnostics) == ["stale-boundary"]
    # the tree's top: no parent, its own path; its children under it, one level down
    assert (root.parentId, root.path) == ("", ["run:run_1"])
    assert [(r.nodeId, r.parentId, r.depth) for r in d.rows or ()] == [
        ("run:run_1", "", 0),
        ("span:t1", "run:run_1", 1),
        ("span:t2", "run:run_1", 1),
    ]
