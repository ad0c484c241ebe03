"""Conversation content: opt-in per workspace, stored apart from the usage events, and an audit log of reads.

`content_settings` holds a workspace's choice (no row: off) and counts the calls whose content was sent while off.
`usage_contents` holds one stored call's messages, zlib-compressed JSON written by the service; its column's
storage is EXTERNAL so PostgreSQL does not compress it a second time. Its key is (workspace, event): the
DataLoader of an answer's events reads by it. `ix_usage_contents_workspace_time` is what content retention
deletes a workspace's oldest content by; `ix_usage_contents_event_id` serves the cascade of the foreign key to
usage_events (deleting an event deletes its content; without it each deleted event would scan the table).
`content_reads` is the audit log of reads, listed per workspace newest first by its primary key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("retention_days", sa.Integer(), server_default=sa.text("30"), nullable=False),
        sa.Column("redaction", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("redaction_patterns", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("dropped_calls", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "retention_days BETWEEN 1 AND 3650", name=op.f("ck_content_settings_retention_days_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_content_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_content_settings")),
    )
    op.create_table(
        "usage_contents",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("original_bytes", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("omitted_messages", sa.Integer(), nullable=False),
        sa.Column("redactions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["usage_events.id"],
            name=op.f("fk_usage_contents_event_id_usage_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_usage_contents_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "event_id", name=op.f("pk_usage_contents")),
    )
    op.execute("ALTER TABLE usage_contents ALTER COLUMN body SET STORAGE EXTERNAL")
    op.create_index("ix_usage_contents_workspace_time", "usage_contents", ["workspace_id", "occurred_at"])
    op.create_index("ix_usage_contents_event_id", "usage_contents", ["event_id"])
    op.create_table(
        "content_reads",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("reader", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=True),
        sa.Column("event_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_content_reads_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_content_reads")),
    )


def downgrade() -> None:
    op.drop_table("content_reads")
    op.drop_index("ix_usage_contents_event_id", table_name="usage_contents")
    op.drop_index("ix_usage_contents_workspace_time", table_name="usage_contents")
    op.drop_table("usage_contents")
    op.drop_table("content_settings")
