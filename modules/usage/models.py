"""Tables of the usage module: one row per LLM call."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    FromClause,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.database import Base

MONEY = Numeric(20, 10)


class UsageEventRow(Base):
    """Costs are NULL when unknown (UNKNOWN_MODEL); sums treat them as 0 and count them as unpriced. Partitioned
    by month of occurred_at (UTC; modules/usage/retention/partitions.py keeps the months), so its unique indexes
    hold occurred_at: idempotency lives in usage_request_keys."""

    __tablename__ = "usage_events"
    __table_args__ = (
        # Every analytics query filters one workspace and a time range; usageEvents pages newest first
        # by (occurred_at, id). One index serves both, read forwards or backwards.
        Index("ix_usage_events_workspace_time", "workspace_id", "occurred_at", "id"),
        # The per-user filter (a customer's own view) without scanning the workspace's whole range.
        Index("ix_usage_events_workspace_user_time", "workspace_id", "user_id", "occurred_at"),
        # A session's events in time order, and per-session sums.
        Index("ix_usage_events_workspace_session_time", "workspace_id", "session_id", "occurred_at"),
        CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND total_tokens >= 0 AND cached_prompt_tokens >= 0"
            " AND cache_write_tokens >= 0 AND reasoning_tokens >= 0",
            name="tokens_not_negative",
        ),
        CheckConstraint("status IN ('SUCCESS', 'ERROR')", name="status_known"),
        CheckConstraint(
            "cost_source IN ('CATALOG', 'WORKSPACE_OVERRIDE', 'CALLER', 'UNKNOWN_MODEL')",
            name="cost_source_known",
        ),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    provider: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    provider_instance_id: Mapped[UUID | None] = mapped_column(ForeignKey("provider_instances.id", ondelete="SET NULL"))
    task_type: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    total_tokens: Mapped[int] = mapped_column(BigInteger)
    cached_prompt_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    input_cost_usd: Mapped[Decimal | None] = mapped_column(MONEY)
    output_cost_usd: Mapped[Decimal | None] = mapped_column(MONEY)
    cost_usd: Mapped[Decimal | None] = mapped_column(MONEY)
    cost_source: Mapped[str] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    time_to_first_token_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    streamed: Mapped[bool | None] = mapped_column(Boolean)
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Input and output audio tokens (parts of prompt and completion tokens), a column for fast sums.
    audio_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Every genai-prices usage kind reported beyond the token columns, by its key (audio, image, 1-hour cache
    # writes, tool-use tokens, web searches…): what re-pricing reads.
    usage_kinds: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # The price catalogue's id of `model` (one for all its dated snapshots); NULL when the catalogue has none.
    catalogue_model: Mapped[str | None] = mapped_column(Text)


class RequestKeyRow(Base):
    """Idempotency: a (workspace, request id) is stored once. Every stored event's key, the ON CONFLICT target of
    every insert (a partitioned usage_events cannot hold a unique index without occurred_at); retention deletes a
    key with its event."""

    __tablename__ = "usage_request_keys"
    __table_args__ = (Index("ix_usage_request_keys_occurred_at", "occurred_at"),)

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    request_id: Mapped[str] = mapped_column(Text, primary_key=True)
    # Content refers to its event through this (a foreign key needs a unique column; usage_events' is by month).
    event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A session's own state. Its numbers come from its events; a row exists once it is completed."""

    __tablename__ = "sessions"

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(Text, primary_key=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RollupSums:
    """The sums every rollup row holds: counts, tokens, cost, and the sums and counts behind each average."""

    if TYPE_CHECKING:  # each rollup is (RollupSums, Base), mapped: these are DeclarativeBase's declarations
        __tablename__: str
        __table__: ClassVar[FromClause]

    calls: Mapped[int] = mapped_column(BigInteger)
    success_count: Mapped[int] = mapped_column(BigInteger)
    error_count: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cached_prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger)
    total_tokens: Mapped[int] = mapped_column(BigInteger)
    audio_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    unpriced_calls: Mapped[int] = mapped_column(BigInteger)
    duration_sum: Mapped[int] = mapped_column(BigInteger)
    duration_count: Mapped[int] = mapped_column(BigInteger)
    ttft_sum: Mapped[int] = mapped_column(BigInteger)
    ttft_count: Mapped[int] = mapped_column(BigInteger)
    timed_completion_tokens: Mapped[int] = mapped_column(BigInteger)  # completion tokens of calls with a duration
    timed_duration_sum: Mapped[int] = mapped_column(BigInteger)
    retries: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))  # the sum of retry_count


