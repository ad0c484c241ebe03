"""Every argument of the schema, reached by walking it: a minimal valid value for each argument, and the paths
of its leaves by scalar type, so a test can put a hostile value into each leaf of each operation in turn."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

MINIMAL_SCALARS: dict[str, Any] = {
    "String": "x",
    "ID": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "DateTime": "2026-01-01T00:00:00Z",
    "Decimal": "1",
    "BigInt": 1,
    "JSON": {},
}
Path = tuple[str | int, ...]


def minimal(type_: GraphQLInputType) -> Any:
    """A value graphql-core coerces: every required field filled, optional ones left out."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        return [minimal(inner.of_type)]
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    if isinstance(inner, GraphQLScalarType):
        return MINIMAL_SCALARS[inner.name]
    assert isinstance(inner, GraphQLInputObjectType)
    return {name: minimal(field.type) for name, field in inner.fields.items() if isinstance(field.type, GraphQLNonNull)}


def leaves(type_: GraphQLInputType, path: Path) -> Iterator[tuple[Path, str]]:
    """Every scalar leaf below `type_` (lists entered at index 0) and its scalar's name."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        yield from leaves(inner.of_type, (*path, 0))
    elif isinstance(inner, GraphQLScalarType):
        yield path, inner.name
    elif isinstance(inner, GraphQLInputObjectType):
        for name, field in inner.fields.items():
            yield from leaves(field.type, (*path, name))


def placed(value: Any, path: Path, leaf: Any) -> Any:
    """`value` with `leaf` at `path` (creating the objects and lists on the way)."""
    if not path:
        return leaf
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(value) if isinstance(value, list) and value else [{}]
        items[0] = placed(items[0], rest, leaf)
        return items
    found = dict(value) if isinstance(value, dict) else {}
    found[head] = placed(found.get(head), rest, leaf)
    return found


@dataclass(frozen=True)
class Case:
    """One operation with one hostile leaf: the document, its variables, and where the leaf is."""

    operation: str
    path: Path
    document: str
    variables: dict[str, Any]

    @property
    def leaf_name(self) -> str:
        return str(next(part for part in reversed(self.path) if isinstance(part, str)))


def operation_document(kind: str, name: str, field: GraphQLField) -> str:
    declared = ", ".join(f"${arg}: {definition.type}" for arg, definition in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    return f"{kind} Case({declared}) {{ {name}({passed}){selection} }}"


def cases(schema: GraphQLSchema, scalar: str, hostile: Any) -> Iterator[Case]:
    """For every query and mutation field, every leaf of type `scalar` in its arguments set to `hostile`."""
    roots: list[tuple[str, GraphQLObjectType | None]] = [
        ("query", schema.query_type),
        ("mutation", schema.mutation_type),
    ]
    for kind, root in roots:
        for name, field in (root.fields if root else {}).items():
            if not field.args:
                continue
            document = operation_document(kind, name, field)
            base = {arg: minimal(definition.type) for arg, definition in field.args.items()}
            for arg, definition in field.args.items():
                for path, leaf_scalar in leaves(definition.type, (arg,)):
                    if leaf_scalar != scalar:
                        continue
                    variables = copy.deepcopy(base)
                    variables[arg] = placed(variables.get(arg), path[1:], hostile)
                    yield Case(operation=name, path=path, document=document, variables=variables)
