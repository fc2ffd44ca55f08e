"""Toggle state -> tree structure -> visible rows. Pure, no Textual imports.

Two stages, both O(n) and iterative:

1. :func:`structure` -- which spans are rows (:func:`_row_kinds`) and who their parent
   is, for one combination of (infrastructure, canonical parents, details): by canonical
   parent (:func:`_canonical_children`) or as the backend presented them
   (:func:`_presented_children`), then laid out in preorder (:func:`_preorder`). Cached on
   the model, so toggling back and forth is free after the first time.
2. :func:`layout` -- the rows visible under the expansion state and search of a
   :class:`TimelineOptions`. It only walks the preorder array and skips collapsed
   subtrees, and returns a lazy :class:`TimelineLayout` sequence that creates
   :class:`TimelineRow` objects on access (a 100k-row layout costs one int list); a row
   holds where it sits and reads the rest through from its model entry.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, cast, overload

from crux_tui.contract.models import RunDetail, RunDetailDetail, RunDetailNode
from crux_tui.perf import no_gc
from crux_tui.timeline.model import SpanEntry, TimelineModel, build_model

ExpandMode = Literal["default", "all", "none"]


@dataclass(frozen=True, slots=True)
class TimelineOptions:
    """Everything the user can toggle. Expansion is keyed by row key (span id, else node id).

    ``expand_mode`` is the default for rows without an override: ``"default"`` =
    the backend's ``expandedDefault`` (presentation depth < 2), ``"all"``, or
    ``"none"`` (only the root stays open). ``expanded`` / ``collapsed`` override it.
    """

    show_infrastructure: bool = False
    canonical_parents: bool = False
    show_details: bool = False
    expanded: frozenset[str] = field(default_factory=frozenset)
    collapsed: frozenset[str] = field(default_factory=frozenset)
    expand_mode: ExpandMode = "default"
    search: str = ""

    @property
    def structure_key(self) -> tuple[bool, bool, bool]:
        return (self.show_infrastructure, self.canonical_parents, self.show_details)

    def toggle_infrastructure(self) -> TimelineOptions:
        return replace(self, show_infrastructure=not self.show_infrastructure)

    def toggle_canonical(self) -> TimelineOptions:
        return replace(self, canonical_parents=not self.canonical_parents)

    def toggle_details(self) -> TimelineOptions:
        return replace(self, show_details=not self.show_details)

    def with_search(self, text: str) -> TimelineOptions:
        return replace(self, search=text)

    def with_expanded(self, key: str, expanded: bool) -> TimelineOptions:
        if expanded:
            return replace(self, expanded=self.expanded | {key}, collapsed=self.collapsed - {key})
        return replace(self, expanded=self.expanded - {key}, collapsed=self.collapsed | {key})

    def is_expanded(self, key: str, default: bool, depth: int = 1) -> bool:
        if key in self.collapsed:
            return False
        if key in self.expanded:
            return True
        mode = self.expand_mode
        if mode == "all":
            return True
        if mode == "none":
            return depth == 0
        return default


def expand_all(options: TimelineOptions) -> TimelineOptions:
    return replace(options, expand_mode="all", expanded=frozenset(), collapsed=frozenset())


def collapse_all(options: TimelineOptions) -> TimelineOptions:
    return replace(options, expand_mode="none", expanded=frozenset(), collapsed=frozenset())


# --------------------------------------------------------------------------- structure


class Structure:
    """Rows of one toggle combination as a preorder array with subtree ends."""

    __slots__ = (
        "depth",
        "end",
        "hidden_count",
        "key",
        "n_children",
        "order",
        "pos",
        "row_kind",
        "up",
    )

    #: entry index per preorder position
    order: list[int]
    #: depth per preorder position
    depth: list[int]
    #: one past the last descendant, per preorder position
    end: list[int]
    n_children: list[int]
    #: parent preorder position per preorder position (-1 for the root)
    up: list[int]
    #: per preorder position: STRUCTURAL_ROW or INLINE_DETAIL_ROW
    row_kind: list[int]
    #: preorder position per entry index; -1 if the entry is not a row
    pos: list[int]
    hidden_count: int
    key: tuple[bool, bool, bool]


def _nearest_row(model: TimelineModel, start: int, is_row: list[bool], memo: dict[int, int]) -> int:
    """Nearest canonical ancestor of entry ``start`` (exclusive) that is a row; -1 if none."""
    entries = model.entries
    path: list[int] = []
    on_path: set[int] = {start}
    cur = entries[start].canonical_parent
    result = -1
    while cur != -1:
        if is_row[cur]:
            result = cur
            break
        hit = memo.get(cur)
        if hit is not None:
            result = hit
            break
        if cur in on_path:  # cycle through folded spans
            break
        on_path.add(cur)
        path.append(cur)
        cur = entries[cur].canonical_parent
    for p in path:
        memo[p] = result
    return result


def _break_cycles(parent: list[int], rows: list[int], root: int) -> None:
    """Re-attach to ``root`` any row whose parent chain loops instead of reaching root."""
    state = [0] * len(parent)  # 0 new, 1 on current walk, 2 done
    state[root] = 2
    for r in rows:
        if state[r]:
            continue
        path = []
        cur = r
        while cur != -1 and state[cur] == 0:
            state[cur] = 1
            path.append(cur)
            cur = parent[cur]
        if cur != -1 and state[cur] == 1:
            parent[cur] = root
        elif cur == -1:
            # chain ended without reaching root: hang its top on root
            parent[path[-1]] = root
        for p in path:
            state[p] = 2


def structure(model: TimelineModel, options: TimelineOptions) -> Structure:
    key = options.structure_key
    cached = model.structures.get(key)
    if cached is not None:
        return cast(Structure, cached)
    with no_gc():
        built = _build_structure(model, *key)
    model.structures[key] = built
    return built


#: What an entry is in one structure (``Structure.row_kind`` holds the last two).
NOT_A_ROW = 0
#: a row of the tree: a node, or a folded span brought back (infrastructure with ``i``,
#: a span holding rows with ``c``)
STRUCTURAL_ROW = 1
#: a folded detail shown inline under its owner (``d``)
INLINE_DETAIL_ROW = 2


def _build_structure(
    model: TimelineModel, infra: bool, canonical: bool, details: bool
) -> Structure:
    kind = _row_kinds(model, infra, canonical, details)
    if canonical:
        children = _canonical_children(model, kind)
    else:
        children = _presented_children(model, kind, infra, details)
    return _preorder(model, kind, children, (infra, canonical, details))


def _row_kinds(model: TimelineModel, infra: bool, canonical: bool, details: bool) -> list[int]:
    """Per entry: not a row, a structural row or an inline detail row, under the toggles."""
    kind = [NOT_A_ROW] * len(model.entries)
    for e in model.entries:
        if not e.is_detail or (infra and e.infrastructure):
            kind[e.index] = STRUCTURAL_ROW
        elif details:
            kind[e.index] = INLINE_DETAIL_ROW
    if canonical:
        _promote_canonical_holders(model, kind)
    return kind


def _canonical_children(model: TimelineModel, kind: list[int]) -> dict[int, list[int]]:
    """Canonical parents (``c``): each row under its nearest canonical ancestor that is a
    row (else its owner, else the root), siblings in (startedAt, spanId) order."""
    entries, root = model.entries, model.root
    parent = [-1] * len(entries)
    memo: dict[int, int] = {}
    is_row = [k != NOT_A_ROW for k in kind]
    for e in entries:
        i = e.index
        if not is_row[i] or i == root:
            continue
        p = _nearest_row(model, i, is_row, memo)
        if p == -1:
            p = e.owner if e.owner != -1 and is_row[e.owner] else root
        parent[i] = p
    rows = [i for i in range(len(entries)) if is_row[i]]
    _break_cycles(parent, rows, root)
    children: dict[int, list[int]] = {}
    for i in model.rank:  # (startedAt, spanId) order
        if is_row[i] and i != root:
            children.setdefault(parent[i], []).append(i)
    return children


def _presented_children(
    model: TimelineModel, kind: list[int], infra: bool, details: bool
) -> dict[int, list[int]]:
    """The backend's presentation: inline details first under their owner, then nodes
    under their presentation parent in backend order. Rows that sit elsewhere (*moved*:
    a promoted infrastructure span, a member run under the row showing the span that
    started it, a node under an infrastructure span brought back) join their parent's
    children by start time."""
    entries, root = model.entries, model.root
    n = len(entries)
    structural, inline = STRUCTURAL_ROW, INLINE_DETAIL_ROW
    is_struct = [k == structural for k in kind]
    parent = [-1] * n
    memo: dict[int, int] = {}
    moved: set[int] = set()
    for e in entries:
        i = e.index
        if i == root or kind[i] == NOT_A_ROW:
            continue
        if kind[i] == inline:
            parent[i] = e.owner
            continue
        if e.is_detail:  # promoted infrastructure span
            p = _nearest_row(model, i, is_struct, memo)
            parent[i] = p if p != -1 else e.owner
            moved.add(i)
            continue
        parent[i] = e.presentation_parent
        if e.member_run:
            # under the row that shows the span that started it (hoisted like any
            # folded span when that span is hidden), wherever the backend mounted it
            p = _nearest_row(model, i, is_struct, memo)
            if p != -1 and p != e.presentation_parent:
                parent[i] = p
                moved.add(i)
        elif infra:
            p = _nearest_row(model, i, is_struct, memo)
            if p != -1 and p != e.presentation_parent and entries[p].is_detail:
                parent[i] = p
                moved.add(i)
    if moved:
        rows = [i for i in range(n) if kind[i] != NOT_A_ROW]
        _break_cycles(parent, rows, root)
        for i in rows:  # cycle breaking may move a node away from its presentation parent
            if (
                kind[i] == structural
                and not entries[i].is_detail
                and parent[i] != entries[i].presentation_parent
            ):
                moved.add(i)
    children: dict[int, list[int]] = {}
    if details:
        for owner, dets in model.details.items():
            shown = [d for d in dets if kind[d] == inline]
            if shown:
                children[owner] = shown
    for p, kids in model.children.items():
        stay = [c for c in kids if c not in moved] if moved else kids
        if stay:
            existing = children.get(p)
            children[p] = existing + stay if existing else list(stay)
    if moved:
        by_parent: dict[int, list[int]] = {}
        for i in model.rank:
            if i in moved:
                by_parent.setdefault(parent[i], []).append(i)
        for p, later in by_parent.items():
            children[p] = _merge_by_start(entries, children.get(p, []), later, kind)
    return children


def _preorder(
    model: TimelineModel,
    kind: list[int],
    children: dict[int, list[int]],
    key: tuple[bool, bool, bool],
) -> Structure:
    """The rows in preorder from the root (explicit stack), with subtree ends."""
    order: list[int] = []
    depth: list[int] = []
    n_children: list[int] = []
    row_kind: list[int] = []
    end: list[int] = []
    up: list[int] = []
    pos = [-1] * len(model.entries)
    stack: list[tuple[int, int, int]] = [(model.root, 0, -1)]
    # post-processing of subtree ends: remember open positions
    open_pos: list[int] = []
    open_depth: list[int] = []
    while stack:
        i, d, parent_pos = stack.pop()
        while open_depth and open_depth[-1] >= d:
            end[open_pos.pop()] = len(order)
            open_depth.pop()
        p = len(order)
        pos[i] = p
        order.append(i)
        depth.append(d)
        up.append(parent_pos)
        row_kind.append(kind[i])
        end.append(p + 1)
        kids = children.get(i)
        if kids:
            n_children.append(len(kids))
            open_pos.append(p)
            open_depth.append(d)
            for c in reversed(kids):
                stack.append((c, d + 1, p))
        else:
            n_children.append(0)
    total = len(order)
    for p in open_pos:
        end[p] = total
    s = Structure()
    s.order = order
    s.depth = depth
    s.end = end
    s.n_children = n_children
    s.up = up
    s.row_kind = row_kind
    s.pos = pos
    s.hidden_count = len(model.entries) - total
    s.key = key
    return s


def _promote_canonical_holders(model: TimelineModel, kind: list[int]) -> None:
    """Canonical parents: the folded spans that really hold a row are rows too (a streamed
    step shows under the ``generation.stream`` that wraps it). Infrastructure spans stay
    folded unless the infrastructure toggle shows them."""
    entries = model.entries
    for e in entries:
        if kind[e.index] != STRUCTURAL_ROW:
            continue
        cur = e.canonical_parent
        while cur != -1 and kind[cur] == NOT_A_ROW and not entries[cur].infrastructure:
            kind[cur] = STRUCTURAL_ROW
            cur = entries[cur].canonical_parent


def _merge_by_start(
    entries: list[SpanEntry], base: list[int], moved: list[int], kind: list[int]
) -> list[int]:
    """Insert ``moved`` (sorted by start) into ``base`` (backend order) by start time.

    Inline detail rows at the head of ``base`` stay first.
    """
    out: list[int] = []
    i = 0
    while i < len(base) and kind[base[i]] == INLINE_DETAIL_ROW:
        out.append(base[i])
        i += 1
    inf = float("inf")
    j = 0
    while i < len(base) and j < len(moved):
        bs = entries[base[i]].start_ms
        ms = entries[moved[j]].start_ms
        if (ms if ms is not None else inf) < (bs if bs is not None else inf):
            out.append(moved[j])
            j += 1
        else:
            out.append(base[i])
            i += 1
    out.extend(base[i:])
    out.extend(moved[j:])
    return out


# --------------------------------------------------------------------------- rows


class TimelineRow:
    """One visible line of the timeline: where it sits (depth, expansion, inline, match, moved)
    and, read through from its model entry, what it shows (see :class:`SpanEntry`)."""

    __slots__ = (
        "depth",
        "entry",
        "expanded",
        "has_children",
        "is_detail",
        "is_match",
        "moved_from",
    )

    entry: SpanEntry
    depth: int
    has_children: bool
    expanded: bool
    #: shown inline as a detail row (the ``d`` toggle), not as a node
    is_detail: bool
    is_match: bool
    #: label of the presentation parent, when this row sits elsewhere (canonical parents,
    #: or under an infrastructure span brought back); "" when it sits where presented
    moved_from: str

    def __init__(
        self,
        e: SpanEntry,
        depth: int,
        has_children: bool,
        expanded: bool,
        inline: bool,
        match: bool,
        moved_from: str = "",
    ) -> None:
        self.entry = e
        self.depth = depth
        self.has_children = has_children
        self.expanded = expanded and has_children
        self.is_detail = inline
        self.is_match = match
        self.moved_from = moved_from

    @property
    def kind(self) -> str:
        return "detail" if self.is_detail else self.entry.kind

    @property
    def key(self) -> str:
        """Row key: span id, else node/detail id (unique)."""
        return self.entry.key

    @property
    def span_id(self) -> str:
        return self.entry.span_id

    @property
    def node_id(self) -> str:
        return self.entry.node_id

    @property
    def label(self) -> str:
        return self.entry.label

    @property
    def display_kind(self) -> str:
        return self.entry.display_kind

    @property
    def status(self) -> str:
        return self.entry.status

    @property
    def severity(self) -> str:
        return self.entry.severity

    @property
    def start_offset_ms(self) -> float | None:
        return self.entry.start_offset_ms

    @property
    def duration_ms(self) -> float:
        return self.entry.duration_ms

    @property
    def open_ended(self) -> bool:
        return self.entry.open_ended

    @property
    def infrastructure(self) -> bool:
        return self.entry.infrastructure

    @property
    def reparented(self) -> bool:
        return self.entry.reparented

    @property
    def is_error(self) -> bool:
        return self.entry.is_error

    @property
    def tokens(self) -> float | None:
        return self.entry.tokens

    @property
    def cost(self) -> float | None:
        return self.entry.cost

    @property
    def model(self) -> str:
        return self.entry.model

    @property
    def role(self) -> str:
        return self.entry.role

    @property
    def placement_reason(self) -> str:
        return self.entry.placement_reason

    @property
    def source(self) -> RunDetailNode | RunDetailDetail:
        return self.entry.source

    @property
    def member_run(self) -> str:
        """The run id when this row is a member run of the operation, else ""."""
        return self.entry.member_run

    def __repr__(self) -> str:
        return f"TimelineRow({self.key!r}, depth={self.depth}, label={self.label!r})"


class TimelineLayout(Sequence[TimelineRow]):
    """The visible rows, created lazily. ``positions`` are preorder positions."""

    __slots__ = ("_matches", "model", "options", "positions", "structure")

    def __init__(
        self,
        model: TimelineModel,
        structure: Structure,
        options: TimelineOptions,
        positions: list[int],
        matches: frozenset[int],
    ) -> None:
        self.model = model
        self.structure = structure
        self.options = options
        self.positions = positions
        self._matches = matches

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> TimelineRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[TimelineRow]: ...
    def __getitem__(self, index: int | slice) -> TimelineRow | list[TimelineRow]:
        if isinstance(index, slice):
            return [self._row(p) for p in self.positions[index]]
        return self._row(self.positions[index])

    def __iter__(self) -> Iterator[TimelineRow]:
        for p in self.positions:
            yield self._row(p)

    def _row(self, p: int) -> TimelineRow:
        s = self.structure
        i = s.order[p]
        e = self.model.entries[i]
        has_children = s.n_children[p] > 0
        expanded = has_children and self.options.is_expanded(e.key, e.default_expanded, s.depth[p])
        moved_from = ""  # with canonical parents: where the presentation put a moved row
        presented = e.presentation_parent
        up = s.up[p]
        if s.key[1] and not e.is_detail and presented >= 0 and up >= 0 and s.order[up] != presented:
            moved_from = self.model.entries[presented].label or "—"
        return TimelineRow(
            e,
            s.depth[p],
            has_children,
            expanded,
            s.row_kind[p] == INLINE_DETAIL_ROW,
            i in self._matches,
            moved_from,
        )

    @property
    def hidden_count(self) -> int:
        return self.structure.hidden_count

    @property
    def match_count(self) -> int:
        return len(self._matches)

    def index_of(self, key: str) -> int | None:
        """Row index of ``key`` if visible (O(log n))."""
        i = self.model.by_key.get(key)
        if i is None:
            i = self.model.by_span_id.get(key)
        if i is None:
            return None
        p = self.structure.pos[i]
        if p < 0:
            return None
        k = bisect.bisect_left(self.positions, p)
        return k if k < len(self.positions) and self.positions[k] == p else None

    def row_keys(self) -> list[str]:
        entries, order = self.model.entries, self.structure.order
        return [entries[order[p]].key for p in self.positions]


def _visible_positions(model: TimelineModel, s: Structure, options: TimelineOptions) -> list[int]:
    order, end, nch, depth = s.order, s.end, s.n_children, s.depth
    n = len(order)
    if options.expand_mode == "all" and not options.collapsed:
        return list(range(n))
    entries = model.entries
    expanded_set, collapsed_set, mode = options.expanded, options.collapsed, options.expand_mode
    out: list[int] = []
    append = out.append
    p = 0
    while p < n:
        append(p)
        if nch[p]:
            e = entries[order[p]]
            k = e.key
            if k in collapsed_set:
                open_ = False
            elif k in expanded_set:
                open_ = True
            elif mode == "default":
                open_ = e.default_expanded
            elif mode == "all":
                open_ = True
            else:
                open_ = depth[p] == 0
            p = p + 1 if open_ else end[p]
        else:
            p += 1
    return out


def search_matches(model: TimelineModel, text: str) -> frozenset[int]:
    """Entry indices of every span (rows or folded) matching ``text`` (case-insensitive)."""
    needle = text.strip().lower()
    if not needle:
        return frozenset()
    cached = model.search_cache.get(needle)
    if cached is not None:
        return cached
    found = frozenset(e.index for e in model.entries if needle in e.haystack)
    if len(model.search_cache) > 32:
        model.search_cache.clear()
    model.search_cache[needle] = found
    return found


def match_count(model: TimelineModel, text: str) -> int:
    return len(search_matches(model, text))


def layout(model: TimelineModel, options: TimelineOptions) -> TimelineLayout:
    s = structure(model, options)
    return TimelineLayout(
        model,
        s,
        options,
        _visible_positions(model, s, options),
        search_matches(model, options.search),
    )


def build_rows(
    detail: RunDetail | TimelineModel, options: TimelineOptions | None = None
) -> list[TimelineRow]:
    """Convenience: ``RunDetail + options -> list[TimelineRow]``."""
    model = detail if isinstance(detail, TimelineModel) else build_model(detail)
    return list(layout(model, options or TimelineOptions()))


def find_errors(rows: Sequence[TimelineRow]) -> list[int]:
    """Indices of error rows."""
    return [i for i, row in enumerate(rows) if row.is_error]


# --------------------------------------------------------------------------- navigation


class Reveal(NamedTuple):
    options: TimelineOptions
    #: row key that shows the span (itself, or its owner when the span is folded)
    key: str


def row_entry_for(model: TimelineModel, options: TimelineOptions, span_or_key: str) -> int | None:
    """Entry index of the row that shows ``span_or_key`` under ``options``."""
    i = model.by_key.get(span_or_key)
    if i is None:
        i = model.by_span_id.get(span_or_key)
    if i is None:
        return None
    s = structure(model, options)
    seen = 0
    while s.pos[i] < 0 and seen <= len(model.entries):
        e = model.entries[i]
        i = e.owner if e.owner != -1 else model.root
        seen += 1
    return i


def reveal(model: TimelineModel, options: TimelineOptions, span_or_key: str) -> Reveal | None:
    """Options with every ancestor of the span's row expanded, and that row's key."""
    i = row_entry_for(model, options, span_or_key)
    if i is None:
        return None
    s = structure(model, options)
    entries = model.entries
    need: list[str] = []
    q = s.up[s.pos[i]]
    while q >= 0:
        e = entries[s.order[q]]
        if not options.is_expanded(e.key, e.default_expanded, s.depth[q]):
            need.append(e.key)
        q = s.up[q]
    new = options
    if need:
        new = replace(
            options,
            expanded=options.expanded | frozenset(need),
            collapsed=options.collapsed - frozenset(need),
        )
    return Reveal(new, entries[i].key)


def reveal_all(
    model: TimelineModel, options: TimelineOptions, keys: Sequence[str]
) -> TimelineOptions:
    """Options with every ancestor of every row showing one of ``keys`` expanded (one pass)."""
    s = structure(model, options)
    entries = model.entries
    need: set[str] = set()
    walked: set[int] = set()
    for key in keys:
        i = row_entry_for(model, options, key)
        if i is None:
            continue
        q = s.up[s.pos[i]]
        while q >= 0 and q not in walked:
            walked.add(q)
            e = entries[s.order[q]]
            if not options.is_expanded(e.key, e.default_expanded, s.depth[q]):
                need.add(e.key)
            q = s.up[q]
    if not need:
        return options
    return replace(
        options,
        expanded=options.expanded | frozenset(need),
        collapsed=options.collapsed - frozenset(need),
    )


#: Runs with at most this many rows open fully expanded.
EXPAND_ALL_ROWS = 500


def opening_options(model: TimelineModel, options: TimelineOptions) -> TimelineOptions:
    """The options a run opens with: a small run fully expanded (nothing left to find)."""
    untouched = options.expand_mode == "default" and not options.expanded | options.collapsed
    if untouched and model.node_count <= EXPAND_ALL_ROWS:
        return expand_all(options)
    return options


def infrastructure_keys(model: TimelineModel) -> list[str]:
    """Keys of the infrastructure spans the ``i`` toggle brings back."""
    return [e.key for e in model.entries if e.infrastructure]


def _targets(
    model: TimelineModel, options: TimelineOptions, wanted: Sequence[int] | frozenset[int]
) -> list[int]:
    s = structure(model, options)
    pos = s.pos
    found: set[int] = set()
    for i in wanted:
        p = pos[i]
        if p < 0:
            r = row_entry_for(model, options, model.entries[i].key)
            if r is None:
                continue
            p = pos[r]
        found.add(p)
    return sorted(found)


def match_targets(model: TimelineModel, options: TimelineOptions) -> list[str]:
    """Keys of the rows showing search matches, in tree order (collapsed ones included)."""
    s = structure(model, options)
    ps = _targets(model, options, search_matches(model, options.search))
    return [model.entries[s.order[p]].key for p in ps]


def error_targets(model: TimelineModel, options: TimelineOptions) -> list[str]:
    """Keys of the rows where errors start (``SpanEntry.error_start``; a folded span's
    error counts on the row that shows it), in tree order, collapsed subtrees included."""
    s = structure(model, options)
    ps = _targets(model, options, [e.index for e in model.entries if e.error_start])
    return [model.entries[s.order[p]].key for p in ps]


def member_targets(model: TimelineModel, options: TimelineOptions) -> list[str]:
    """Keys of the member run rows (child runs of an operation) in tree order."""
    if not model.member_runs:
        return []
    s = structure(model, options)
    entries = model.entries
    return [entries[i].key for i in s.order if entries[i].member_run]


def tree_position(model: TimelineModel, options: TimelineOptions, key: str) -> int | None:
    """Preorder position of the row showing ``key`` in the current structure."""
    i = row_entry_for(model, options, key)
    if i is None:
        return None
    return structure(model, options).pos[i]


def step_target(
    model: TimelineModel,
    options: TimelineOptions,
    targets: Sequence[str],
    current: str | None,
    forward: bool,
) -> str | None:
    """Next/previous of ``targets`` (tree-order keys) relative to the row ``current``."""
    if not targets:
        return None
    s = structure(model, options)
    ranks = [s.pos[model.by_key[t]] for t in targets]
    here = tree_position(model, options, current) if current else None
    if here is None:
        return targets[0] if forward else targets[-1]
    if forward:
        k = bisect.bisect_right(ranks, here)
        return targets[k % len(targets)]
    k = bisect.bisect_left(ranks, here) - 1
    return targets[k % len(targets)]
