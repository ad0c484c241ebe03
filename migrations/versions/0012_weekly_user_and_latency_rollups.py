"""Weekly rollups beside two daily ones: `usage_user_weekly` (usage_user_daily's sums per UTC week and end user)
and `usage_latency_weekly` (usage_latency_daily's histograms per UTC week). A week is Monday to Sunday in UTC,
keyed by its Monday.

A 30-day window of topUsers or of per-model percentiles read ~30 daily rows per user or per model and bucket
(at 10M events: 149,000 and 130,000 rows, their scan and hash aggregate 40-50 ms of SQL); now its whole weeks
come from one row each and only the days at its edges from the daily rows (~60,000 and ~57,000 rows).

Both are filled from the daily rows already there, not from the events: the daily rows still count events
that retention has deleted, and the weekly ones must agree with them (sums of sums, histograms by addition).
They are inserted in key order, so a workspace's weeks lie together on disk as the insert path leaves them
(in hash order a month of the 10M bench's latency weeks spread 14,741 rows over 10,716 heap pages).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = [
    "calls",
    "success_count",
    "error_count",
    "prompt_tokens",
    "completion_tokens",
    "cached_prompt_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
    "audio_tokens",
    "cost_usd",
    "unpriced_calls",
    "duration_sum",
    "duration_count",
    "ttft_sum",
    "ttft_count",
    "timed_completion_tokens",
    "timed_duration_sum",
    "retries",
]
WEEK = "date_trunc('week', day::timestamp)::date"  # a date as a timestamp: no time zone involved

FILL_USERS = (
    f"INSERT INTO usage_user_weekly (workspace_id, week, user_id, {', '.join(SUMS)}) "
    f"SELECT workspace_id, {WEEK}, user_id, {', '.join(f'sum({s})' for s in SUMS)} "
    "FROM usage_user_daily GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
FILL_LATENCY = (
    "INSERT INTO usage_latency_weekly (workspace_id, week, provider, model, log_bucket, durations, ttfts) "
    f"SELECT workspace_id, {WEEK}, provider, model, log_bucket, sum(durations), sum(ttfts) "
    "FROM usage_latency_daily GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
)


def sums() -> list[sa.Column]:
    money = sa.Numeric(precision=20, scale=10)
    defaulted = {"audio_tokens", "retries"}  # as in the daily rollups: added later there, with a default
    return [
        sa.Column(
            name,
            money if name == "cost_usd" else sa.BigInteger(),
            server_default=sa.text("0") if name in defaulted else None,
            nullable=False,
        )
        for name in SUMS
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "usage_user_weekly",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        *sums(),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_usage_user_weekly_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_user_weekly")),
    )
    op.create_index("uq_usage_user_weekly_key", "usage_user_weekly", ["workspace_id", "week", "user_id"], unique=True)
    op.create_table(
        "usage_latency_weekly",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("log_bucket", sa.SmallInteger(), nullable=False),
        sa.Column("durations", sa.BigInteger(), nullable=False),
        sa.Column("ttfts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_usage_latency_weekly_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_latency_weekly")),
    )
    op.create_index(
        "uq_usage_latency_weekly_key",
        "usage_latency_weekly",
        ["workspace_id", "week", "provider", "model", "log_bucket"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    connection = op.get_bind()
    connection.execute(sa.text(FILL_USERS))
    connection.execute(sa.text(FILL_LATENCY))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("uq_usage_latency_weekly_key", table_name="usage_latency_weekly")
    op.drop_table("usage_latency_weekly")
    op.drop_index("uq_usage_user_weekly_key", table_name="usage_user_weekly")
    op.drop_table("usage_user_weekly")
