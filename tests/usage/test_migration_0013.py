"""Migration 0013 on a database holding events (and content) from before it: the events move into monthly
partitions with their ids, every one's key into usage_request_keys, the ids go on after the largest, and a
request id stored before is still refused."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, text

from service.migrations import alembic_config
from tests.usage.test_migration_0008 import fresh, upgrade  # noqa: F401  (fresh: a fixture)
from tests.usage.test_migration_0009 import INSERT_EVENT

EVENTS = [("a", "2026-01-31T23:59:59"), ("b", "2026-02-01T00:00:00"), ("c", "2026-02-14T12:00:00")]
PARTITIONS = text(
    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits AS i JOIN pg_class AS c "
    "ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_events'::regclass ORDER BY 1"
)
STORED = text(
    "SELECT e.tableoid::regclass::text, e.id, e.request_id, k.event_id, k.occurred_at = e.occurred_at "
    "FROM usage_events AS e JOIN usage_request_keys AS k USING (workspace_id, request_id) ORDER BY e.id"
)


def month_bounds(month: datetime) -> str:
    after = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return f"FOR VALUES FROM ('{month:%Y-%m-%d} 00:00:00+00') TO ('{after:%Y-%m-%d} 00:00:00+00')"


async def test_the_events_move_into_monthly_partitions_with_their_ids_and_keys(fresh):  # noqa: F811
    async with fresh.begin() as connection:
        await connection.run_sync(upgrade, "0012")
        await connection.execute(text("SET TIME ZONE 'Asia/Kathmandu'"))  # months are UTC's, not the session's
        ws = (
            await connection.execute(text("INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id"))
        ).scalar()
        for rid, moment in EVENTS:
            await connection.execute(
                INSERT_EVENT,
                {"ws": ws, "rid": rid, "at": datetime.fromisoformat(f"{moment}+00:00"), "provider": "openai",
                 "model": "gpt-4o", "task": None, "duration": 100, "ttft": None, "retries": 0},
            )  # fmt: skip
        ids = list((await connection.execute(text("SELECT id FROM usage_events ORDER BY id"))).scalars())
        await connection.execute(
            text(
                "INSERT INTO usage_contents (workspace_id, event_id, occurred_at, body, original_bytes, truncated, "
                "omitted_messages, redactions) SELECT workspace_id, id, occurred_at, :body, 2, false, 0, 0 "
                "FROM usage_events WHERE request_id = 'c'"
            ),
            {"body": zlib.compress(b"[]")},
        )
        await connection.run_sync(upgrade, "head")
        await connection.execute(text("SET TIME ZONE 'UTC'"))

        partitions = [tuple(r) for r in await connection.execute(PARTITIONS)]
        this_month = datetime.now(UTC).replace(day=1)
        next_month = this_month.replace(year=this_month.year + this_month.month // 12, month=this_month.month % 12 + 1)
        months = [datetime(2026, 1, 1), datetime(2026, 2, 1), this_month, next_month]
        assert partitions == sorted(
            [("usage_events_default", "DEFAULT")] + [(f"usage_events_y{m:%Ym%m}", month_bounds(m)) for m in months]
        )
        stored = [tuple(r) for r in await connection.execute(STORED)]
        assert stored == [
            ("usage_events_y2026m01", ids[0], "a", ids[0], True),
            ("usage_events_y2026m02", ids[1], "b", ids[1], True),
            ("usage_events_y2026m02", ids[2], "c", ids[2], True),
        ]
        kind = (
            await connection.execute(text("SELECT relkind::text FROM pg_class WHERE relname = 'usage_events'"))
        ).scalar()
        assert kind == "p"

        # the next event's id follows the largest; a stored key is refused by its key row (another month or not)
        again = {"ws": ws, "at": datetime(2026, 2, 20, tzinfo=UTC), "provider": "openai", "model": "gpt-4o",
                 "task": None, "duration": 1, "ttft": None, "retries": 0}  # fmt: skip
        await connection.execute(INSERT_EVENT, {**again, "rid": "d"})
        assert (await connection.execute(text("SELECT max(id) FROM usage_events"))).scalar() == ids[2] + 1
        claimed = text(
            "INSERT INTO usage_request_keys (workspace_id, request_id, event_id, occurred_at) "
            "VALUES (:ws, 'a', 0, now()) ON CONFLICT DO NOTHING RETURNING event_id"
        )
        assert (await connection.execute(claimed, {"ws": ws})).all() == []

        # content now hangs on the key: deleting the key deletes the content
        await connection.execute(text("DELETE FROM usage_request_keys WHERE request_id = 'c'"))
        assert (await connection.execute(text("SELECT count(*) FROM usage_contents"))).scalar() == 0


async def test_the_downgrade_gives_back_the_plain_table_with_its_unique_key(fresh):  # noqa: F811
    async with fresh.begin() as connection:
        await connection.run_sync(upgrade, "head")
        ws = (
            await connection.execute(text("INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id"))
        ).scalar()
        event = {"ws": ws, "rid": "a", "at": datetime(2026, 2, 20, tzinfo=UTC), "provider": "openai",
                 "model": "gpt-4o", "task": None, "duration": 1, "ttft": None, "retries": 0}  # fmt: skip
        await connection.execute(INSERT_EVENT, event)
        await connection.run_sync(downgrade, "0012")
        kind = (
            await connection.execute(text("SELECT relkind::text FROM pg_class WHERE relname = 'usage_events'"))
        ).scalar()
        assert kind == "r"
        refused = text(f"{INSERT_EVENT.text} ON CONFLICT (workspace_id, request_id) DO NOTHING RETURNING id")
        assert (await connection.execute(refused, event)).all() == []
        assert (await connection.execute(INSERT_EVENT, {**event, "rid": "b"})).rowcount == 1


def downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
