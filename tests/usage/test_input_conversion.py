"""TrackUsageInput is built from graphql-core's coerced value through a plan made once (conversion.py): the same
object strawberry's own conversion builds, for any input the schema accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, coerce_input_value
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import convert_argument

from modules.usage.ingest.conversion import planned_conversion
from modules.usage.ingest.inputs import TrackUsageInput
from modules.usage.records import UsageStatus
from service.graphql import build_schema

SCHEMA = build_schema()
TEXT = st.text(max_size=8)
INT = st.integers(min_value=-(2**31), max_value=2**31 - 1)
JSON = st.recursive(
    st.none() | st.booleans() | INT | TEXT, lambda inner: st.dictionaries(TEXT, inner, max_size=3), max_leaves=6
)
OPTIONAL_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "model": TEXT,
    "promptTokens": INT,
    "completionTokens": INT,
    "rawUsage": JSON,
    "apiFlavor": TEXT,
    "usageKinds": JSON,
    "requestId": TEXT,
    "occurredAt": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    "providerInstanceId": TEXT,
    "taskType": TEXT,
    "userId": TEXT,
    "sessionId": TEXT,
    "totalTokens": INT,
    "cachedPromptTokens": INT,
    "cacheWriteTokens": INT,
    "reasoningTokens": INT,
    # within the Decimal scalar's range (1e30): graphql-core refuses a larger one before any conversion
    "costUsd": st.decimals(min_value=-(10**30), max_value=10**30, places=6).map(str),
    "durationMs": INT,
    "timeToFirstTokenMs": INT,
    "status": st.sampled_from(["SUCCESS", "ERROR"]),
    "errorType": TEXT,
    "errorMessage": TEXT,
    "retryCount": INT,
    "streamed": st.booleans(),
    "tags": JSON,
}
INPUTS = st.fixed_dictionaries(
    {"workspaceId": TEXT, "provider": TEXT},
    optional={name: st.none() | values for name, values in OPTIONAL_FIELDS.items()},
)


def coerced(value: object, type_name: str) -> Any:
    graphql_type = SCHEMA._schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    return coerce_input_value(value, GraphQLNonNull(graphql_type))


def converted(value: object, cls: type, *, planned: bool) -> Any:
    """`value` converted by strawberry with the type's planned hook, or with strawberry's own field loop."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    hook = definition.from_input
    definition.from_input = hook if planned else None
    try:
        return convert_argument(value, cls, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
    finally:
        definition.from_input = hook


@settings(max_examples=300, deadline=None)
@given(INPUTS)
def test_the_planned_conversion_builds_what_strawberry_builds(given_input: dict[str, Any]) -> None:
    value = coerced(given_input, "TrackUsageInput")
    planned = converted(value, TrackUsageInput, planned=True)
    assert type(planned) is TrackUsageInput
    assert vars(planned) == vars(converted(value, TrackUsageInput, planned=False))


def test_values_arrive_typed_and_omitted_fields_are_none() -> None:
    value = coerced(
        {
            "workspaceId": "w",
            "provider": "openai",
            "costUsd": "0.25",
            "status": "ERROR",
            "occurredAt": "2026-01-02T03:04:05Z",
        },
        "TrackUsageInput",
    )
    built = converted(value, TrackUsageInput, planned=True)
    assert (built.workspace_id, built.provider, built.cost_usd, built.status) == (
        "w",
        "openai",
        Decimal("0.25"),
        UsageStatus.ERROR,
    )
    assert built.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (built.model, built.prompt_tokens, built.raw_usage, built.tags) == (None, None, None, None)


@strawberry.input
class Item:
    name: str
    count: int = 1


@planned_conversion
@strawberry.input
class Order:
    """Fields strawberry itself must still convert: nested inputs, lists of them, a GlobalID."""

    owner: GlobalID
    items: list[Item]
    first: Item | None = None
    note: str | None = None


@strawberry.type
class OrderQuery:
    @strawberry.field
    def total(self, order: Order) -> int:
        return sum(item.count for item in order.items) + (order.first.count if order.first else 0)


def test_nested_inputs_and_global_ids_are_left_to_strawberry() -> None:
    schema = strawberry.Schema(query=OrderQuery)
    owner = str(GlobalID("User", "7"))
    result = schema.execute_sync(
        "query($o: Order!) { total(order: $o) }",
        variable_values={
            "o": {"owner": owner, "items": [{"name": "a", "count": 2}, {"name": "b"}], "first": {"name": "c"}}
        },
    )
    assert result.errors is None
    assert result.data == {"total": 4}
    value = coerce_input_value(
        {"owner": owner, "items": [{"name": "a", "count": 2}], "note": None},
        GraphQLNonNull(schema._schema.get_type("Order")),  # type: ignore[arg-type]
    )
    definition = Order.__strawberry_definition__  # type: ignore[attr-defined]
    planned = convert_argument(value, Order, schema.schema_converter.scalar_registry, schema.config)
    hook, definition.from_input = definition.from_input, None
    try:
        plain = convert_argument(value, Order, schema.schema_converter.scalar_registry, schema.config)
    finally:
        definition.from_input = hook
    assert vars(planned) == vars(plain)
    assert planned.owner == GlobalID("User", "7")
    assert [vars(item) for item in planned.items] == [{"name": "a", "count": 2}]
    assert planned.first is None


def test_a_list_of_inputs_is_built_one_by_one() -> None:
    list_type = GraphQLNonNull(GraphQLList(GraphQLNonNull(SCHEMA._schema.get_type("TrackUsageInput"))))  # type: ignore[arg-type]
    value = coerce_input_value([{"workspaceId": "w", "provider": "p", "promptTokens": n} for n in range(3)], list_type)
    annotation = strawberry.annotation.StrawberryAnnotation(list[TrackUsageInput]).resolve()
    built = convert_argument(value, annotation, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
    assert [item.prompt_tokens for item in built] == [0, 1, 2]  # type: ignore[attr-defined]
