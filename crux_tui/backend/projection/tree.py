"""Presentation tree: re-parenting (§3.1), folding / node construction (§3.4), sibling order (§3.5).

Node construction is one iterative pre-order walk of the presentation forest (no recursion,
O(n)), equivalent to the Go recursive builder (``buildPresentationChildNodes``):

* every primary span opens a *scope* for its subtree; a non-primary span met in pre-order is
  appended to the pending list of the innermost scope (folded spans are walked through, so
  their visible descendants are hoisted to the scope's node and their pending details travel
  to the first of them);
* the next primary span met in that scope -- a later sibling, or the first visible descendant
  of a folded sibling -- takes the whole pending list as the head of its ``details``;
* when a scope ends, what is still pending trails its node (appended after its details); at
  top level it becomes run-level details, and each root starts with an empty list (pending
  details never cross roots);
* a primary span's visual parent is its nearest primary ancestor -- or, when that ancestor is a
  transition (handoff/delegate), the transition's own visual parent (transition flattening: the
  children follow the transition as siblings).
"""

from __future__ import annotations

from crux_tui.contract.models import SpanSummary

from . import times
from .common import attrs, tool_call_id
from .display import is_transition
from .index import GraphIndex

TOP = ""


def presentation_parents(idx: GraphIndex) -> dict[str, str]:
    """§3.1: tool.call under generation -> nearest stream / promoted to agent; suspension -> flow.run."""
    by_id, parent = idx.by_id, idx.parent
    pparent = dict(parent)
    memo: dict[str, str] = {}

    def gen_target(start: str) -> str:
        path: list[str] = []
        cur, result = start, ""
        while cur:
            if cur in memo:
                result = memo[cur]
                break
            span = by_id[cur]
            if span.family != "generation":
                result = cur if span.family == "agent" else ""
                break
            if span.primitive == "generation.stream":
                result = cur
                path.append(cur)
                break
            path.append(cur)
            cur = parent[cur]
        for sid in path:
            memo[sid] = result
        return result

    nearest_flow_run: dict[str, str] = {}
    for sid in idx.topo:
        span = by_id[sid]
        if span.primitive == "flow.run":
            nearest_flow_run[sid] = sid
        else:
            p = parent[sid]
            nearest_flow_run[sid] = nearest_flow_run[p] if p else ""
    for span in idx.spans:
        sid, p = span.spanId, parent[span.spanId]
        if not p:
            continue
        if span.primitive == "tool.call" and by_id[p].family == "generation":
            target = gen_target(p)
            if target:
                pparent[sid] = target
        elif span.primitive == "flow.suspension":
            target = nearest_flow_run[p]
            if target:
                pparent[sid] = target
    return pparent


def children_index(
    idx: GraphIndex, pparent: dict[str, str]
) -> tuple[list[str], dict[str, list[str]]]:
    roots: list[str] = []
    kids: dict[str, list[str]] = {}
    for span in idx.spans:
        p = pparent[span.spanId]
        if p:
            kids.setdefault(p, []).append(span.spanId)
        else:
            roots.append(span.spanId)
    return roots, kids


class Presentation:
    """Result of the folding walk (span ids only; structs are built later)."""

    def __init__(self) -> None:
        self.nodes: list[str] = []  # primary spans, pre-order
        self.vis_parent: dict[str, str] = {}
        self.vis_children: dict[str, list[str]] = {TOP: []}
        self.details: dict[str, list[str]] = {}  # node span id -> its details, in order
        self.run_details: list[str] = []


