"""GraphQL types of sessions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

import strawberry

from modules.core.pagination import PageInfo, encode_cursor
from modules.core.scalars import BigInt
from modules.usage.records import SessionStats, SessionSummary
from modules.usage.types import UsageEventType


@strawberry.enum
class SessionStatus(Enum):
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"


@strawberry.type(name="Session", description="The calls of one session (conversation, agent run…), summed.")
class SessionType:
    id: str
    status: SessionStatus
    calls: BigInt
    error_count: BigInt
    prompt_tokens: BigInt
    completion_tokens: BigInt
    total_tokens: BigInt
    cost_usd: Decimal
    user_ids: list[str]
    first_event_at: datetime
    last_event_at: datetime
    duration_ms: BigInt = strawberry.field(description="From its first to its last event.")
    completed_at: datetime | None
    workspace_id: strawberry.Private[UUID]

    @strawberry.field(description="Its events in time order (at most 1,000), batched across sessions.")
    async def events(self, info: strawberry.Info) -> list[UsageEventType]:
        events = await info.context.session_events_loader.load((self.workspace_id, self.id))
        return [UsageEventType.from_model(e) for e in events]

    @classmethod
    def from_model(cls, summary: SessionSummary) -> SessionType:
        return cls(
            id=summary.session_id,
            status=SessionStatus.COMPLETED if summary.completed_at else SessionStatus.OPEN,
            calls=BigInt(summary.calls),
            error_count=BigInt(summary.error_count),
            prompt_tokens=BigInt(summary.prompt_tokens),
            completion_tokens=BigInt(summary.completion_tokens),
            total_tokens=BigInt(summary.total_tokens),
            cost_usd=summary.cost_usd,
            user_ids=summary.user_ids,
            first_event_at=summary.first_event_at,
            last_event_at=summary.last_event_at,
            duration_ms=BigInt(summary.duration_ms),
            completed_at=summary.completed_at,
            workspace_id=summary.workspace_id,
        )


@strawberry.type(
    description="What completeSession did: the session's state, and the session itself for a key that may READ."
)
class CompleteSessionPayload:
    id: str
    status: SessionStatus
    completed_at: datetime | None
    session: SessionType | None = strawberry.field(
        description="The whole session (users, costs, events); null for a key without READ, which only writes."
    )

    @classmethod
    def from_model(cls, summary: SessionSummary, *, readable: bool) -> CompleteSessionPayload:
        session = SessionType.from_model(summary)
        return cls(
            id=session.id,
            status=session.status,
            completed_at=session.completed_at,
            session=session if readable else None,
        )


def session_cursor(summary: SessionSummary) -> str:
    return encode_cursor(summary.last_event_at.isoformat(), summary.session_id)


@strawberry.type
class SessionEdge:
    cursor: str
    node: SessionType


@strawberry.type
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo


@strawberry.type(name="SessionStats", description="Averages over the sessions with events in the filter.")
class SessionStatsType:
    sessions: BigInt
    avg_calls: float | None
    avg_duration_ms: float | None
    avg_cost_usd: Decimal | None

    @classmethod
    def from_model(cls, stats: SessionStats) -> SessionStatsType:
        return cls(
            sessions=BigInt(stats.sessions),
            avg_calls=stats.avg_calls,
            avg_duration_ms=stats.avg_duration_ms,
            avg_cost_usd=stats.avg_cost_usd,
        )
