"""Budgets through /graphql on real Postgres: what they count, when they alert, and how inputs are checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from modules.usage.retention.service import UsageRetention
from tests.budgets.conftest import LOOPBACK

BUDGET_FIELDS = "id name scope scopeValue period timeZone limitUsd thresholds paused spentUsd remainingUsd percentUsed exceeded periodStart periodEnd"


async def create_budget(gql, **fields) -> dict:
    given = {"workspaceId": "acme", "name": "Monthly", "limitUsd": "10", **fields}
    data = await gql.data(
        f"mutation($input: CreateBudgetInput!) {{ createBudget(input: $input) {{ webhookSecret budget {{ {BUDGET_FIELDS} }} }} }}",
        input=given,
    )
    return data["createBudget"]


async def track(gql, *costs: str, at: datetime | None = None, **fields) -> dict:
    """One batch: an event per cost (the caller's own figure, so sums are exact)."""
    occurred = (at or datetime.now(UTC)).isoformat()  # now at use: a module-level NOW goes stale
    inputs = [
        {
            "workspaceId": "acme",
            "provider": "openai",
            "model": "gpt-4o",
            "promptTokens": 10,
            "completionTokens": 1,
            "costUsd": cost,
            "occurredAt": occurred,
            **fields,
        }
        for cost in costs
    ]
    data = await gql.data(
        "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }", inputs=inputs
    )
    return data["trackUsageBatch"]


async def budget(gql, budget_id: str) -> dict:
    query = f'{{ budget(id: "{budget_id}") {{ {BUDGET_FIELDS} forecastUsd alerts {{ thresholdPercent spentUsd limitUsd periodStart }} }} }}'
    return (await gql.data(query))["budget"]


async def test_a_budget_is_created_with_defaults_and_a_secret_shown_once(gql, workspace):
    now = datetime.now(UTC)
    created = await create_budget(gql)
    assert (created["webhookSecret"][:6], len(created["webhookSecret"])) == ("whsec_", 6 + 43)  # 32 random bytes
    b = created["budget"]
    assert (b["scope"], b["scopeValue"], b["period"], b["timeZone"], b["thresholds"], b["paused"]) == (
        "WORKSPACE",
        None,
        "MONTHLY",
        "UTC",
        [50, 80, 100],
        False,
    )
    assert (b["limitUsd"], b["spentUsd"], b["remainingUsd"], b["percentUsed"], b["exceeded"]) == (
        "10",
        "0",
        "10",
        "0",
        False,
    )
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(b["periodStart"]) == start
    assert datetime.fromisoformat(b["periodEnd"]) == (start + timedelta(days=32)).replace(day=1)
    listed = await gql.data('{ budgets(workspaceId: "acme") { id webhookUrls } }')
    assert listed["budgets"] == [{"id": b["id"], "webhookUrls": []}]
    assert "webhookSecret" not in str(await gql.data('{ __type(name: "Budget") { fields { name } } }'))


async def test_one_batch_crossing_50_and_80_percent_gives_two_alerts(gql, workspace):
    b = (await create_budget(gql))["budget"]
    await track(gql, "1", "2")  # 3 of 10: no threshold
    assert (await budget(gql, b["id"]))["alerts"] == []
    await track(gql, "2.5", "3")  # 8.5 of 10: crosses 50% and 80% in one batch
    seen = await budget(gql, b["id"])
    assert [(a["thresholdPercent"], a["spentUsd"]) for a in seen["alerts"]] == [(80, "8.5"), (50, "8.5")]
    assert (seen["spentUsd"], seen["remainingUsd"], seen["percentUsed"], seen["exceeded"]) == (
        "8.5",
        "1.5",
        "85",
        False,
    )
    await track(gql, "1.5")  # exactly 10: 100% is reached, so it is crossed
    seen = await budget(gql, b["id"])
    assert [a["thresholdPercent"] for a in seen["alerts"]] == [100, 80, 50]
    assert (seen["spentUsd"], seen["exceeded"]) == ("10", True)
    await track(gql, "4")  # beyond the limit: nothing new
    seen = await budget(gql, b["id"])
    assert len(seen["alerts"]) == 3 and seen["remainingUsd"] == "-4" and seen["percentUsed"] == "140"


async def test_a_user_budget_and_the_workspace_budget_both_count_the_same_call(gql, workspace):
    whole = (await create_budget(gql, name="Workspace", limitUsd="100"))["budget"]
    alice = (await create_budget(gql, name="Alice", limitUsd="2", scope="USER", scopeValue="alice"))["budget"]
    bob = (await create_budget(gql, name="Bob", limitUsd="2", scope="USER", scopeValue="bob"))["budget"]
    gpt = (await create_budget(gql, name="GPT-4o", limitUsd="50", scope="MODEL", scopeValue="gpt-4o"))["budget"]
    await track(gql, "1.25", userId="alice")
    await track(gql, "0.5", userId="carol")
    spent = {b["name"]: (await budget(gql, b["id"]))["spentUsd"] for b in (whole, alice, bob, gpt)}
    assert spent == {"Workspace": "1.75", "Alice": "1.25", "Bob": "0", "GPT-4o": "1.75"}
    assert [a["thresholdPercent"] for a in (await budget(gql, alice["id"]))["alerts"]] == [50]


async def test_provider_task_type_and_tag_budgets_count_only_their_events(gql, workspace):
    made = {
        "openai": await create_budget(gql, name="OpenAI", scope="PROVIDER", scopeValue="OpenAI"),
        "chat": await create_budget(gql, name="Chat", scope="TASK_TYPE", scopeValue="chat"),
        "team": await create_budget(gql, name="Team", scope="TAG", scopeTagKey="team", scopeValue="search"),
    }
    assert made["openai"]["budget"]["scopeValue"] == "openai"
    await track(gql, "1", taskType="chat", tags={"team": "search"})
    await track(gql, "2", taskType="summarize", tags={"team": "ads"})
    await track(gql, "4", provider="anthropic", model="claude-sonnet-4-5", taskType="chat")
    spent = {name: (await budget(gql, m["budget"]["id"]))["spentUsd"] for name, m in made.items()}
    assert spent == {"openai": "3", "chat": "5", "team": "1"}


async def test_periods_roll_over_at_midnight_in_the_budget_time_zone(gql, workspace):
    b = (await create_budget(gql, name="Daily NY", period="DAILY", timeZone="America/New_York", limitUsd="1"))["budget"]
    # 23:30 and 00:30 New York time on either side of midnight (04:30Z and 05:30Z on 2026-03-10, UTC-4)
    await track(gql, "0.6", at=datetime(2026, 3, 10, 3, 30, tzinfo=UTC))
    await track(gql, "0.6", at=datetime(2026, 3, 10, 4, 30, tzinfo=UTC))
    alerts = (await budget(gql, b["id"]))["alerts"]
    assert sorted((a["periodStart"], a["thresholdPercent"], a["spentUsd"]) for a in alerts) == [
        ("2026-03-09T04:00:00+00:00", 50, "0.6"),  # 9 March from midnight EDT (UTC-4, DST began 8 March)
        ("2026-03-10T04:00:00+00:00", 50, "0.6"),
    ]
    # the same two calls in a UTC budget fall in one day and cross 100%
    utc = (await create_budget(gql, name="Daily UTC", period="DAILY", limitUsd="1"))["budget"]
    await track(gql, "0.6", "0.6", at=datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    alerts = (await budget(gql, utc["id"]))["alerts"]
    assert [(a["periodStart"], a["thresholdPercent"], a["spentUsd"]) for a in alerts] == [
        ("2026-03-11T00:00:00+00:00", 100, "1.2"),
        ("2026-03-11T00:00:00+00:00", 80, "1.2"),
        ("2026-03-11T00:00:00+00:00", 50, "1.2"),
    ]


async def test_weekly_periods_start_on_monday_in_the_budget_time_zone(gql, workspace):
    b = (await create_budget(gql, name="Weekly Tokyo", period="WEEKLY", timeZone="Asia/Tokyo", limitUsd="1"))["budget"]
    # Sunday 2026-03-15 23:00 UTC is Monday 08:00 in Tokyo: a new week there
    await track(gql, "0.5", at=datetime(2026, 3, 15, 14, 0, tzinfo=UTC))  # Sunday 23:00 Tokyo
    await track(gql, "0.5", at=datetime(2026, 3, 15, 15, 0, tzinfo=UTC))  # Monday 00:00 Tokyo
    alerts = (await budget(gql, b["id"]))["alerts"]
    assert sorted(a["periodStart"] for a in alerts) == ["2026-03-08T15:00:00+00:00", "2026-03-15T15:00:00+00:00"]


async def test_events_stored_before_the_budget_count_and_a_retry_counts_once(gql, workspace):
    await track(gql, "3", requestId="early")
    b = (await create_budget(gql))["budget"]
    assert b["spentUsd"] == "3"
    await track(gql, "3", requestId="early")  # a retry: a duplicate, not stored again
    await track(gql, "1", requestId="next")
    seen = await budget(gql, b["id"])
    assert seen["spentUsd"] == "4"
    assert seen["alerts"] == []  # 3 were spent before the budget existed; 4 crosses nothing yet


async def test_a_paused_budget_counts_but_does_not_alert(gql, workspace):
    b = (await create_budget(gql, limitUsd="1"))["budget"]
    updated = await gql.data(f'mutation {{ updateBudget(id: "{b["id"]}", input: {{paused: true}}) {{ paused name }} }}')
    assert updated["updateBudget"] == {"paused": True, "name": "Monthly"}
    await track(gql, "0.7")
    seen = await budget(gql, b["id"])
    assert (seen["spentUsd"], seen["alerts"]) == ("0.7", [])
    await gql.data(f'mutation {{ updateBudget(id: "{b["id"]}", input: {{paused: false}}) {{ paused }} }}')
    await track(gql, "0.4")
    assert [a["thresholdPercent"] for a in (await budget(gql, b["id"]))["alerts"]] == [100, 80]  # 1.1: both crossed now


async def test_budget_status_names_the_tightest_matching_budget(gql, workspace):
    await create_budget(gql, name="Workspace", limitUsd="100")
    await create_budget(gql, name="Alice", limitUsd="2", scope="USER", scopeValue="alice")
    await create_budget(gql, name="Claude", limitUsd="1", scope="PROVIDER", scopeValue="anthropic")
    await track(gql, "1.5", userId="alice")
    query = '{{ budgetStatus(workspaceId: "acme", {args}) {{ exceeded tightest {{ name remainingUsd }} budgets {{ name }} }} }}'
    status = (await gql.data(query.format(args='userId: "alice", provider: "openai"')))["budgetStatus"]
    assert status == {
        "exceeded": False,
        "tightest": {"name": "Alice", "remainingUsd": "0.5"},
        "budgets": [{"name": "Alice"}, {"name": "Workspace"}],
    }
    await track(gql, "0.5", userId="alice")
    status = (await gql.data(query.format(args='userId: "alice"')))["budgetStatus"]
    assert status["exceeded"] is True and status["tightest"] == {"name": "Alice", "remainingUsd": "0"}
    status = (await gql.data(query.format(args='userId: "bob", provider: "Anthropic"')))["budgetStatus"]
    assert status["tightest"] == {"name": "Claude", "remainingUsd": "1"} and status["exceeded"] is False


async def test_deleting_a_budget_stops_it_counting(gql, workspace):
    b = (await create_budget(gql))["budget"]
    deleted = await gql.data(f'mutation {{ deleteBudget(id: "{b["id"]}") }}')
    assert deleted == {"deleteBudget": b["id"]}
    await track(gql, "1")
    error = await gql.error(f'{{ budget(id: "{b["id"]}") {{ id }} }}')
    assert error["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"limitUsd": "0"}, "limitUsd", "more than 0"),
        ({"limitUsd": "-5"}, "limitUsd", "more than 0"),
        ({"name": "  "}, "name", "1 to 200"),
        ({"timeZone": "Mars/Olympus"}, "timeZone", "IANA"),
        ({"thresholds": [50, 50]}, "thresholds", "distinct"),
        ({"thresholds": [0, 80]}, "thresholds", "from 1 to 1000"),
        ({"thresholds": []}, "thresholds", "distinct"),
        ({"scopeValue": "alice"}, "scopeValue", "WORKSPACE"),
        ({"scope": "USER"}, "scopeValue", "needs the value"),
        ({"scope": "TAG", "scopeValue": "x"}, "scopeTagKey", "tag key"),
        ({"scope": "MODEL", "scopeValue": "m", "scopeTagKey": "k"}, "scopeTagKey", "only a TAG"),
        ({"scope": "PROVIDER_INSTANCE", "scopeValue": "00000000-0000-0000-0000-000000000000"}, "scopeValue", "no such"),
        ({"webhookUrls": ["ftp://example.com/hook"]}, "webhookUrls[0]", "http(s)"),
        ({"webhookUrls": ["not a url"]}, "webhookUrls[0]", "http(s)"),
    ],
)
async def test_bad_budget_inputs_name_the_field_and_write_nothing(gql, workspace, fields, field, reason):
    given = {"workspaceId": "acme", "name": "B", "limitUsd": "10", **fields}
    error = await gql.error(
        "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id } } }", input=given
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    problem = error["extensions"]["problems"][0]
    assert problem["field"] == field and reason in problem["reason"], problem
    assert (await gql.data('{ budgets(workspaceId: "acme") { id } }'))["budgets"] == []


async def test_budget_names_are_unique_in_a_workspace(gql, workspace):
    await create_budget(gql)
    error = await gql.error(
        'mutation { createBudget(input: {workspaceId: "acme", name: "Monthly", limitUsd: "1"}) { budget { id } } }'
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "name")
    other = (await create_budget(gql, name="Other"))["budget"]
    error = await gql.error(f'mutation {{ updateBudget(id: "{other["id"]}", input: {{name: "Monthly"}}) {{ name }} }}')
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "name")
    renamed = await gql.data(f'mutation {{ updateBudget(id: "{other["id"]}", input: {{name: "Weekly"}}) {{ name }} }}')
    assert renamed == {"updateBudget": {"name": "Weekly"}}


@pytest.mark.parametrize("webhook_allow_hosts", [LOOPBACK])
async def test_crossing_alerts_queue_one_signed_delivery_per_webhook_url(gql, workspace):
    created = await create_budget(gql, limitUsd="1", webhookUrls=["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"])
    await track(gql, "0.6")
    deliveries = (
        await gql.data(
            f'{{ webhookDeliveries(budgetId: "{created["budget"]["id"]}") {{ url status attemptCount attempts {{ statusCode }} }} }}'
        )
    )["webhookDeliveries"]
    assert sorted(d["url"] for d in deliveries) == ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]
    assert {(d["status"], d["attemptCount"]) for d in deliveries} == {("PENDING", 0)}  # no dispatcher in this test


