"""Latency histograms beside the rollups, and retries in every rollup.

`usage_latency_daily` counts calls per workspace, UTC day, provider, model and log-spaced latency bucket
(each 4% wider than the one before, so a bucket's representative is within 1.96% of its values), for the
duration and the time to first token; and per day and bucket over every model (provider and model null),
which is all totals and daily series read: at most ~390 rows a day whatever the traffic. Counts merge by addition, so p50/p95/p99 of any whole days and
models come from it within 2% of exact instead of sorting every call of the range (issue 19; 631 ms for a
dashboard's range switch at 1M events). Its key holds no task type, status or instance: with them the
rows of a busy workspace would be nearly as many as its events (bench/analytics.py: 40 models x ~115
buckets a day against 12 task types x 40 models x ~50 calls); queries filtering on those read the events.
The unique key is what batches add to (INSERT … ON CONFLICT) and the index percentile queries read it by
(workspace, days, then provider/model: the Performance view's groups).

Every rollup gains `retries` (the sum of retry_count), so retry totals per group and over time are sums
like the others. Both are filled here from the events already stored (a copy of the statements, as
migrations must not change with the code).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each rollup's key: its columns, and how each is computed from an event.
DAY, HOUR = "(occurred_at AT TIME ZONE 'UTC')::date", "date_trunc('hour', occurred_at, 'UTC')"
ROLLUPS = {
    "usage_daily": {
        "day": DAY,
        "provider": "provider",
        "provider_instance_id": "provider_instance_id",
        "model": "model",
        "task_type": "task_type",
        "status": "status",
    },
    "usage_hourly": {
        "hour": HOUR,
        "provider": "provider",
        "provider_instance_id": "provider_instance_id",
        "model": "model",
        "status": "status",
    },
    "usage_user_daily": {"day": DAY, "user_id": "user_id"},
}


def backfill_retries(table: str, key: dict[str, str]) -> str:
    """The retries of each existing rollup row, from the events grouped by its key."""
    selected = ", ".join(f"{expression} AS {column}" for column, expression in key.items())
    matched = " AND ".join(f"r.{column} IS NOT DISTINCT FROM s.{column}" for column in key)
    return (
        f"UPDATE {table} AS r SET retries = s.retries FROM (SELECT workspace_id, {selected}, sum(retry_count) "
        f"AS retries FROM usage_events GROUP BY workspace_id, {', '.join(key)} HAVING sum(retry_count) > 0) AS s "
        f"WHERE r.workspace_id = s.workspace_id AND {matched}"
    )


def bucket(value: str) -> str:
    return f"CASE WHEN {value} < 1 THEN 0 ELSE 1 + floor(ln({value}) / ln(1.04))::integer END"


BACKFILL_LATENCY = f"""
INSERT INTO usage_latency_daily (workspace_id, day, provider, model, log_bucket, durations, ttfts)
SELECT workspace_id, (occurred_at AT TIME ZONE 'UTC')::date, provider, model, measured.log_bucket,
       count(*) FILTER (WHERE measured.is_duration), count(*) FILTER (WHERE NOT measured.is_duration)
FROM usage_events CROSS JOIN LATERAL (VALUES
    ({bucket("duration_ms")}, true), ({bucket("time_to_first_token_ms")}, false)) AS measured (log_bucket, is_duration)
WHERE measured.log_bucket IS NOT NULL
GROUP BY GROUPING SETS ((workspace_id, (occurred_at AT TIME ZONE 'UTC')::date, provider, model, measured.log_bucket),
                        (workspace_id, (occurred_at AT TIME ZONE 'UTC')::date, measured.log_bucket))
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "usage_latency_daily",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("log_bucket", sa.SmallInteger(), nullable=False),
        sa.Column("durations", sa.BigInteger(), nullable=False),
        sa.Column("ttfts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_usage_latency_daily_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_latency_daily")),
    )
    op.create_index(
        "uq_usage_latency_daily_key",
        "usage_latency_daily",
        ["workspace_id", "day", "provider", "model", "log_bucket"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    for table in ROLLUPS:
        op.add_column(table, sa.Column("retries", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    connection = op.get_bind()
    connection.execute(sa.text(BACKFILL_LATENCY))
    for table, key in ROLLUPS.items():
        connection.execute(sa.text(backfill_retries(table, key)))


def downgrade() -> None:
    """Downgrade schema."""
    for table in ROLLUPS:
        op.drop_column(table, "retries")
    op.drop_index("uq_usage_latency_daily_key", table_name="usage_latency_daily")
    op.drop_table("usage_latency_daily")
