"""Status roll-up precedence (§4): error > blocked > suspended > cancelled > stale > incomplete >
running > ok/success/skipped > anything else."""

from __future__ import annotations

PRECEDENCE = {
    "error": 0,
    "blocked": 1,
    "suspended": 2,
    "cancelled": 3,
    "stale": 4,
    "incomplete": 5,
    "running": 6,
    "ok": 7,
    "success": 7,
    "skipped": 7,
}
OTHER = 8


def rank(status: str) -> int:
    return PRECEDENCE.get(status, OTHER)


def roll_up(own: str, children: list[str], primitive: str = "") -> str:
    """Highest-precedence status of a node and its (already rolled-up) children."""
    if primitive == "flow.suspension" and own == "suspended":
        return own
    best = own
    best_rank = rank(own)
    for status in children:
        r = rank(status)
        if r < best_rank:
            best, best_rank = status, r
    return best


#: A run that ended with one of these is presented with what its tree rolled up ...
ENDED_STATUSES = frozenset({"ok", "success", "skipped", "error", "blocked", "cancelled", "suspended"})
#: ... when it is one of these (a span failed, or a flow waits, inside the run).
ROLLED_UP_RUN_STATUSES = frozenset({"error", "blocked", "cancelled", "suspended"})


def unified_run_status(run_status: str, root_status: str) -> str:
    """The one status of a run, shown by the run and its root row alike.

    ``root_status`` is the root's roll-up (which starts from ``run_status``). An ended
    run takes it when a span below failed or waits (a flow suspended on plan-approval
    inside an ok chat action makes the run suspended); a run still running, or closed by
    reconciliation (``incomplete``/``stale``), keeps its own status.
    """
    if run_status in ENDED_STATUSES and root_status in ROLLED_UP_RUN_STATUSES:
        return root_status
    return run_status