def build_presentation(
    roots: list[str],
    pchildren: dict[str, list[str]],
    display: dict[str, str],
    by_id: dict[str, SpanSummary],
) -> Presentation:
    """Fold the presentation forest (§3.4): nodes, visual parents and detail lists."""
    out = Presentation()
    vis_parent, vis_children, details = out.vis_parent, out.vis_children, out.details
    child_container: dict[str, str] = {}  # primary sid -> where its visible descendants go
    pending: dict[str, list[str]] = {}  # scope (primary sid, TOP) -> its pending details
    scopes: list[str] = []  # open primary spans, innermost last
    for root in roots:  # pending details never cross roots
        pending[TOP] = []
        stack: list[tuple[str, bool]] = [(root, True)]
        while stack:
            sid, enter = stack.pop()
            if not enter:  # a primary span's subtree is done: its leftovers trail it
                scopes.pop()
                details[sid].extend(pending.pop(sid))
                continue
            scope = scopes[-1] if scopes else TOP
            if display[sid] == "primary":
                waiting = pending[scope]
                details[sid] = list(waiting)
                waiting.clear()
                container = child_container[scope] if scopes else TOP
                vis_parent[sid] = container
                vis_children[container].append(sid)
                vis_children[sid] = []
                child_container[sid] = container if is_transition(by_id[sid]) else sid
                out.nodes.append(sid)
                pending[sid] = []
                scopes.append(sid)
                stack.append((sid, False))
            else:
                pending[scope].append(sid)
            kids = pchildren.get(sid)
            if kids:
                stack.extend((k, True) for k in reversed(kids))
        out.run_details.extend(pending.pop(TOP))
    return out


# §3.5 sibling order --------------------------------------------------------------------------
def tool_request_owners(idx: GraphIndex) -> dict[str, str]:
    """toolCallId -> spanId of the first tool.request artifact carrying it."""
    owners: dict[str, str] = {}
    for art in idx.artifacts:
        if art.kind != "tool.request" or type(art.spanId) is not str or not art.spanId:
            continue
        call_id = tool_call_id(attrs(art)) or tool_call_id(art.preview)
        if call_id and call_id not in owners:
            owners[call_id] = art.spanId
    return owners


class SortInfo:
    __slots__ = ("after", "canon", "sid", "started", "ts")

    def __init__(self, sid: str, started: str, after: str, canon: str) -> None:
        self.sid = sid
        self.started = started
        self.ts = times.ns(started)
        self.after = after
        self.canon = canon


def less(i: SortInfo, j: SortInfo) -> bool:
    """The Go ``sortPresentationNodesByStart`` comparator (not a strict weak order)."""
    if i.after and i.after == j.sid:
        return False
    if j.after and j.after == i.sid:
        return True
    if i.canon and i.canon == j.sid:
        return False
    if j.canon and j.canon == i.sid:
        return True
    if not i.started or not j.started or i.started == j.started:
        return i.sid < j.sid
    if i.ts is None or j.ts is None:
        return i.started < j.started
    return i.ts < j.ts


INSERTION_SORT_MAX = 12


def sort_siblings(items: list[SortInfo]) -> list[SortInfo]:
    """Stable sort of one sibling level.

    Small levels (<= 12, like Go's ``sort.SliceStable``) use an insertion sort with the Go
    comparator. Larger levels sort by (start time, spanId) -- a total order, O(n log n) -- and then
    enforce the two ordering constraints (orderAfter, canonical parent) by placing every
    constrained node right after its anchor, so the guarantees hold at any size.
    """
    n = len(items)
    if n <= 1:
        return items
    if n <= INSERTION_SORT_MAX:
        out = list(items)
        for a in range(1, n):
            b = a
            while b > 0 and less(out[b], out[b - 1]):
                out[b], out[b - 1] = out[b - 1], out[b]
                b -= 1
        return out
    ordered = sorted(items, key=lambda it: (times.sort_key(it.started), it.sid))
    present = {it.sid for it in items}
    waiting: dict[str, list[SortInfo]] = {}
    placed: set[str] = set()
    out = []

    def place(item: SortInfo) -> None:
        todo = [item]
        while todo:
            cur = todo.pop()
            out.append(cur)
            placed.add(cur.sid)
            followers = waiting.pop(cur.sid, None)
            if followers:
                todo.extend(reversed(followers))

    for item in ordered:
        anchor = ""
        for candidate in (item.after, item.canon):
            if candidate and candidate in present and candidate != item.sid:
                anchor = candidate
                break
        if anchor and anchor not in placed:
            waiting.setdefault(anchor, []).append(item)
        else:
            place(item)
    if waiting:  # constraint cycles: keep the remaining items in time order
        rest = [it for it in ordered if it.sid not in placed]
        out.extend(rest)
    return out