class DailyUsageRow(RollupSums, Base):
    """Sums of a workspace's events per UTC day, provider, provider instance, model, task type and status,
    kept in the transaction that stores the events. Queries that need nothing finer (no user, session, tag,
    error type, percentile or distinct count; whole UTC days) read it instead of the events."""

    __tablename__ = "usage_daily"
    __table_args__ = (
        Index(
            "uq_usage_daily_key",
            "workspace_id",
            "day",
            "provider",
            "provider_instance_id",
            "model",
            "task_type",
            "status",
            unique=True,
            postgresql_nulls_not_distinct=True,  # one row per key even where instance or task type is null
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(Text)
    provider_instance_id: Mapped[UUID | None] = mapped_column()
    model: Mapped[str] = mapped_column(Text)
    task_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)


class HourlyUsageRow(RollupSums, Base):
    """Sums per workspace, UTC hour, provider, provider instance, model and status (no task type: with it the
    rows of a busy workspace would be almost as many as its events). Hourly series, and days or ranges that
    start on a whole hour (any time zone with a whole-hour offset), read it."""

    __tablename__ = "usage_hourly"
    __table_args__ = (
        Index(
            "uq_usage_hourly_key",
            "workspace_id",
            "hour",
            "provider",
            "provider_instance_id",
            "model",
            "status",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    provider: Mapped[str] = mapped_column(Text)
    provider_instance_id: Mapped[UUID | None] = mapped_column()
    model: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)


class DailyUserUsageRow(RollupSums, Base):
    """Sums per workspace, UTC day and end user (events that name one): what topUsers ranks."""

    __tablename__ = "usage_user_daily"
    __table_args__ = (Index("uq_usage_user_daily_key", "workspace_id", "day", "user_id", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[str] = mapped_column(Text)


class WeeklyUserUsageRow(RollupSums, Base):
    """usage_user_daily's sums per UTC week (Monday to Sunday) instead of day: a month's ranking reads its whole
    weeks here and only the days at its edges from the daily rows (at 10M events 149,000 daily rows a month
    for 5,000 users, ~60,000 this way)."""

    __tablename__ = "usage_user_weekly"
    __table_args__ = (Index("uq_usage_user_weekly_key", "workspace_id", "week", "user_id", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)  # the Monday the UTC week starts on
    user_id: Mapped[str] = mapped_column(Text)


class DailyLatencyRow(Base):
    """Log-spaced histograms of durations and times to first token per workspace, UTC day, provider and model,
    and per day over every model (provider and model null: what totals read, a few hundred rows a day)
    (modules/usage/rollups/latency.py): counts that merge by addition, so percentiles of any set of days and
    models come from them within 2% of exact. Kept with the rollups, in the transaction that stores events."""

    __tablename__ = "usage_latency_daily"
    __table_args__ = (
        Index(
            "uq_usage_latency_daily_key",
            "workspace_id",
            "day",
            "provider",
            "model",
            "log_bucket",
            unique=True,
            postgresql_nulls_not_distinct=True,  # one row per day and bucket of every model
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    provider: Mapped[str | None] = mapped_column(Text)  # null: every provider and model
    model: Mapped[str | None] = mapped_column(Text)
    log_bucket: Mapped[int] = mapped_column(SmallInteger)
    durations: Mapped[int] = mapped_column(BigInteger)  # calls whose duration_ms falls in the bucket
    ttfts: Mapped[int] = mapped_column(BigInteger)  # calls whose time_to_first_token_ms falls in it


class WeeklyLatencyRow(Base):
    """usage_latency_daily's histograms per UTC week (Monday to Sunday) instead of day: percentiles of a month
    merge its whole weeks from here and only the days at its edges from the daily rows (at 10M events, the
    per-model rows of a month: 130,000 daily, ~57,000 this way)."""

    __tablename__ = "usage_latency_weekly"
    __table_args__ = (
        Index(
            "uq_usage_latency_weekly_key",
            "workspace_id",
            "week",
            "provider",
            "model",
            "log_bucket",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)  # the Monday the UTC week starts on
    provider: Mapped[str | None] = mapped_column(Text)  # null: every provider and model
    model: Mapped[str | None] = mapped_column(Text)
    log_bucket: Mapped[int] = mapped_column(SmallInteger)
    durations: Mapped[int] = mapped_column(BigInteger)
    ttfts: Mapped[int] = mapped_column(BigInteger)
