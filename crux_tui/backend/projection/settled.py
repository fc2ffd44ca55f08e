"""When a projection no longer depends on the clock."""

from __future__ import annotations

from crux_tui.contract.models import Graph


def clock_independent(graph: Graph) -> bool:
    """True when projecting ``graph`` gives the same RunDetail at any later moment.

    The clock enters the projection only through work that is still open: a run or a
    span without an end (deadlines, leases, the 60 s freshness rule, elapsed durations,
    ``missing-span-end`` / ``stale-boundary``). Once the run and every span have ended,
    only new records can change the result.
    """
    if not graph.run.endedAt:
        return False
    return all(span.endedAt for span in graph.spans or ())
