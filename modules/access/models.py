"""Tables of the access module: API keys, stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, Float, ForeignKey, Index, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.database import Base


class ApiKeyRow(Base):
    """workspace_id NULL: an instance-wide key. `key_hash` is SHA-256 of the whole key; `prefix` its first
    characters, shown so people can tell keys apart."""

    __tablename__ = "api_keys"
    __table_args__ = (
        # Listing a workspace's keys.
        Index("ix_api_keys_workspace_id", "workspace_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    workspace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text)
    # Authentication looks keys up by hash: unique, and the index of that lookup.
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Requests per second this key may make (per server process); NULL: the server's default.
    rate_limit_per_second: Mapped[float | None] = mapped_column(Float)
