"""build_frozen makes the instance __init__ would: equal, hashed alike, as frozen, and refused for values that
are not exactly the class's fields or for classes it cannot build."""

from __future__ import annotations

import dataclasses

import pytest

from modules.core.frozen import build_frozen
from modules.usage.records import NewUsageEvent, UsageEvent
from tests.event_values import VALUES


def test_it_equals_what_init_makes() -> None:
    built, made = build_frozen(UsageEvent, {**VALUES, "id": 42}), UsageEvent(**VALUES, id=42)
    assert built == made and type(built) is UsageEvent
    assert vars(built) == vars(made)
    assert build_frozen(NewUsageEvent, VALUES) == NewUsageEvent(**VALUES)
    assert built.tokens_per_second == made.tokens_per_second


def test_it_is_as_frozen() -> None:
    built = build_frozen(NewUsageEvent, VALUES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.model = "gpt-5"  # type: ignore[misc]


def test_values_must_be_exactly_the_fields() -> None:
    with pytest.raises(TypeError, match="needs exactly"):
        build_frozen(UsageEvent, VALUES)  # no id
    with pytest.raises(TypeError, match="needs exactly"):
        build_frozen(NewUsageEvent, {**VALUES, "modle": "x"})
    renamed = {("modle" if k == "model" else k): v for k, v in VALUES.items()}
    with pytest.raises(TypeError, match="needs exactly"):
        build_frozen(NewUsageEvent, renamed)


def test_classes_it_cannot_build_are_refused() -> None:
    @dataclasses.dataclass
    class Plain:
        x: int

    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            assert self.x > 0

    with pytest.raises(TypeError, match="not a frozen dataclass"):
        build_frozen(Plain, {"x": 1})
    with pytest.raises(TypeError, match="__post_init__"):
        build_frozen(Checked, {"x": -1})