def test_forecast_is_a_straight_line_from_the_period_run_rate():
    from modules.budgets.records import Budget, BudgetPeriod, BudgetScope, BudgetSpend

    start = datetime(2026, 11, 1, tzinfo=UTC)
    b = Budget(
        id=None,
        workspace_id=None,
        name="b",
        scope=BudgetScope.WORKSPACE,
        scope_value=None,
        scope_tag_key=None,  # type: ignore[arg-type]
        period=BudgetPeriod.MONTHLY,
        time_zone="UTC",
        limit_usd=Decimal(100),
        thresholds=(50,),
        webhook_urls=(),
        webhook_secret="s",
        paused=False,
        created_at=start,
        updated_at=start,
    )
    spend = BudgetSpend(
        budget=b,
        period_start=start,
        period_end=datetime(2026, 12, 1, tzinfo=UTC),
        spent_usd=Decimal(12),
        at=datetime(2026, 11, 10, tzinfo=UTC),
    )
    assert spend.forecast_usd == Decimal("40")  # 12 in 9 of 30 days
    assert spend.percent_used == Decimal("12")


async def test_a_budget_counts_events_that_retention_has_deleted(gql, workspace, database):
    """A period's first sum reads the rollups when they hold it (here a UTC day), so the events retention
    deleted still count, and a month of history costs a few rollup rows instead of every event."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await track(gql, "2", "1", at=today)
    assert await UsageRetention(database=database, retention_days=1).prune(today + timedelta(days=2)) == 2
    events = await gql.data('{ usageEvents(filter: {workspaceId: "acme"}) { edges { cursor } } }')
    assert events["usageEvents"]["edges"] == []
    b = (await create_budget(gql, period="DAILY", limitUsd="4"))["budget"]
    assert (b["spentUsd"], b["periodStart"]) == ("3", today.isoformat())
    await track(gql, "0.5", at=today + timedelta(seconds=1))  # the first touch of the period's counter
    seen = await budget(gql, b["id"])
    assert seen["spentUsd"] == "3.5"
    assert [(a["thresholdPercent"], a["spentUsd"]) for a in seen["alerts"]] == [(80, "3.5")]
