"""*Generation stays running past timeout*: a generation the provider or worker never closed.

* No deadline recorded (no ``timeoutMs`` / ``deadlineAt`` / ``operation.deadline``) and the
  backend found it open past the freshness window (``stale``, or ``missing-span-end``):
  nothing will ever close it.
* A deadline recorded and passed without a terminal end (closed ``incomplete`` at the
  deadline by the backend, or still running after it when the caller gives the clock),
  outside a suspended flow (the plan-flow rule covers those).
"""

from __future__ import annotations

from datetime import datetime

from crux_tui.contract.models import items
from crux_tui.contract.statuses import RUNNING, STALE

from .catalog import GENERATION_PAST_TIMEOUT, Symptom
from .generations import suspended_flow
from .tree import (
    Tree,
    deadline_ms,
    has_deadline,
    is_generation,
    label,
    lacks_end,
    reconciled_from,
    short,
)

DEADLINE_PASSED_FIX = (
    "timeoutMs is set, yet no terminal timeout span arrived: the worker was gone before core "
    "could emit it. Export the action from @crux/convex/server (it flushes) and keep timeoutMs "
    "below the action's own time limit."
)


def _found_stale(subject: object) -> bool:
    codes = {d.code for d in items(getattr(subject, "diagnostics", None))}
    return getattr(subject, "status", "") == STALE or "missing-span-end" in codes


def generations_past_timeout(tree: Tree, now: datetime | None = None) -> list[Symptom]:
    found: list[Symptom] = []
    now_ms = now.timestamp() * 1000 if now is not None else None
    for item in tree.items:
        s = item.subject
        if not is_generation(item):
            continue
        name = short(label(s))
        if not has_deadline(s):
            if lacks_end(s) and _found_stale(s):
                evidence = (
                    f"generation “{name}” has no end record and no deadline (no timeoutMs): "
                    "nothing will close it"
                )
                found.append(GENERATION_PAST_TIMEOUT.found([item.span_id], evidence, s.runId))
            continue
        if suspended_flow(item) is not None:
            continue
        if reconciled_from(s) == "operation.deadline":
            evidence = (
                f"generation “{name}” passed its deadline without a terminal end; the backend "
                "closed it as incomplete at the deadline"
            )
        elif (
            now_ms is not None
            and s.status == RUNNING
            and not s.endedAt
            and (deadline := deadline_ms(s)) is not None
            and deadline <= now_ms
        ):
            evidence = f"generation “{name}” is still running after its deadline"
        else:
            continue
        found.append(
            GENERATION_PAST_TIMEOUT.found([item.span_id], evidence, s.runId, DEADLINE_PASSED_FIX)
        )
    return found
