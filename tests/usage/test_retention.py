"""Retention (LLM_USAGE_RETENTION_DAYS): events older than the horizon are deleted in chunks, the rollups keep
their sums, and ingestion refuses what retention would delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modules.usage.retention import service as retention_module
from modules.usage.retention.service import UsageRetention
from service.config import Settings, positive_days
from tests.conftest import swapped
from tests.documents import TRACK_BATCH

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
COUNT = '{ usageEvents(filter: {workspaceId: "acme"}, first: 500) { edges { node { occurredAt } } } }'


def totals_query(start: datetime, end: datetime) -> str:
    return (
        f'{{ usageAnalytics(filter: {{workspaceId: "acme", from: "{start.isoformat()}", to: "{end.isoformat()}"}}) '
        "{ totals { calls promptTokens costUsd } } }"
    )


async def test_old_events_are_deleted_in_chunks_and_the_rollups_keep_their_sums(gql, workspace, database, monkeypatch):
    inputs = [
        {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 100 + n,
         "completionTokens": 10, "occurredAt": (DAY0 + timedelta(hours=3 * n)).isoformat()}
        for n in range(40)  # 3-hourly over 5 days: 2026-03-01T00:00 to 2026-03-05T21:00
    ]  # fmt: skip
    await gql.data(TRACK_BATCH, inputs=inputs)
    first_days = totals_query(DAY0, DAY0 + timedelta(days=2))
    before = (await gql.data(first_days))["usageAnalytics"]["totals"]
    assert before["calls"] == 16 and before["promptTokens"] == sum(100 + n for n in range(16))

    monkeypatch.setattr(retention_module, "CHUNK", 5)  # 16 old events: chunks of 5, 5, 5, 1
    retention = UsageRetention(database=database, retention_days=30)
    now = DAY0 + timedelta(days=32)  # horizon: 2026-03-03T00:00
    assert retention.horizon(now) == DAY0 + timedelta(days=2)
    assert await retention.prune(now) == 16
    assert await retention.prune(now) == 0

    kept = [e["node"]["occurredAt"] for e in (await gql.data(COUNT))["usageEvents"]["edges"]]
    assert len(kept) == 24 and min(kept) == "2026-03-03T00:00:00+00:00"
    assert (await gql.data(first_days))["usageAnalytics"]["totals"] == before  # whole days: the rollup answers
    later = (await gql.data(totals_query(DAY0 + timedelta(days=2), DAY0 + timedelta(days=5))))["usageAnalytics"]
    assert later["totals"]["calls"] == 24


async def test_without_retention_nothing_is_deleted(gql, workspace, database):
    event = {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 1, "completionTokens": 1}
    await gql.data(TRACK_BATCH, inputs=[{**event, "occurredAt": DAY0.isoformat()}])
    assert await UsageRetention(database=database, retention_days=None).prune(datetime(2100, 1, 1, tzinfo=UTC)) == 0
    assert len((await gql.data(COUNT))["usageEvents"]["edges"]) == 1
    with pytest.raises(ValueError, match="at least 1 day"):
        UsageRetention(database=database, retention_days=0)


async def test_ingestion_refuses_events_retention_would_delete(gql, workspace, container):
    now = datetime.now(UTC)
    event = {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 1, "completionTokens": 1}
    with swapped(container, container.settings, Settings(max_event_age_days=35, retention_days=2)):
        error = await gql.error(TRACK_BATCH, inputs=[{**event, "occurredAt": (now - timedelta(days=3)).isoformat()}])
        accepted = await gql.data(TRACK_BATCH, inputs=[{**event, "occurredAt": (now - timedelta(days=1)).isoformat()}])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "occurredAt"
    assert "more than 2 days ago" in error["message"]
    assert accepted["trackUsageBatch"]["insertedCount"] == 1


def test_retention_days_are_read_from_the_environment():
    assert Settings.from_env({"LLM_USAGE_RETENTION_DAYS": "400"}).retention_days == 400
    assert Settings.from_env({}).retention_days is None
    assert Settings(max_event_age_days=35, retention_days=7).accepted_event_age_days == 7
    assert Settings(max_event_age_days=35, retention_days=400).accepted_event_age_days == 35
    assert positive_days("") is None
    for bad in ("0", "-3", "7.5", "week"):
        with pytest.raises(ValueError, match="at least 1"):
            positive_days(bad)
