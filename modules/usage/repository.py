"""SQL that writes and reads single usage events (sums live in aggregation.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.frozen import build_frozen
from modules.providers import CostSource, PricedCost
from modules.usage.filter.conditions import filter_conditions
from modules.usage.models import UsageEventRow
from modules.usage.records import NewUsageEvent, UsageEvent, UsageFilterSpec, UsageStatus

# Column → Postgres array type for the unnest() insert; tags travel as text and are cast to jsonb.
INSERT_COLUMNS: dict[str, str] = {
    "workspace_id": "uuid",
    "request_id": "text",
    "occurred_at": "timestamptz",
    "received_at": "timestamptz",
    "provider": "text",
    "model": "text",
    "provider_instance_id": "uuid",
    "task_type": "text",
    "user_id": "text",
    "session_id": "text",
    "prompt_tokens": "bigint",
    "completion_tokens": "bigint",
    "total_tokens": "bigint",
    "cached_prompt_tokens": "bigint",
    "cache_write_tokens": "bigint",
    "reasoning_tokens": "bigint",
    "input_cost_usd": "numeric",
    "output_cost_usd": "numeric",
    "cost_usd": "numeric",
    "cost_source": "text",
    "duration_ms": "integer",
    "time_to_first_token_ms": "integer",
    "status": "text",
    "error_type": "text",
    "error_message": "text",
    "retry_count": "integer",
    "streamed": "boolean",
    "tags": "text",
    "audio_tokens": "bigint",
    "usage_kinds": "text",
    "catalogue_model": "text",
}
JSON_COLUMNS = ("tags", "usage_kinds")  # sent as text, cast to jsonb
EVENT_COLUMNS = [f.name for f in fields(UsageEvent)]

# One statement whatever the batch size: 31 array parameters, so the plan is prepared once and reused.
INSERT_SQL = text(
    f"INSERT INTO usage_events ({', '.join(INSERT_COLUMNS)}) "
    f"SELECT {', '.join(f't.{c}::jsonb' if c in JSON_COLUMNS else 't.' + c for c in INSERT_COLUMNS)} "
    f"FROM unnest({', '.join(f'CAST(:{c} AS {t}[])' for c, t in INSERT_COLUMNS.items())}) "
    f"AS t({', '.join(INSERT_COLUMNS)}) "
    f"ON CONFLICT (workspace_id, request_id) DO NOTHING "
    f"RETURNING {', '.join(EVENT_COLUMNS)}"
)


UPDATE_COSTS_SQL = text(
    "UPDATE usage_events AS e SET input_cost_usd = c.input, output_cost_usd = c.output, cost_usd = c.total, "
    "cost_source = c.source "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:inputs AS numeric[]), CAST(:outputs AS numeric[]), "
    "CAST(:totals AS numeric[]), CAST(:sources AS text[])) AS c(id, input, output, total, source) "
    "WHERE e.id = c.id"
)

UPDATE_CATALOGUE_MODELS_SQL = text(
    "UPDATE usage_events AS e SET catalogue_model = c.model "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:models AS text[])) AS c(id, model) WHERE e.id = c.id"
)


def event_from_row(row: Sequence[Any]) -> UsageEvent:
    """The event of a row holding EVENT_COLUMNS in their order (every statement here selects them so)."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    values["cost_source"] = CostSource(values["cost_source"])
    values["status"] = UsageStatus(values["status"])
    return build_frozen(UsageEvent, values)


def event_from_mapping(row: Any) -> UsageEvent:
    """The event of a row holding EVENT_COLUMNS by name, among others."""
    return event_from_row([row[name] for name in EVENT_COLUMNS])


INSERTED_VALUES = attrgetter(*INSERT_COLUMNS)


def insert_parameters(events: Sequence[NewUsageEvent]) -> dict[str, list[Any]]:
    """One array a column: the events' values read a tuple an event, then turned into columns (the column
    loop in Python cost ~6 µs an event)."""
    columns = zip(*map(INSERTED_VALUES, events), strict=True) if events else ((),) * len(INSERT_COLUMNS)
    parameters = {name: list(values) for name, values in zip(INSERT_COLUMNS, columns, strict=True)}
    for name in JSON_COLUMNS:
        parameters[name] = [EMPTY_JSON_OBJECT if value == {} else json.dumps(value) for value in parameters[name]]
    return parameters


EMPTY_JSON_OBJECT = "{}"  # most events' tags or usage kinds: json.dumps costs ~1 µs even for it


