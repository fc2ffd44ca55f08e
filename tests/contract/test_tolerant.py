"""Depth limiting of untrusted JSON values, against a plain reference definition."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crux_tui.contract.tolerant import TRUNCATED, limit_depth

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=40,
)


def depth(value: Any) -> int:
    """Levels of containers: a scalar is 0, ``[]`` is 1, ``[[1]]`` is 2."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@given(value=json_values, max_depth=st.integers(1, 6))
def test_limit_depth_cuts_exactly_what_is_too_deep(value: Any, max_depth: int) -> None:
    limited, cut = limit_depth(value, max_depth)
    if depth(value) <= max_depth:
        assert cut == 0 and limited is value
    else:
        assert cut > 0 and depth(limited) <= max_depth
        assert TRUNCATED in repr(limited)


def test_very_deep_value_is_cut_without_recursion_error() -> None:
    value: Any = 1
    for _ in range(5000):
        value = [value]
    limited, cut = limit_depth(value)
    assert cut == 1 and depth(limited) == 64
