"""Lists of scalars completed in one pass (service/leaf_lists.py) answer as graphql-core's own completion does:
the same data and the same errors, with their messages and paths, for lists of every kind of item — values
each scalar takes, values it refuses, nulls in nullable and non-null lists, exceptions, awaitables."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLStreamDirective,
    GraphQLString,
    execute,
    experimental_execute_incrementally,
    parse,
    specified_directives,
)
from graphql.execution import Executor
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from hypothesis import given, settings
from hypothesis import strategies as st

from service.graphql import LlmUsageExecutor, build_schema
from service.leaf_lists import LeafListCompletion

SERVED = build_schema()
SCALARS = {name: SERVED._schema.get_type(name) for name in ("BigInt", "Decimal", "DateTime", "JSON")}
# A scalar that answers null for some values (graphql-core refuses that in a list of non-null items).
NULLING = GraphQLScalarType("Nulling", serialize=lambda value: None if value == "" else value)


class Color(Enum):
    RED = "RED"


LEAVES: dict[str, Any] = {
    "Int": GraphQLInt,
    "Float": GraphQLFloat,
    "String": GraphQLString,
    "Color": GraphQLEnumType("Color", Color),
    "Nulling": NULLING,
    **SCALARS,
}
ITEMS = [
    0, 1, -(2**31), 2**31, 2**63, -(2**63) - 1, 1.5, float("nan"), float("inf"), True, "", "x", "\x00", "12",
    Decimal("0.0035000000"), Decimal("0E-10"), Decimal("1E+2"), Decimal("NaN"), Color.RED, "RED",
    datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 3), None, ValueError("planted"), [], {},
]  # fmt: skip


def field_type(leaf: str, non_null_items: bool) -> GraphQLOutputType:
    item = GraphQLNonNull(LEAVES[leaf]) if non_null_items else LEAVES[leaf]
    return GraphQLList(item)


def schema_for(
    leaf: str, non_null_items: bool, items: list[Any], awaited: set[int], *, streaming: bool = False
) -> GraphQLSchema:
    def resolve(*_: Any) -> list[Any]:
        async def later(value: Any) -> Any:
            return value

        return [later(item) if i in awaited else item for i, item in enumerate(items)]

    query = GraphQLObjectType("Query", {"values": GraphQLField(field_type(leaf, non_null_items), resolve=resolve)})
    return GraphQLSchema(query, directives=[*specified_directives, *([GraphQLStreamDirective] if streaming else [])])


def answer(schema: GraphQLSchema, executor: type[Executor]) -> tuple[Any, list[tuple[str, Any]]]:
    async def run() -> Any:  # in a running loop, where graphql-core settles the awaitables it leaves
        result: Any = execute(schema, parse("{ values }"), executor_class=executor)
        result = result if hasattr(result, "data") else await result
        await asyncio.sleep(0)
        return result

    result = asyncio.run(run())
    return result.data, [(error.message, error.path) for error in result.errors or ()]


class OnePass(LeafListCompletion):
    """LeafListCompletion on graphql-core's executor alone (the served one adds strawberry's)."""


@settings(max_examples=400, deadline=None)
@given(
    leaf=st.sampled_from(sorted(LEAVES)),
    non_null_items=st.booleans(),
    items=st.lists(st.sampled_from(ITEMS), max_size=6),
    awaited=st.sets(st.integers(0, 5), max_size=2),
)
def test_one_pass_answers_as_graphql_core(leaf: str, non_null_items: bool, items: list[Any], awaited: set[int]) -> None:
    schema = schema_for(leaf, non_null_items, items, awaited)
    expected = answer(schema, Executor)
    assert answer(schema_for(leaf, non_null_items, items, awaited), OnePass) == expected


def test_valid_lists_take_the_one_pass_and_refused_ones_graphql_cores() -> None:
    taken: list[bool] = []

    class Watched(OnePass):
        def completed_leaves(self, coerce: Any, non_null: bool, items: list[Any]) -> list[Any] | None:
            completed = super().completed_leaves(coerce, non_null, items)
            taken.append(completed is not None)
            return completed

    assert answer(schema_for("BigInt", True, [1, 2**40], set()), Watched) == ({"values": [1, 2**40]}, [])
    assert answer(schema_for("Decimal", False, [Decimal("0.50"), None], set()), Watched) == (
        {"values": ["0.5", None]},
        [],
    )
    data, errors = answer(schema_for("Int", True, [1, 2**31], set()), Watched)
    assert data == {"values": None}
    assert errors == [("Int cannot represent non 32-bit signed integer value: 2147483648", ["values", 1])]
    assert taken == [True, True, False]


def test_a_streamed_list_is_left_to_graphql_core() -> None:
    def first_payload(executor: type[Executor]) -> Any:
        schema = schema_for("Int", True, [1, 2, 3], set(), streaming=True)
        result: Any = experimental_execute_incrementally(
            schema, parse("{ values @stream(initialCount: 1) }"), executor_class=executor
        )
        return result.initial_result.data

    class StreamingOnePass(LeafListCompletion, IncrementalExecutor):
        pass

    assert first_payload(IncrementalExecutor) == {"values": [1]}
    assert first_payload(StreamingOnePass) == {"values": [1]}


def test_the_served_schema_completes_lists_in_one_pass() -> None:
    assert SERVED.execution_context_class is LlmUsageExecutor
    assert issubclass(LlmUsageExecutor, LeafListCompletion)
