"""Tables of conversation content: kept apart from usage_events, so the analytics tables and their speed are
untouched whether content is on or off."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.database import Base


class ContentSettingsRow(Base):
    """A workspace's content setting; no row: off, nothing stored. `dropped_calls` counts the calls whose content
    was sent while it was off (dropped, never stored)."""

    __tablename__ = "content_settings"
    __table_args__ = (CheckConstraint("retention_days BETWEEN 1 AND 3650", name="retention_days_in_range"),)

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    retention_days: Mapped[int] = mapped_column(Integer, server_default=text("30"))
    redaction: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    redaction_patterns: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    dropped_calls: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UsageContentRow(Base):
    """One stored call's messages: JSON compressed with zlib by the service (stored as it is: the column's
    storage is EXTERNAL, so PostgreSQL does not try to compress it again)."""

    __tablename__ = "usage_contents"
    __table_args__ = (
        # Content retention deletes a workspace's oldest content by time.
        Index("ix_usage_contents_workspace_time", "workspace_id", "occurred_at"),
        # Deleting an event deletes its content (the foreign key's cascade looks content up by event).
        Index("ix_usage_contents_event_id", "event_id"),
    )

    # Read by (workspace, event): the key a DataLoader batches an answer's events by.
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("usage_request_keys.event_id", ondelete="CASCADE"), primary_key=True
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    original_bytes: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean)
    omitted_messages: Mapped[int] = mapped_column(Integer)
    redactions: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ContentReadRow(Base):
    """The audit log of content reads: which key read which events' content, when."""

    __tablename__ = "content_reads"

    # Listed per workspace, newest first: the primary key's order.
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_id: Mapped[UUID | None] = mapped_column()  # None: the operator at the command line
    reader: Mapped[str] = mapped_column(Text)
    operation: Mapped[str | None] = mapped_column(Text)
    event_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
