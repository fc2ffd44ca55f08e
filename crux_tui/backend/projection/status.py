"""Status roll-up (§4) and the one status of a run; ranks and sets are
:mod:`crux_tui.contract.statuses`."""

from __future__ import annotations

from crux_tui.contract.statuses import (
    ENDED_STATUSES,
    OTHER_RANK,
    ROLL_UP_RANK,
    ROLLED_UP_RUN_STATUSES,
    SUSPENDED,
)


def rank(status: str) -> int:
    """§4 precedence of a status (lower wins)."""
    return ROLL_UP_RANK.get(status, OTHER_RANK)


def roll_up(own: str, children: list[str], primitive: str = "") -> str:
    """Highest-precedence status of a node and its (already rolled-up) children."""
    if primitive == "flow.suspension" and own == SUSPENDED:
        return own
    best = own
    best_rank = rank(own)
    for status in children:
        r = rank(status)
        if r < best_rank:
            best, best_rank = status, r
    return best


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
