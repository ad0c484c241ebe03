"""usage_events by month: a month's partition is made before its events come (taking what the default partition
held of it), a request id is stored once across months, and retention drops a month whole."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from modules.usage.retention.partitions import EventPartitions
from modules.usage.retention.service import UsageRetention
from tests.documents import TRACK_BATCH

WHERE = text("SELECT tableoid::regclass::text, count(*) FROM usage_events GROUP BY 1 ORDER BY 1")
KEYS = text("SELECT request_id FROM usage_request_keys ORDER BY 1")
MONTHS = text(
    "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'usage_events'::regclass AND c.relname LIKE 'usage_events_y2026m0%' ORDER BY 1"
)
TRACK = """
mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { requestId occurredAt } } }
"""


def call(request_id: str, moment: str) -> dict[str, object]:
    return {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 10,
            "completionTokens": 1, "requestId": request_id, "occurredAt": moment}  # fmt: skip


async def rows(database, statement) -> list[tuple[object, ...]]:
    async with database.session_factory() as session:
        return [tuple(r) for r in await session.execute(statement)]


async def test_a_month_is_made_with_its_events_and_dropped_whole_by_retention(gql, workspace, database):
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("feb-1", "2026-02-27T10:00:00+00:00"),
            call("feb-2", "2026-03-01T05:00:00+05:30"),  # 2026-02-28T23:30 UTC: February's
            call("mar-1", "2026-03-01T00:00:00+00:00"),
            call("mar-2", "2026-03-03T12:00:00+00:00"),
            call("mar-3", "2026-03-20T12:00:00+00:00"),
        ],
    )
    assert await rows(database, WHERE) == [("usage_events_default", 5)]  # no partition of those months yet

    partitions = EventPartitions(database, max_event_age_days=40)
    made = await partitions.ensure(now=datetime(2026, 4, 2, tzinfo=UTC))  # 40 days back: 21 February
    assert made == ["usage_events_y2026m02", "usage_events_y2026m03", "usage_events_y2026m04", "usage_events_y2026m05"]
    assert await rows(database, WHERE) == [("usage_events_y2026m02", 2), ("usage_events_y2026m03", 3)]
    assert await partitions.ensure(now=datetime(2026, 4, 2, tzinfo=UTC)) == []

    retention = UsageRetention(database=database, retention_days=30, partitions=partitions)
    assert await retention.prune(now=datetime(2026, 4, 2, tzinfo=UTC)) == 3  # horizon 3 March: February and mar-1
    assert await rows(database, MONTHS) == [
        ("usage_events_y2026m03",),
        ("usage_events_y2026m04",),
        ("usage_events_y2026m05",),
    ]
    assert await rows(database, WHERE) == [("usage_events_y2026m03", 2)]
    assert await rows(database, KEYS) == [("mar-2",), ("mar-3",)]
    assert await retention.prune(now=datetime(2026, 4, 2, tzinfo=UTC)) == 0


async def test_a_request_id_is_stored_once_whatever_month_its_retry_says(gql, workspace, database):
    await EventPartitions(database, max_event_age_days=60).ensure(now=datetime(2026, 3, 20, tzinfo=UTC))
    first = (await gql.data(TRACK, input=call("r", "2026-02-27T10:00:00+00:00")))["trackUsage"]
    retried = (await gql.data(TRACK, input=call("r", "2026-03-02T10:00:00+00:00")))["trackUsage"]
    assert first == {"duplicate": False, "event": {"requestId": "r", "occurredAt": "2026-02-27T10:00:00+00:00"}}
    assert retried == {"duplicate": True, "event": {"requestId": "r", "occurredAt": "2026-02-27T10:00:00+00:00"}}
    batch = await gql.data(
        "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { duplicates } }",
        inputs=[call("r", "2026-03-05T10:00:00+00:00"), call("s", "2026-03-05T10:00:00+00:00")],
    )
    assert batch["trackUsageBatch"]["duplicates"] == [True, False]
    assert await rows(database, WHERE) == [("usage_events_y2026m02", 1), ("usage_events_y2026m03", 1)]


def test_the_months_wanted_run_from_the_oldest_accepted_to_the_next():
    partitions = EventPartitions(database=None, max_event_age_days=35)  # type: ignore[arg-type]
    assert [m.date().isoformat() for m in partitions.wanted(datetime(2026, 12, 31, 23, 0, tzinfo=UTC))] == [
        "2026-11-01",
        "2026-12-01",
        "2027-01-01",
    ]
    just_after_new_year = datetime(2027, 1, 1, 0, 1, tzinfo=UTC)
    assert [m.date().isoformat() for m in partitions.wanted(just_after_new_year)] == [
        "2026-11-01",
        "2026-12-01",
        "2027-01-01",
        "2027-02-01",
    ]
    years = EventPartitions(database=None, max_event_age_days=3650)  # type: ignore[arg-type]
    assert len(years.wanted(datetime(2026, 12, 31, tzinfo=UTC))) == 4  # 62 days back at most: October on
