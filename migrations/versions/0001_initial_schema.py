"""Initial schema: workspaces, users, provider instances, model prices and usage events.

Every tenant table carries workspace_id and each unique key begins with it (room to distribute by
workspace later). Why each index exists is said where it is created.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 08:37:34.994856

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        # A workspaceId argument may be a slug: resolved through this key.
        sa.UniqueConstraint("slug", name=op.f("uq_workspaces_slug")),
    )
    op.create_table(
        "provider_instances",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_provider_instances_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_instances")),
        sa.UniqueConstraint(
            "workspace_id", "provider", "name", name=op.f("uq_provider_instances_workspace_id_provider_name")
        ),
    )
    op.create_table(
        "users",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_users_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "external_id", name=op.f("pk_users")),
    )
    op.create_table(
        "model_prices",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("provider_instance_id", sa.Uuid(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("input_per_million", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("output_per_million", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("cached_input_per_million", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("cache_write_per_million", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_instance_id"],
            ["provider_instances.id"],
            name=op.f("fk_model_prices_provider_instance_id_provider_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_model_prices_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_prices")),
    )
    # One price per (workspace, provider, model, instance, start); also the lookup when pricing a batch
    # (workspace, provider, model). NULLS NOT DISTINCT: a NULL instance is the workspace-wide price.
    op.create_index(
        "uq_model_prices_key",
        "model_prices",
        ["workspace_id", "provider", "model", "provider_instance_id", "effective_from"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "usage_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("provider_instance_id", sa.Uuid(), nullable=True),
        sa.Column("task_type", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_prompt_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("input_cost_usd", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("output_cost_usd", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("cost_usd", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("cost_source", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("time_to_first_token_ms", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error_type", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=True),
        sa.Column(
            "tags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cost_source IN ('CATALOG', 'WORKSPACE_OVERRIDE', 'CALLER', 'UNKNOWN_MODEL')",
            name=op.f("ck_usage_events_cost_source_known"),
        ),
        sa.CheckConstraint("status IN ('SUCCESS', 'ERROR')", name=op.f("ck_usage_events_status_known")),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND total_tokens >= 0 AND cached_prompt_tokens >= 0 AND cache_write_tokens >= 0 AND reasoning_tokens >= 0",
            name=op.f("ck_usage_events_tokens_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_instance_id"],
            ["provider_instances.id"],
            name=op.f("fk_usage_events_provider_instance_id_provider_instances"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_usage_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
        # Idempotency: (workspace, request id) is stored once; the ON CONFLICT target of every insert.
        sa.UniqueConstraint("workspace_id", "request_id", name=op.f("uq_usage_events_workspace_id_request_id")),
    )
    # Every analytics query filters one workspace and a time range, and usageEvents pages newest first
    # by (occurred_at, id): one index serves both (scanned backwards for the pages).
    op.create_index(
        "ix_usage_events_workspace_time", "usage_events", ["workspace_id", "occurred_at", "id"], unique=False
    )
    # The per-user filter (a customer's own view) reads only that user's rows in the time range.
    op.create_index(
        "ix_usage_events_workspace_user_time",
        "usage_events",
        ["workspace_id", "user_id", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_usage_events_workspace_user_time", table_name="usage_events")
    op.drop_index("ix_usage_events_workspace_time", table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_index("uq_model_prices_key", table_name="model_prices", postgresql_nulls_not_distinct=True)
    op.drop_table("model_prices")
    op.drop_table("users")
    op.drop_table("provider_instances")
    op.drop_table("workspaces")
