"""A strawberry input type built from graphql-core's coerced value with a plan made once per type and schema
config, instead of strawberry resolving every field's name and type again for every object (~210 µs per
`TrackUsageInput`, 65% of a batch's CPU, was spent there).

The plan is the same conversion strawberry's `convert_argument` does: graphql-core has already coerced every
scalar and enum value (ID, String, Int, DateTime, Decimal, JSON, enums), which strawberry passes through as
they are; any other field type (nested inputs, lists of them, GlobalID, Maybe) is still converted by strawberry
itself (`InputContext.convert`), with its path. Fields without a default that the client omitted are None, as
strawberry makes them. Written against strawberry's public `from_input` hook, so it could be offered upstream
as a cache inside `convert_argument`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any, TypeVar

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryMaybe, StrawberryObjectDefinition, StrawberryOptional, StrawberryType
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

T = TypeVar("T")


class FieldPlan:
    """One field: its GraphQL name, its Python name, and its strawberry type when strawberry must convert it
    (None: graphql-core's value is already the Python value)."""

    __slots__ = ("convert_as", "graphql_name", "python_name")

    def __init__(self, graphql_name: str, python_name: str, convert_as: StrawberryType | type | None) -> None:
        self.graphql_name = graphql_name
        self.python_name = python_name
        self.convert_as = convert_as


class InputPlan:
    def __init__(self, definition: StrawberryObjectDefinition, context: InputContext) -> None:
        self.config = context.config
        self.fields = []
        self.omitted: dict[str, None] = {}
        for field in definition.fields:
            python_name = field.python_name
            field_type = field.resolve_type(type_definition=definition)
            passes = is_passthrough(field_type, context.scalar_registry)
            self.fields.append(
                FieldPlan(context.config.name_converter.from_field(field), python_name, None if passes else field_type)
            )
            if field.default_value is MISSING and field.default_factory is MISSING:
                self.omitted[python_name] = None

    def build(self, cls: type[T], value: Mapping[str, Any], context: InputContext) -> T:
        kwargs: dict[str, Any] = dict(self.omitted)
        for field in self.fields:
            if field.graphql_name in value:
                given = value[field.graphql_name]
                if field.convert_as is not None:
                    given = context.convert(given, field.convert_as, field.graphql_name)
                kwargs[field.python_name] = given
        return cls(**kwargs)


def is_passthrough(field_type: StrawberryType | type, scalar_registry: Mapping[object, Any]) -> bool:
    """Whether strawberry's convert_argument returns graphql-core's value of this type unchanged."""
    if isinstance(field_type, StrawberryMaybe):
        return False  # wrapped in Some(): strawberry's own conversion
    if isinstance(field_type, StrawberryOptional):
        field_type = field_type.of_type
    if field_type is GlobalID:
        return False
    if isinstance(field_type, StrawberryEnumDefinition) or has_enum_definition(field_type):
        return True
    return is_scalar(field_type, scalar_registry)


def planned_conversion(cls: type[T]) -> type[T]:
    """Class decorator, under `@strawberry.input`: the type is built through a cached plan (see module doc)."""
    definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    last: list[InputPlan] = []  # the plan of the schema config seen last (one per process, but in tests)

    def from_input(target: type, value: Mapping[str, Any], context: InputContext) -> Any:
        if not last or last[0].config is not context.config:
            last[:] = [InputPlan(definition, context)]
        return last[0].build(target, value, context)

    hook: Callable[[type, Mapping[str, Any], InputContext], Any] = from_input
    definition.from_input = hook
    return cls
