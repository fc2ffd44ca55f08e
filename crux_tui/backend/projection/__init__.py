"""RunDetail projection: canonical graph + clock -> folded, reconciled RunDetail (pure, no I/O).

Modules: ``times`` (RFC3339), ``index`` (sanitised working copy + indexes), ``reconcile`` (R1-R7),
``display`` (display class, kind, label), ``tree`` (re-parenting, folding, sibling order),
``buckets`` (events / artifacts / relations per span), ``ownership`` (explains edges / owner
hints), ``metrics``, ``status``, ``diagnostics`` (§6), ``build`` (the per-run pipeline in named
stages), ``flatten`` (rows, spanIndex), ``operation`` (member runs mounted into one document),
``topology``, ``settled`` (when the clock no longer matters). See
``/work/shared/contract/presentation.md``.
"""

from __future__ import annotations

from .build import presented_run_status, project_run_detail
from .settled import clock_independent

__all__ = ["clock_independent", "presented_run_status", "project_run_detail"]
