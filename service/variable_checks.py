"""Variables checked before graphql-core coerces them (how deep they nest, whether their text can be stored), and
explained when its coercion fails, each problem a `Problem` naming the field (and the batch index).

graphql-core reports a coercion failure as one sentence ("Variable '$inputs' got invalid value …"), so a
batch refused for one bad event did not say which event: a client could only drop the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    coerce_input_value,
    get_named_type,
    get_operation_ast,
    is_input_type,
    is_required_input_field,
    type_from_ast,
)
from graphql.pyutils import Undefined
from graphql.utilities import validate_input_value

from modules.core.errors import BadUserInput, Problem
from modules.core.text import text_problem

Path = tuple[str | int, ...]


def variable_error(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    max_depth: int,
    coerce: bool = False,
) -> GraphQLError | None:
    """One BAD_USER_INPUT error listing every problem of the variables, each naming its field (and batch index),
    or None. Before execution (`coerce` false): variables missing, nesting too deep or holding text that cannot
    be stored, with their coercion problems listed too; whether fine variables coerce is left to graphql-core's
    own coercion, which runs once, at execution. After it failed (`coerce`: service/variable_diagnosis.py):
    every problem, or None if they have none (the failure was another)."""
    problems = variable_problems(schema, document, operation_name, variables, max_depth=max_depth, coerce=coerce)
    if problems and not coerce:  # the coercion problems of the same variables in one answer: fixed at once
        problems = variable_problems(schema, document, operation_name, variables, max_depth=max_depth, coerce=True)
    return refusal_of(problems)


def refusal_of(problems: list[Problem]) -> GraphQLError | None:
    if not problems:
        return None
    refusal = BadUserInput(problems)
    return GraphQLError(refusal.message, extensions=refusal.extensions)


def variable_problems(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    max_depth: int,
    coerce: bool,
) -> list[Problem]:
    """Every problem of the operation's variables, in order; `coerce`: whether they coerce too (a variable that
    nests too deep is not coerced: graphql-core would recurse through it)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []  # graphql-core explains which operation is missing
    given = variables or {}
    problems: list[Problem] = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        found_type = type_from_ast(schema, definition.type)
        if found_type is None or not is_input_type(found_type):
            continue  # graphql-core's validation has refused the document already
        declared = found_type
        value = given.get(name, Undefined)
        if value is Undefined:
            if isinstance(declared, GraphQLNonNull) and definition.default_value is None:
                problems.append(problem((name,), "is required", declared))
            continue
        shape = [] if well_shaped(value, max_depth) else list(shape_problems(value, (name,), max_depth))
        problems.extend(problem(path, reason, declared) for path, reason, _ in shape)
        if coerce and not any(too_deep for *_, too_deep in shape):
            problems.extend(coercion_problems(value, declared, name))
        if len(problems) >= BadUserInput.max_listed:
            break
    return problems


def well_shaped(value: Any, max_depth: int) -> bool:
    """Whether `shape_problems` finds nothing, found without building the path of every value: the common case, a
    batch of 1,000 events, is ~14,000 values (the paths cost ~6 µs an event); the paths are built only when
    there is a problem to name. ASCII text holds no surrogate, so only other text is encoded."""
    pending: list[tuple[Any, int]] = [(value, 1)]  # a value and the length its path would have
    while pending:
        item, length = pending.pop()
        if length > max_depth + 1:
            return False
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and text_problem(item)):
                return False
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and ("\x00" in key or (not key.isascii() and text_problem(key))):
                    return False
                pending.append((inner, length + 1))
        elif isinstance(item, list):
            pending.extend((inner, length + 1) for inner in item)
    return True


def shape_problems(value: Any, path: Path, max_depth: int) -> Iterator[tuple[Path, str, bool]]:
    """Text that cannot be stored and nesting deeper than `max_depth` (the flag), without recursion (a variable may nest
    a thousand levels: Python's own recursion limit must not be what stops it)."""
    pending: list[tuple[Any, Path]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if len(where) > max_depth + 1:
            yield where[: max_depth + 1], f"nests deeper than {max_depth} levels", True
            continue
        if isinstance(item, str):
            reason = text_problem(item)
            if reason:
                yield where, reason, False
        elif isinstance(item, dict):
            for key, inner in item.items():
                reason = text_problem(key) if isinstance(key, str) else None
                if reason:
                    yield (*where, key.encode("utf-8", "backslashreplace").decode()), f"its name {reason}", False
                else:
                    pending.append((inner, (*where, key)))
        elif isinstance(item, list):
            pending.extend((inner, (*where, index)) for index, inner in enumerate(item))


def coercion_problems(value: Any, declared: GraphQLInputType, name: str) -> list[Problem]:
    """Nothing when graphql-core coerces the value; else its diagnostics, each with its path."""
    if coerce_input_value(value, declared) is not Undefined:
        return []
    found: list[Problem] = []

    def on_error(error: GraphQLError, path: list[str | int]) -> None:
        fields = object_field_problems(value_at(value, path), type_at(declared, path))
        found.extend(problem((name, *path, field), reason, declared) for field, reason in fields)
        if not fields:
            found.append(problem((name, *path), error.message, declared))

    validate_input_value(value, declared, on_error)
    return list(dict.fromkeys(found)) or [problem((name,), "is not a valid value", declared)]


def object_field_problems(value: Any, declared: GraphQLInputType | None) -> list[tuple[str, str]]:
    """An input object's missing required fields and unknown ones, each by name (graphql-core reports them at
    the object's path, naming the field only in its sentence)."""
    named = get_named_type(declared) if declared is not None else None
    if not isinstance(named, GraphQLInputObjectType) or not isinstance(value, dict):
        return []
    missing = [
        (field, f"is required ({definition.type})")
        for field, definition in named.fields.items()
        if is_required_input_field(definition) and value.get(field) is None
    ]
    unknown = [(str(field), f"is not a field of {named.name}") for field in value if field not in named.fields]
    return missing + unknown


def value_at(value: Any, path: list[str | int]) -> Any:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def type_at(declared: GraphQLInputType, path: list[str | int]) -> GraphQLInputType | None:
    current: GraphQLInputType = declared
    for part in path:
        while isinstance(current, GraphQLNonNull):
            current = current.of_type
        if isinstance(part, int) and isinstance(current, GraphQLList):
            current = current.of_type
        elif isinstance(part, str) and isinstance(current, GraphQLInputObjectType) and part in current.fields:
            current = current.fields[part].type
        else:
            return None
    return current


def problem(path: Path, reason: str, declared: GraphQLInputType) -> Problem:
    """`inputs[3].model` → field "model", index 3 (a list of input objects is a batch); `input.model` → "model";
    a scalar variable keeps its name."""
    name, rest = path[0], path[1:]
    index = None
    if rest and isinstance(rest[0], int) and is_list_of_objects(declared):
        index, rest = rest[0], rest[1:]
    if index is None and not (rest and isinstance(get_named_type(declared), GraphQLInputObjectType)):
        rest = path
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in rest).lstrip(".")
    return Problem(field or str(name), reason, index)


def is_list_of_objects(declared: GraphQLInputType) -> bool:
    inner = declared.of_type if isinstance(declared, GraphQLNonNull) else declared
    return isinstance(inner, GraphQLList) and isinstance(get_named_type(inner), GraphQLInputObjectType)
