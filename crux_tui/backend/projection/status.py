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
