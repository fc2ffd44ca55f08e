"""Reading a RunDetail for the symptom rules: every node and folded detail with its place in
the presentation tree, and the small attribute readers the rules share. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from crux_tui.contract.models import RunDetail, RunDetailDetail, RunDetailNode, RunSummary, items
from crux_tui.contract.statuses import NO_END_STATUSES
from crux_tui.timestamps import epoch_ms

Subject = RunDetailNode | RunDetailDetail

#: A Convex action crossing (``ctx.crux.runAction``): the boundary span's primitive.
ACTION_BOUNDARY = "runtime.convex.action"
REQUESTED = "runtime.convex.boundary.requested"
ACKNOWLEDGEMENTS = frozenset(
    {
        "runtime.convex.boundary.received",
        "runtime.convex.boundary.completed",
        "runtime.convex.boundary.failed",
    }
)


@dataclass(slots=True, eq=False)
class Item:
    """A node or a folded detail; ``parent`` is the node it hangs from (a detail's owner)."""

    subject: Subject
    parent: Item | None
    is_detail: bool
    children: list[Item] = field(default_factory=list)

    @property
    def span_id(self) -> str:
        return self.subject.spanId

    @property
    def primitive(self) -> str:
        return self.subject.primitive or ""

    @property
    def family(self) -> str:
        return self.subject.family or ""

    @property
    def is_member_root(self) -> bool:
        """A member run mounted in its operation's tree (``run:<runId>``)."""
        return not self.is_detail and self.subject.id.startswith("run:")

    def ancestors(self) -> Iterator[Item]:
        item = self.parent
        while item is not None:
            yield item
            item = item.parent

    def descendants(self, stop: Any = None) -> Iterator[Item]:
        """Every item below this one; ``stop(item)`` true keeps its own subtree out."""
        stack = list(reversed(self.children))
        while stack:
            item = stack.pop()
            yield item
            if stop is None or not stop(item):
                stack.extend(reversed(item.children))


class Tree:
    """Every node and folded detail of a RunDetail (parents before their children)."""

    def __init__(self, detail: RunDetail) -> None:
        self.detail = detail
        self.root = Item(detail.root, None, False)
        self.items: list[Item] = [self.root]
        stack = [self.root]
        while stack:
            item = stack.pop()
            node = item.subject
            assert isinstance(node, RunDetailNode)
            kids = [Item(d, item, True) for d in items(node.details)]
            kids += [Item(c, item, False) for c in items(node.children)]
            item.children = kids
            self.items.extend(kids)
            stack.extend(reversed([k for k in kids if not k.is_detail]))
        self.by_span: dict[str, Item] = {}
        for item in self.items:
            if item.span_id:
                self.by_span.setdefault(item.span_id, item)

    def member_root_span(self, run_id: str) -> str:
        """The span id of a member run's root node ("" when it has none)."""
        for item in self.items:
            if item.subject.id == f"run:{run_id}":
                return item.span_id
        return ""

    def of_run(self, run_id: str) -> Iterator[Item]:
        """The spans a member run recorded (mounted member roots included)."""
        return (i for i in self.items if i.subject.runId == run_id and i.span_id)


def member_runs(detail: RunDetail) -> list[RunSummary]:
    """The summaries of an operation's member runs (the run itself from a v2 backend)."""
    return [m.run for m in items(detail.memberRuns)] or [detail.run]


# --------------------------------------------------------------------------- readers


def attrs(subject: Any) -> dict[str, Any]:
    value = getattr(subject, "attributes", None)
    return value if isinstance(value, dict) else {}


def text(mapping: Any, key: str) -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) else ""


def reconciled_from(subject: Any) -> str:
    diagnostics = attrs(subject).get("diagnostics")
    return text(diagnostics, "reconciledFrom")


def label(subject: Subject) -> str:
    """What the timeline shows for the span."""
    if isinstance(subject, RunDetailNode):
        shown = subject.display.label if subject.display else ""
    else:
        shown = subject.label
    return shown or subject.name or subject.primitive or subject.spanId


def event_names(subject: Subject) -> set[str]:
    return {e.name for e in items(subject.events) if isinstance(e.name, str)}


def function_ref(subject: Any) -> str:
    """The Convex function a span or run names (``functionRef``), from its attributes or
    the boundary events it carries."""
    found = text(attrs(subject), "functionRef")
    if found:
        return found
    for event in items(getattr(subject, "events", None)):
        found = text(event.attributes, "functionRef")
        if found:
            return found
    return ""


def lacks_end(subject: Any) -> bool:
    """No end record of its own: still open, stale, or closed by freshness or an expired lease."""
    how = reconciled_from(subject)
    if how in ("freshness", "runtime.convex.boundary.lease"):
        return True
    return subject.status in NO_END_STATUSES and not subject.endedAt


def has_deadline(subject: Subject) -> bool:
    """The span recorded a Crux operation deadline (``deadlineAt``, ``timeoutMs`` or an
    ``operation.deadline`` event)."""
    a = attrs(subject)
    timeout = a.get("timeoutMs")
    if text(a, "deadlineAt") or (
        isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0
    ):
        return True
    return "operation.deadline" in event_names(subject)


def deadline_ms(subject: Subject) -> float | None:
    """The span's deadline as epoch milliseconds (the latest it recorded), if any."""
    a = attrs(subject)
    found = [epoch_ms(text(a, "deadlineAt"))]
    timeout = a.get("timeoutMs")
    start = epoch_ms(subject.startedAt)
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and start is not None:
        found.append(start + float(timeout))
    for event in items(subject.events):
        if event.name == "operation.deadline":
            found.append(epoch_ms(text(event.attributes, "deadlineAt")))
    known = [f for f in found if f is not None]
    return max(known) if known else None


def is_generation(item: Item) -> bool:
    return item.family == "generation"


def short(value: str, limit: int = 60) -> str:
    """A record string shortened for a sentence."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def clock(value: str) -> str:
    """An RFC3339 time as ``HH:MM:SS.mmm`` UTC ("" when unparseable)."""
    ms = epoch_ms(value)
    return clock_ms(ms) if ms is not None else ""


def clock_ms(ms: float) -> str:
    """Epoch milliseconds as ``HH:MM:SS.mmm`` UTC."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
