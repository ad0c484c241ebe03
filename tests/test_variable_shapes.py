"""The quick walk over a variable (`well_shaped`, no paths built) finds a problem exactly when the walk that names
each problem's path does: NUL and unpaired surrogates in any text or key, nesting past the limit."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.variable_checks import shape_problems, well_shaped

TEXT = st.one_of(
    st.text(max_size=6),  # any code point, the surrogates and NUL among them
    st.sampled_from(["", "gpt-4o", "\x00", "a\x00b", "\ud800", "é\udfff", "日本", "ok"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=600)
@given(value=JSON, max_depth=st.integers(0, 5))
def test_the_quick_walk_agrees_with_the_one_that_names_paths(value: Any, max_depth: int) -> None:
    assert well_shaped(value, max_depth) == (not list(shape_problems(value, ("inputs",), max_depth)))


def test_each_kind_of_problem_is_seen() -> None:
    assert well_shaped([{"model": "gpt-4o", "tags": {"team": "日本"}}], 3)
    assert not well_shaped([{"model": "gpt\x00"}], 3)
    assert not well_shaped([{"model": "\ud800"}], 3)
    assert not well_shaped([{"\x00": 1}], 3)
    assert not well_shaped([{"é\udc00": 1}], 3)
    assert well_shaped([[[1]]], 3) and not well_shaped([[[[1]]]], 3)
