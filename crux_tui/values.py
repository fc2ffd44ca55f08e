"""Tolerant reading of numeric values from records (metrics, durations): one place for it."""

from __future__ import annotations

import math
from typing import Any


def number(value: Any, *, from_text: bool = False) -> float | None:
    """``value`` as a finite float, else ``None`` (bools are not numbers).

    With ``from_text`` numeric strings such as ``"12.5"`` are accepted too.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif from_text and isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def metric(metrics: Any, *keys: str, from_text: bool = False) -> float | None:
    """The first numeric value among ``keys`` of a metrics object."""
    if not isinstance(metrics, dict):
        return None
    for key in keys:
        value = number(metrics.get(key), from_text=from_text)
        if value is not None:
            return value
    return None
