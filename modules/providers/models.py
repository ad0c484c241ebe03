"""Tables of the providers module: a workspace's provider instances and its own model prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, Index, Numeric, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.database import Base

MONEY = Numeric(20, 10)


class ProviderInstanceRow(Base):
    """A named deployment of a provider in one workspace, e.g. openai "prod-eu"."""

    __tablename__ = "provider_instances"
    __table_args__ = (UniqueConstraint("workspace_id", "provider", "name"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ModelPriceRow(Base):
    """A workspace's own price (USD per million tokens) for a provider+model, from a moment on."""

    __tablename__ = "model_prices"
    __table_args__ = (
        # One price per (workspace, provider, model, instance, start); NULL instance = the whole workspace.
        Index(
            "uq_model_prices_key",
            "workspace_id",
            "provider",
            "model",
            "provider_instance_id",
            "effective_from",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    provider_instance_id: Mapped[UUID | None] = mapped_column(ForeignKey("provider_instances.id", ondelete="CASCADE"))
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    input_per_million: Mapped[Decimal] = mapped_column(MONEY)
    output_per_million: Mapped[Decimal] = mapped_column(MONEY)
    cached_input_per_million: Mapped[Decimal | None] = mapped_column(MONEY)
    cache_write_per_million: Mapped[Decimal | None] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
