"""`usage_events` partitioned by month of `occurred_at` (UTC), idempotency in a key table of its own.

Retention then drops a month's partition whole instead of deleting its rows in chunks (each a scan of four
indexes and dead tuples for vacuum), and a read bounded in time touches only its months' partitions.

PostgreSQL's unique indexes on a partitioned table must hold the partition key, so "a (workspace, request id) is
stored once" can no longer be a unique constraint of usage_events: `usage_request_keys` holds every stored
event's key (its primary key) with the event's id and time, and the insert claims the key there first, in the
same statement (repository.INSERT_SQL). Content (usage_contents) now refers to that key row, which retention
deletes with the event.

The events are copied into the partitioned table in one go (indexes built after the copy), with their ids; the
id sequence continues after the largest. Partitions: every month holding events, this month and the next, and
a default partition for anything else (the maintenance in modules/usage/retention/partitions.py moves its rows
into their month's partition when it creates one).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:40:00.000000

"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The indexes as the models name them (the migration keeps its own copy: migrations do not change with the code).
INDEXES = (
    "CREATE INDEX ix_usage_events_workspace_time ON usage_events (workspace_id, occurred_at, id)",
    "CREATE INDEX ix_usage_events_workspace_user_time ON usage_events (workspace_id, user_id, occurred_at)",
    "CREATE INDEX ix_usage_events_workspace_session_time ON usage_events (workspace_id, session_id, occurred_at)",
)
EVENT_INDEXES = (
    "ix_usage_events_workspace_time",
    "ix_usage_events_workspace_user_time",
    "ix_usage_events_workspace_session_time",
)
FOREIGN_KEYS = (
    "ALTER TABLE usage_events ADD CONSTRAINT fk_usage_events_workspace_id_workspaces FOREIGN KEY (workspace_id) "
    "REFERENCES workspaces (id) ON DELETE CASCADE",
    "ALTER TABLE usage_events ADD CONSTRAINT fk_usage_events_provider_instance_id_provider_instances "
    "FOREIGN KEY (provider_instance_id) REFERENCES provider_instances (id) ON DELETE SET NULL",
)


def month_after(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def create_month(month: datetime) -> None:
    name = f"usage_events_y{month.year:04d}m{month.month:02d}"
    op.execute(
        f"CREATE TABLE {name} PARTITION OF usage_events "
        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{month_after(month).isoformat()}')"
    )


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    op.execute("ALTER TABLE usage_contents DROP CONSTRAINT fk_usage_contents_event_id_usage_events")
    op.execute("ALTER TABLE usage_events RENAME TO usage_events_unpartitioned")
    op.execute(
        "ALTER TABLE usage_events_unpartitioned DROP CONSTRAINT pk_usage_events, "
        "DROP CONSTRAINT uq_usage_events_workspace_id_request_id"
    )
    for name in EVENT_INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute(
        "CREATE TABLE usage_events (LIKE usage_events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (occurred_at)"
    )
    months = {
        row[0].replace(tzinfo=UTC)
        for row in bind.execute(
            text("SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM usage_events_unpartitioned")
        )
    }
    this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for month in sorted(months | {this_month, month_after(this_month)}):
        create_month(month)
    op.execute("CREATE TABLE usage_events_default PARTITION OF usage_events DEFAULT")
    op.execute("INSERT INTO usage_events SELECT * FROM usage_events_unpartitioned ORDER BY occurred_at, id")
    op.execute("ALTER TABLE usage_events ADD CONSTRAINT pk_usage_events PRIMARY KEY (id, occurred_at)")
    for statement in (*INDEXES, *FOREIGN_KEYS):
        op.execute(statement)

    op.execute(
        "CREATE TABLE usage_request_keys (workspace_id uuid NOT NULL, request_id text NOT NULL, "
        "event_id bigint NOT NULL, occurred_at timestamptz NOT NULL)"
    )
    op.execute(
        "INSERT INTO usage_request_keys (workspace_id, request_id, event_id, occurred_at) "
        "SELECT workspace_id, request_id, id, occurred_at FROM usage_events_unpartitioned "
        "ORDER BY workspace_id, request_id"
    )
    op.execute(
        "ALTER TABLE usage_request_keys ADD CONSTRAINT pk_usage_request_keys PRIMARY KEY (workspace_id, request_id), "
        "ADD CONSTRAINT uq_usage_request_keys_event_id UNIQUE (event_id), "
        "ADD CONSTRAINT fk_usage_request_keys_workspace_id_workspaces FOREIGN KEY (workspace_id) "
        "REFERENCES workspaces (id) ON DELETE CASCADE"
    )
    op.execute("CREATE INDEX ix_usage_request_keys_occurred_at ON usage_request_keys (occurred_at)")
    op.execute(
        "ALTER TABLE usage_contents ADD CONSTRAINT fk_usage_contents_event_id_usage_request_keys "
        "FOREIGN KEY (event_id) REFERENCES usage_request_keys (event_id) ON DELETE CASCADE"
    )

    last_id = bind.execute(text("SELECT max(id) FROM usage_events_unpartitioned")).scalar()
    op.execute("DROP TABLE usage_events_unpartitioned")  # and its id sequence: the new one takes its name
    op.execute(
        f"ALTER TABLE usage_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH {(last_id or 0) + 1})"
    )


def downgrade() -> None:
    """Downgrade schema."""
    bind = op.get_bind()
    op.execute("ALTER TABLE usage_contents DROP CONSTRAINT fk_usage_contents_event_id_usage_request_keys")
    op.execute("DROP TABLE usage_request_keys")
    op.execute("ALTER TABLE usage_events RENAME TO usage_events_partitioned")
    op.execute("ALTER TABLE usage_events_partitioned DROP CONSTRAINT pk_usage_events")
    for name in EVENT_INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute("CREATE TABLE usage_events (LIKE usage_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute("INSERT INTO usage_events SELECT * FROM usage_events_partitioned ORDER BY id")
    last_id = bind.execute(text("SELECT max(id) FROM usage_events")).scalar()
    op.execute("DROP TABLE usage_events_partitioned")
    op.execute(
        "ALTER TABLE usage_events ADD CONSTRAINT pk_usage_events PRIMARY KEY (id), "
        "ADD CONSTRAINT uq_usage_events_workspace_id_request_id UNIQUE (workspace_id, request_id)"
    )
    for statement in (*INDEXES, *FOREIGN_KEYS):
        op.execute(statement)
    op.execute(
        f"ALTER TABLE usage_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH {(last_id or 0) + 1})"
    )
    op.execute(
        "ALTER TABLE usage_contents ADD CONSTRAINT fk_usage_contents_event_id_usage_events "
        "FOREIGN KEY (event_id) REFERENCES usage_events (id) ON DELETE CASCADE"
    )
