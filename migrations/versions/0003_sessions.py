"""Sessions: a completed session's state; an index to read a session's events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:12:44.086912

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sessions",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_sessions_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "session_id", name=op.f("pk_sessions")),
    )
    # session(workspaceId, id) and the session events loader read one session's events in time order.
    op.create_index(
        "ix_usage_events_workspace_session_time",
        "usage_events",
        ["workspace_id", "session_id", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_usage_events_workspace_session_time", table_name="usage_events")
    op.drop_table("sessions")
