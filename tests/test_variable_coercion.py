"""The compiled coercion of variables (service/variable_coercion.py) answers as graphql-core's own does, for
every argument type of the schema and values of every kind — valid ones, and ones each wrong somewhere — and
is what the executor runs."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    parse,
)
from graphql.execution import executor as graphql_executor
from graphql.pyutils import Undefined
from graphql.utilities import coerce_input_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import variable_coercion
from service.graphql import build_schema
from tests.schema_inputs import MINIMAL_SCALARS

SCHEMA: GraphQLSchema = build_schema()._schema
NASTY = [
    "2026-12-01T10:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-13-01", "1.25",
    "-0.0000001", "1e400", "NaN", "", "\x00", "w0", 2**63, -(2**70), 1.5, True, None, [], {}, {"a": [1, {"b": None}]},
]  # fmt: skip


def plain(values: Any) -> Any:
    """Variable values comparable across calls (each call makes its own signatures, compared by identity)."""
    if isinstance(values, list):
        return [error.message for error in values]
    sources = {name: (str(v.signature.type), v.value) for name, v in values.sources.items()}
    return sources, values.coerced


def argument_types() -> list[GraphQLInputType]:
    """The type of every argument of every field of the schema, as a variable would declare it."""
    found: dict[str, GraphQLInputType] = {}
    for named in SCHEMA.type_map.values():
        for field in getattr(named, "fields", {}).values():
            for argument in getattr(field, "args", {}).values():
                found.setdefault(str(argument.type), argument.type)
    return list(found.values())


TYPES = argument_types()


def values_of(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly what the type asks for, sometimes anything else (a wrong value, null, a field it has not)."""
    anything = st.sampled_from(NASTY)
    if isinstance(type_, GraphQLNonNull):
        return st.one_of(values_of(type_.of_type, depth), st.just(None)) if depth else values_of(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        item = values_of(type_.of_type, depth + 1)
        return st.one_of(st.lists(item, max_size=3), item, st.just(None))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return anything
        fields = {name: values_of(field.type, depth + 1) for name, field in type_.fields.items()}
        wanted = [name for name, field in type_.fields.items() if isinstance(field.type, GraphQLNonNull)]
        given_fields = st.fixed_dictionaries(
            {name: fields[name] for name in wanted},
            optional={**{name: s for name, s in fields.items() if name not in wanted}, "notAField": anything},
        )
        return st.one_of(given_fields, given_fields, given_fields, anything)
    if isinstance(type_, GraphQLEnumType):
        return st.one_of(st.sampled_from(list(type_.values)), anything)
    return st.one_of(st.just(MINIMAL_SCALARS.get(type_.name, "x")), st.text(max_size=6), st.integers(), anything)


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[GraphQLInputType, Any]:
    type_ = draw(st.sampled_from(TYPES))
    return type_, draw(values_of(type_))


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(typed=typed_values())
def test_compiled_coercion_equals_graphql_cores(typed: tuple[GraphQLInputType, Any]) -> None:
    type_, value = typed
    expected, got = coerce_input_value(value, type_), variable_coercion.coercer(type_)(value)
    assert (got is Undefined) == (expected is Undefined), (str(type_), value)
    assert repr(got) == repr(expected), (str(type_), value)  # the same values of the same types (1, 1.0, True)


def test_the_batch_variable_coerces_to_the_same_values() -> None:
    [definition] = parse(
        "mutation($i: [TrackUsageInput!]!) { trackUsageBatch(inputs: $i) { insertedCount } }"
    ).definitions
    nodes = definition.variable_definitions  # type: ignore[attr-defined]
    event = {"workspaceId": "w0", "provider": "openai", "model": "gpt-4o", "promptTokens": 10, "completionTokens": 2,
             "occurredAt": "2026-12-01T10:00:00+14:00", "costUsd": "0.000012345678901234567890", "tags": {"a": "b"}}  # fmt: skip
    ours = variable_coercion.get_variable_values(SCHEMA, nodes, {"i": [event] * 3})
    theirs = variable_coercion.GENERIC_GET_VARIABLE_VALUES(SCHEMA, nodes, {"i": [event] * 3})
    assert not isinstance(ours, list) and plain(ours) == plain(theirs)
    assert str(ours.coerced["i"][0]["costUsd"]) == "0.000012345678901234567890"


def test_missing_wrong_and_defaulted_variables_get_graphql_cores_own_answer() -> None:
    [definition] = parse(
        "query($n: Int = 7, $m: Int!, $s: String) { __typename @include(if: true) }"
    ).definitions  # variables need not be used to be coerced
    nodes = definition.variable_definitions  # type: ignore[attr-defined]
    for inputs in ({"m": 1}, {"m": "one"}, {}, {"m": 1, "s": None}, {"m": 1, "n": None, "s": "x"}):
        ours = variable_coercion.get_variable_values(SCHEMA, nodes, inputs, max_errors=50)
        theirs = variable_coercion.GENERIC_GET_VARIABLE_VALUES(SCHEMA, nodes, inputs, max_errors=50)
        assert plain(ours) == plain(theirs), inputs


def test_the_executor_runs_it_once_a_schema_is_built() -> None:
    build_schema()
    assert graphql_executor.get_variable_values is variable_coercion.get_variable_values  # type: ignore[attr-defined]


def test_only_types_that_contain_themselves_are_walked_for_depth() -> None:
    batch = GraphQLNonNull(GraphQLList(GraphQLNonNull(SCHEMA.get_type("TrackUsageInput"))))  # type: ignore[arg-type]
    assert variable_coercion.nesting_depth(batch) == 2  # the list, then the object (its JSON tags are a scalar)
    assert not variable_coercion.may_nest_too_deeply(batch)
    looped = GraphQLInputObjectType("Looped", lambda: {"next": looped_field, "n": int_field})
    from graphql import GraphQLInputField, GraphQLInt

    looped_field, int_field = GraphQLInputField(looped), GraphQLInputField(GraphQLInt)
    assert variable_coercion.nesting_depth(looped) is None and variable_coercion.may_nest_too_deeply(looped)
