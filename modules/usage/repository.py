"""SQL that writes and reads single usage events (sums live in aggregation.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Select, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.dataclass_builder import build_dataclass
from modules.providers import CostSource, PricedCost
from modules.usage.filter.conditions import filter_conditions
from modules.usage.models import UsageEventRow
from modules.usage.records import NewUsageEvent, UsageEvent, UsageFilterSpec, UsageStatus

# The columns an insert writes: every field of a new event (all but the id); their types are the table's own.
INSERT_COLUMNS = tuple(f.name for f in fields(NewUsageEvent))
EVENT_COLUMNS = [f.name for f in fields(UsageEvent)]

# One statement whatever the batch size, its one parameter the events as a JSON array of objects, read into rows
# of the table's own type by PostgreSQL. It was one array per column (unnest): asyncpg's array encoder tests every
# element against collections.abc (~10 µs of Python an event); orjson writes the batch in ~1 µs an event.
# Each event gets its id first, claims its (workspace, request id) in usage_request_keys (the idempotency key: a
# partitioned usage_events has no unique index of its own on it), and only the events whose key was new are
# inserted. A key another transaction holds uncommitted waits for it, as a unique index would.
ID_SEQUENCE = "usage_events_id_seq"  # the identity's sequence, named by PostgreSQL after the table and column
INSERT_SQL = text(
    f"WITH given AS MATERIALIZED (SELECT nextval('{ID_SEQUENCE}') AS id, "
    f"{', '.join(f't.{c}' for c in INSERT_COLUMNS)} "
    "FROM json_populate_recordset(NULL::usage_events, CAST(:events AS json)) AS t), "
    "claimed AS (INSERT INTO usage_request_keys (workspace_id, request_id, event_id, occurred_at) "
    "SELECT workspace_id, request_id, id, occurred_at FROM given ON CONFLICT DO NOTHING RETURNING event_id) "
    f"INSERT INTO usage_events (id, {', '.join(INSERT_COLUMNS)}) OVERRIDING SYSTEM VALUE "
    f"SELECT {', '.join(f'given.{c}' for c in ('id', *INSERT_COLUMNS))} "
    "FROM given JOIN claimed ON claimed.event_id = given.id "
    f"RETURNING {', '.join(EVENT_COLUMNS)}"
)

# Stored events by key: each key's row, then its event in the key's month (pruned to one partition a key).
FIND_BY_KEYS_SQL = text(
    f"SELECT {', '.join(f'e.{c}' for c in EVENT_COLUMNS)} FROM usage_request_keys AS k "
    "JOIN usage_events AS e ON e.id = k.event_id AND e.occurred_at = k.occurred_at "
    "WHERE (k.workspace_id, k.request_id) IN "
    "(SELECT * FROM unnest(CAST(:workspaces AS uuid[]), CAST(:requests AS text[])))"
)


UPDATE_COSTS_SQL = text(
    "UPDATE usage_events AS e SET input_cost_usd = c.input, output_cost_usd = c.output, cost_usd = c.total, "
    "cost_source = c.source "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:inputs AS numeric[]), CAST(:outputs AS numeric[]), "
    "CAST(:totals AS numeric[]), CAST(:sources AS text[])) AS c(id, input, output, total, source) "
    "WHERE e.id = c.id AND e.occurred_at BETWEEN :earliest AND :latest"  # the span: pruned to its months
)

UPDATE_CATALOGUE_MODELS_SQL = text(
    "UPDATE usage_events AS e SET catalogue_model = c.model "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:models AS text[])) AS c(id, model) "
    "WHERE e.id = c.id AND e.occurred_at BETWEEN :earliest AND :latest"
)


def event_from_row(row: Sequence[Any]) -> UsageEvent:
    """The event of a row holding EVENT_COLUMNS in their order (every statement here selects them so)."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    values["cost_source"] = CostSource(values["cost_source"])
    values["status"] = UsageStatus(values["status"])
    return build_dataclass(UsageEvent, values)


def event_from_mapping(row: Any) -> UsageEvent:
    """The event of a row holding EVENT_COLUMNS by name, among others."""
    return event_from_row([row[name] for name in EVENT_COLUMNS])


INSERTED_VALUES = attrgetter(*INSERT_COLUMNS)


def json_value(value: object) -> str:
    """The JSON text of the values the encoders do not write themselves, as PostgreSQL reads them."""
    if isinstance(value, datetime):
        return value.isoformat()  # with its offset: timestamptz keeps the instant
    if isinstance(value, UUID | Decimal):
        return str(value)  # a Decimal exactly, exponent and all ('0E-10'), never through a float
    raise TypeError(f"cannot store {type(value).__name__} in usage_events")


def insert_parameters(events: Sequence[NewUsageEvent]) -> dict[str, str]:
    """The events as the JSON array INSERT_SQL reads: an object an event, keyed by column. orjson writes UUIDs
    and instants (RFC 3339, offset kept) itself, ~0.8 µs an event; the standard library's json, ~13 µs, only for
    what orjson refuses (an integer beyond 64 bits, which validation leaves no column to hold)."""
    rows = [dict(zip(INSERT_COLUMNS, INSERTED_VALUES(event), strict=True)) for event in events]
    try:
        return {"events": orjson.dumps(rows, default=json_value).decode()}
    except orjson.JSONEncodeError:
        return {"events": json.dumps(rows, default=json_value, ensure_ascii=False, separators=(",", ":"))}


def span_parameters(within: tuple[datetime, datetime]) -> dict[str, datetime]:
    return {"earliest": within[0], "latest": within[1]}


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
        parameters = {"workspaces": [w for w, _ in keys], "requests": [r for _, r in keys]}
        return [event_from_row(row) for row in await session.execute(FIND_BY_KEYS_SQL, parameters)]

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
            # the plain bound too: PostgreSQL prunes partitions by it, not by the row comparison
            statement = statement.where(
                tuple_(UsageEventRow.occurred_at, UsageEventRow.id) < before, UsageEventRow.occurred_at <= before[0]
            )
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

    async def set_catalogue_models(
        self, session: AsyncSession, models: dict[int, str | None], *, within: tuple[datetime, datetime]
    ) -> None:
        """Each event's catalogue model (event id → the catalogue's id of its model, None: not in it); `within`
        spans the events' occurred_at."""
        if models:
            parameters = {"ids": list(models), "models": list(models.values())}
            await session.execute(UPDATE_CATALOGUE_MODELS_SQL, {**parameters, **span_parameters(within)})

    async def set_costs(
        self, session: AsyncSession, costs: dict[int, PricedCost], *, within: tuple[datetime, datetime]
    ) -> None:
        """Each event's costs (event id → its cost); `within` spans the events' occurred_at."""
        if not costs:
            return
        await session.execute(
            UPDATE_COSTS_SQL,
            {
                **span_parameters(within),
                "ids": list(costs),
                "inputs": [c.input_cost_usd for c in costs.values()],
                "outputs": [c.output_cost_usd for c in costs.values()],
                "totals": [c.cost_usd for c in costs.values()],
                "sources": [c.source.value for c in costs.values()],
            },
        )
