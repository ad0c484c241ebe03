"""SQL of sessions: per-session sums of events, session state, and a session's events."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Float, Select, and_, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from modules.providers import quantize
from modules.usage.filter.conditions import filter_conditions
from modules.usage.models import SessionRow
from modules.usage.models import UsageEventRow as Event
from modules.usage.records import SessionStats, SessionSummary, UsageEvent, UsageFilterSpec
from modules.usage.repository import EVENT_COLUMNS, event_from_mapping

MAX_EVENTS_PER_SESSION = 1000


def per_session(spec: UsageFilterSpec) -> Any:
    """Sums of each session's filtered events, with its state: a subquery."""
    grouped = (
        select(
            Event.session_id,
            func.count().label("calls"),
            func.count().filter(Event.status == "ERROR").label("error_count"),
            *[
                func.coalesce(func.sum(getattr(Event, c)), 0).cast(BigInteger).label(c)
                for c in ("prompt_tokens", "completion_tokens", "total_tokens")
            ],
            func.coalesce(func.sum(Event.cost_usd), 0).label("cost_usd"),
            func.coalesce(
                func.array_agg(Event.user_id.distinct()).filter(Event.user_id.is_not(None)),
                literal_column("ARRAY[]::text[]"),
            ).label("user_ids"),
            func.min(Event.occurred_at).label("first_event_at"),
            func.max(Event.occurred_at).label("last_event_at"),
        )
        .where(*filter_conditions(spec), Event.session_id.is_not(None))
        .group_by(Event.session_id)
        .subquery("per_session")
    )
    return (
        select(grouped, SessionRow.completed_at)
        .outerjoin(
            SessionRow,
            and_(SessionRow.workspace_id == spec.workspace_id, SessionRow.session_id == grouped.c.session_id),
        )
        .subquery("sessions_of")
    )


def summary_from_row(workspace_id: UUID, row: Any) -> SessionSummary:
    return SessionSummary(
        workspace_id=workspace_id,
        session_id=row.session_id,
        calls=row.calls,
        error_count=row.error_count,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.total_tokens,
        cost_usd=row.cost_usd,
        user_ids=sorted(row.user_ids),
        first_event_at=row.first_event_at,
        last_event_at=row.last_event_at,
        completed_at=row.completed_at,
    )


class SessionRepository:
    def page_statement(self, spec: UsageFilterSpec, *, before: tuple[datetime, str] | None, limit: int) -> Select[Any]:
        sessions = per_session(spec)
        statement = select(sessions)
        if before is not None:
            statement = statement.where(tuple_(sessions.c.last_event_at, sessions.c.session_id) < before)
        return statement.order_by(sessions.c.last_event_at.desc(), sessions.c.session_id.desc()).limit(limit)

    async def page(
        self, session: AsyncSession, spec: UsageFilterSpec, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[SessionSummary]:
        """Sessions by their last event, newest first, after the keyset position `before`."""
        rows = await session.execute(self.page_statement(spec, before=before, limit=limit))
        return [summary_from_row(spec.workspace_id, row) for row in rows]

    async def stats(self, session: AsyncSession, spec: UsageFilterSpec) -> SessionStats:
        sessions = per_session(spec)
        duration_ms = func.extract("epoch", sessions.c.last_event_at - sessions.c.first_event_at) * 1000
        statement = select(
            func.count().label("sessions"),
            func.avg(sessions.c.calls).cast(Float).label("avg_calls"),
            func.avg(duration_ms).cast(Float).label("avg_duration_ms"),
            func.avg(sessions.c.cost_usd).label("avg_cost_usd"),
        )
        row = (await session.execute(statement)).one()
        avg_cost: Decimal | None = row.avg_cost_usd
        return SessionStats(
            sessions=row.sessions,
            avg_calls=row.avg_calls,
            avg_duration_ms=row.avg_duration_ms,
            avg_cost_usd=quantize(avg_cost) if avg_cost is not None else None,
        )

    async def complete(self, session: AsyncSession, *, workspace_id: UUID, session_id: str) -> None:
        """Mark completed; completing again keeps the first time."""
        statement = insert(SessionRow).values(
            workspace_id=workspace_id, session_id=session_id, completed_at=datetime.now(UTC)
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[SessionRow.workspace_id, SessionRow.session_id],
                set_={"completed_at": func.coalesce(SessionRow.completed_at, statement.excluded.completed_at)},
            )
        )

    def events_statement(self, workspace_id: UUID, session_ids: Collection[str]) -> Select[Any]:
        ranked = (
            select(
                *[getattr(Event, c) for c in EVENT_COLUMNS],
                func.row_number()
                .over(partition_by=Event.session_id, order_by=(Event.occurred_at, Event.id))
                .label("position"),
            )
            .where(Event.workspace_id == workspace_id, Event.session_id.in_(list(session_ids)))
            .subquery()
        )
        return (
            select(ranked)
            .where(ranked.c.position <= MAX_EVENTS_PER_SESSION)
            .order_by(ranked.c.session_id, ranked.c.occurred_at, ranked.c.id)
        )

    async def events(
        self, session: AsyncSession, workspace_id: UUID, session_ids: Collection[str]
    ) -> dict[str, list[UsageEvent]]:
        """The events of several sessions in one query, each in time order (at most 1,000 a session)."""
        statement = self.events_statement(workspace_id, session_ids)
        found: dict[str, list[UsageEvent]] = {}
        for row in (await session.execute(statement)).mappings():
            found.setdefault(row["session_id"], []).append(event_from_mapping(row))
        return found
