"""build_dataclass makes the instance __init__ would: equal, hashed alike, as frozen (or not), and refused for
values that are not exactly the class's fields or for classes it cannot build."""

from __future__ import annotations

import dataclasses

import pytest

from modules.core.dataclass_builder import build_dataclass
from modules.usage.records import NewUsageEvent, UsageEvent
from tests.event_values import VALUES


def test_it_equals_what_init_makes() -> None:
    built, made = build_dataclass(UsageEvent, {**VALUES, "id": 42}), UsageEvent(**VALUES, id=42)
    assert built == made and type(built) is UsageEvent
    assert vars(built) == vars(made)
    assert build_dataclass(NewUsageEvent, VALUES) == NewUsageEvent(**VALUES)
    assert built.tokens_per_second == made.tokens_per_second


def test_it_is_as_frozen() -> None:
    built = build_dataclass(NewUsageEvent, VALUES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.model = "gpt-5"  # type: ignore[misc]


def test_values_must_be_exactly_the_fields() -> None:
    with pytest.raises(TypeError, match="needs exactly"):
        build_dataclass(UsageEvent, VALUES)  # no id
    with pytest.raises(TypeError, match="needs exactly"):
        build_dataclass(NewUsageEvent, {**VALUES, "modle": "x"})
    renamed = {("modle" if k == "model" else k): v for k, v in VALUES.items()}
    with pytest.raises(TypeError, match="needs exactly"):
        build_dataclass(NewUsageEvent, renamed)


def test_a_plain_dataclass_is_built_as_init_builds_it() -> None:
    @dataclasses.dataclass
    class Plain:
        x: int
        y: str = "y"

    built = build_dataclass(Plain, {"x": 1, "y": "z"})
    assert built == Plain(1, "z") and type(built) is Plain
    built.x = 2
    assert built == Plain(2, "z")
    with pytest.raises(TypeError, match="needs exactly"):
        build_dataclass(Plain, {"x": 1})  # defaults are not filled in


def test_classes_it_cannot_build_are_refused() -> None:
    class NotOne:
        x: int

    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            assert self.x > 0

    @dataclasses.dataclass
    class Defaulted:
        x: int
        seen: list[int] = dataclasses.field(init=False, default_factory=list)

    with pytest.raises(TypeError, match="sets without an argument"):
        build_dataclass(Defaulted, {"x": 1})
    with pytest.raises(TypeError, match="not a dataclass"):
        build_dataclass(NotOne, {"x": 1})
    with pytest.raises(TypeError, match="__post_init__"):
        build_dataclass(Checked, {"x": -1})