class UsageRepository:
    async def insert_many(self, session: AsyncSession, events: Sequence[NewUsageEvent]) -> list[UsageEvent]:
        """Store the events whose (workspace, request id) is new; return those stored now. Inserted in key order,
        so concurrent batches sharing request ids wait on one another instead of deadlocking."""
        if not events:
            return []
        ordered = sorted(events, key=lambda e: (e.workspace_id, e.request_id))
        result = await session.execute(INSERT_SQL, insert_parameters(ordered))
        return [event_from_row(row) for row in result]

    async def find_by_request_ids(self, session: AsyncSession, keys: Sequence[tuple[UUID, str]]) -> list[UsageEvent]:
        if not keys:
            return []
        key = tuple_(UsageEventRow.workspace_id, UsageEventRow.request_id)
        statement = select(*[getattr(UsageEventRow, c) for c in EVENT_COLUMNS]).where(key.in_(list(keys)))
        result = await session.execute(statement)
        return [event_from_row(row) for row in result]

    async def by_ids(self, session: AsyncSession, ids: Sequence[int], spec: UsageFilterSpec) -> list[UsageEvent]:
        """The events among `ids` that match the filter, in id order."""
        statement = (
            select(*[getattr(UsageEventRow, c) for c in EVENT_COLUMNS])
            .where(UsageEventRow.id.in_(list(ids)), *filter_conditions(spec))
            .order_by(UsageEventRow.id)
        )
        return [event_from_row(row) for row in (await session.execute(statement))]

    def page_statement(self, spec: UsageFilterSpec, *, before: tuple[datetime, int] | None, limit: int) -> Select[Any]:
        statement: Select[Any] = select(*[getattr(UsageEventRow, c) for c in EVENT_COLUMNS]).where(
            *filter_conditions(spec)
        )
        if before is not None:
            statement = statement.where(tuple_(UsageEventRow.occurred_at, UsageEventRow.id) < before)
        return statement.order_by(UsageEventRow.occurred_at.desc(), UsageEventRow.id.desc()).limit(limit)

    async def page(
        self, session: AsyncSession, spec: UsageFilterSpec, *, before: tuple[datetime, int] | None, limit: int
    ) -> list[UsageEvent]:
        """Events newest first (by occurred_at, then id), the `limit` after the keyset position `before`."""
        result = await session.execute(self.page_statement(spec, before=before, limit=limit))
        return [event_from_row(row) for row in result]

    async def occurred_at_of(self, session: AsyncSession, spec: UsageFilterSpec, *, position: int) -> datetime | None:
        """When the filtered event at `position` (0: the first) in the order `stream` gives happened; None when
        fewer match. Reads `position` + 1 entries of the (workspace, occurred_at, id) index."""
        statement = (
            select(UsageEventRow.occurred_at)
            .where(*filter_conditions(spec))
            .order_by(UsageEventRow.occurred_at, UsageEventRow.id)
            .offset(position)
            .limit(1)
        )
        return (await session.execute(statement)).scalar_one_or_none()

    async def stream(self, session: AsyncSession, spec: UsageFilterSpec) -> AsyncGenerator[UsageEvent, None]:
        """Every filtered event, oldest first, read through a server-side cursor in chunks of 500 (each
        decoded in one go: a few ms of the event loop)."""
        statement = (
            select(*[getattr(UsageEventRow, c) for c in EVENT_COLUMNS])
            .where(*filter_conditions(spec))
            .order_by(UsageEventRow.occurred_at, UsageEventRow.id)
            .execution_options(yield_per=500)
        )
        connection = await session.connection()
        result = await connection.stream(statement)
        async for partition in result.partitions():
            for row in partition:
                yield event_from_row(row)

    async def priced_by_us(
        self, session: AsyncSession, spec: UsageFilterSpec, *, after_id: int, limit: int
    ) -> list[UsageEvent]:
        """Events whose cost this service computed (not the caller), in id order, after `after_id`."""
        statement = (
            select(*[getattr(UsageEventRow, c) for c in EVENT_COLUMNS])
            .where(*filter_conditions(spec), UsageEventRow.cost_source != CostSource.CALLER.value)
            .where(UsageEventRow.id > after_id)
            .order_by(UsageEventRow.id)
            .limit(limit)
            .with_for_update()
        )
        return [event_from_row(row) for row in (await session.execute(statement))]

    async def set_catalogue_models(self, session: AsyncSession, models: dict[int, str | None]) -> None:
        """Each event's catalogue model (event id → the catalogue's id of its model, None: not in it)."""
        if models:
            await session.execute(UPDATE_CATALOGUE_MODELS_SQL, {"ids": list(models), "models": list(models.values())})

    async def set_costs(self, session: AsyncSession, costs: dict[int, PricedCost]) -> None:
        if not costs:
            return
        await session.execute(
            UPDATE_COSTS_SQL,
            {
                "ids": list(costs),
                "inputs": [c.input_cost_usd for c in costs.values()],
                "outputs": [c.output_cost_usd for c in costs.values()],
                "totals": [c.cost_usd for c in costs.values()],
                "sources": [c.source.value for c in costs.values()],
            },
        )
