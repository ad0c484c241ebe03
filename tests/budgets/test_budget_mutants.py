"""Budgets at the edges the mutation run found untried: a threshold met exactly by spend older than the budget,
the crossing rule on its boundaries, and calendar periods worked out by hand (DST days, year ends, Mondays)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID

import pytest

from modules.budgets import accounting
from modules.budgets.accounting import BudgetAccounting, crossed
from modules.budgets.periods import period_bounds
from modules.budgets.records import Budget, BudgetAlert, BudgetPeriod, BudgetScope
from modules.budgets.webhooks import alert_body
from tests.budgets.test_budgets import budget, create_budget, track


def a_budget(limit: str, thresholds: tuple[int, ...]) -> Budget:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Budget(
        id=UUID(int=1),
        workspace_id=UUID(int=2),
        name="b",
        scope=BudgetScope.WORKSPACE,
        scope_value=None,
        scope_tag_key=None,
        period=BudgetPeriod.MONTHLY,
        time_zone="UTC",
        limit_usd=Decimal(limit),
        thresholds=thresholds,
        webhook_urls=(),
        webhook_secret="s",
        paused=False,
        created_at=at,
        updated_at=at,
    )


async def test_a_threshold_met_exactly_before_the_budget_existed_is_not_crossed_again(gql, workspace):
    """(before, after]: spend already at 50% when the budget is made (no batch crossed it for this budget)
    does not cross 50% on the next call; `<=` instead of `<` would raise it now."""
    at = datetime.now(UTC)
    await track(gql, "5", at=at)
    b = (await create_budget(gql))["budget"]
    assert (b["spentUsd"], b["percentUsed"]) == ("5", "50")
    await track(gql, "1", at=at)
    seen = await budget(gql, b["id"])
    assert (seen["spentUsd"], seen["alerts"]) == ("6", [])
    await track(gql, "2", at=at)  # 8 of 10: 80% lies in (6, 8]
    seen = await budget(gql, b["id"])
    assert [(a["thresholdPercent"], a["spentUsd"]) for a in seen["alerts"]] == [(80, "8")]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("0", "4.99", []),
        ("0", "5", [50]),  # reaching a threshold crosses it
        ("4.99", "5", [50]),
        ("5", "7.99", []),  # already at 50%: not crossed again
        ("5", "8", [80]),
        ("0", "10", [50, 80, 100]),  # in the budget's order
        ("7.99", "25", [80, 100, 250]),
        ("10", "10", []),
        ("25", "30", []),
    ],
)
def test_the_thresholds_crossed_are_those_in_before_after(before, after, expected):
    assert crossed(a_budget("10", (50, 80, 100, 250)), Decimal(before), Decimal(after)) == expected


def test_a_fractional_threshold_amount_is_compared_exactly():
    # 33% of 0.03 is 0.0099: reached by 0.0099, not by 0.0098
    b = a_budget("0.03", (33,))
    assert (crossed(b, Decimal(0), Decimal("0.0098")), crossed(b, Decimal(0), Decimal("0.0099"))) == ([], [33])


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "zone", "at", "start", "end"),
    [
        # days from local midnight; the first instant of a day belongs to it, the last to the day before
        (BudgetPeriod.DAILY, "UTC", utc(2026, 3, 10, 0, 0), utc(2026, 3, 10), utc(2026, 3, 11)),
        (BudgetPeriod.DAILY, "UTC", utc(2026, 3, 10, 23, 59, 59), utc(2026, 3, 10), utc(2026, 3, 11)),
        (BudgetPeriod.DAILY, "UTC", utc(2026, 12, 31, 12), utc(2026, 12, 31), utc(2027, 1, 1)),
        # New York: 8 March 2026 is 23 hours long (EST to EDT), 1 November 25 hours (EDT to EST)
        (BudgetPeriod.DAILY, "America/New_York", utc(2026, 3, 8, 12), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
        (BudgetPeriod.DAILY, "America/New_York", utc(2026, 11, 1, 12), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
        (BudgetPeriod.DAILY, "America/New_York", utc(2026, 3, 10, 3, 59), utc(2026, 3, 9, 4), utc(2026, 3, 10, 4)),
        # ISO weeks from Monday: Wednesday 11 March 2026, Sunday 15 March (still that week), Monday 16 March
        (BudgetPeriod.WEEKLY, "UTC", utc(2026, 3, 11, 9), utc(2026, 3, 9), utc(2026, 3, 16)),
        (BudgetPeriod.WEEKLY, "UTC", utc(2026, 3, 15, 23, 59), utc(2026, 3, 9), utc(2026, 3, 16)),
        (BudgetPeriod.WEEKLY, "UTC", utc(2026, 3, 16), utc(2026, 3, 16), utc(2026, 3, 23)),
        # a week across a year end: Monday 28 December 2026 to Monday 4 January 2027
        (BudgetPeriod.WEEKLY, "UTC", utc(2027, 1, 1), utc(2026, 12, 28), utc(2027, 1, 4)),
        (BudgetPeriod.WEEKLY, "Asia/Tokyo", utc(2026, 3, 15, 15), utc(2026, 3, 15, 15), utc(2026, 3, 22, 15)),
        # months from the first: 31-, 30- and 28-day months, December into January, a zone ahead of UTC
        (BudgetPeriod.MONTHLY, "UTC", utc(2026, 1, 31, 23), utc(2026, 1, 1), utc(2026, 2, 1)),
        (BudgetPeriod.MONTHLY, "UTC", utc(2026, 2, 14), utc(2026, 2, 1), utc(2026, 3, 1)),
        (BudgetPeriod.MONTHLY, "UTC", utc(2026, 4, 30, 12), utc(2026, 4, 1), utc(2026, 5, 1)),
        (BudgetPeriod.MONTHLY, "UTC", utc(2026, 12, 31, 23, 59), utc(2026, 12, 1), utc(2027, 1, 1)),
        (BudgetPeriod.MONTHLY, "Asia/Tokyo", utc(2026, 4, 30, 15), utc(2026, 4, 30, 15), utc(2026, 5, 31, 15)),
        (BudgetPeriod.MONTHLY, "America/New_York", utc(2026, 3, 1, 4), utc(2026, 2, 1, 5), utc(2026, 3, 1, 5)),
    ],
)
def test_period_bounds_worked_out_by_hand(period, zone, at, start, end):
    assert period_bounds(period, zone, at) == (start, end)


def test_period_bounds_are_in_utc_whatever_the_host_zone(monkeypatch):
    """A server whose host runs in Tokyo time still gives UTC boundaries (`astimezone()` alone would not)."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        start, end = period_bounds(BudgetPeriod.DAILY, "Europe/Paris", utc(2026, 7, 1, 12))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert (start.isoformat(), end.isoformat()) == ("2026-06-30T22:00:00+00:00", "2026-07-01T22:00:00+00:00")


# The accounting's own contract, below the API: the order it takes row locks in, when it asks the events table,
# what it records and publishes. A fake repository stands in for SQL (the API tests above hold the real one).


@dataclass
class Repository:
    budgets: list[Budget]
    spent: dict[tuple[UUID, datetime], Decimal]
    calls: list[tuple[str, datetime | None, Decimal | None, Decimal | None]] = field(default_factory=list)
    wanted: list[dict] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)

    async def of_workspaces(self, session, workspace_ids):
        return [b for b in self.budgets if b.workspace_id in workspace_ids]

    async def add_spend(self, session, *, budget, period_start, delta, counted):
        self.calls.append((budget.name, period_start, delta, counted))
        key = (budget.id, period_start)
        if counted is None:
            if key not in self.spent:
                return None
            self.spent[key] += delta
        else:
            self.spent[key] = counted
        return self.spent[key]

    async def insert_alerts(self, session, wanted):
        self.wanted.extend(wanted)
        return [
            BudgetAlert(id=n, created_at=utc(2026, 3, 10, 12), **{k: a[k] for k in ALERT_FIELDS})
            for n, a in enumerate(wanted, start=1)
        ]

    async def insert_deliveries(self, session, deliveries):
        self.deliveries.extend(deliveries)


ALERT_FIELDS = ("workspace_id", "budget_id", "period_start", "threshold", "spent_usd", "limit_usd")


@dataclass
class Aggregates:
    """The events table's sum for a period's first row (here 0.1 spent before, plus the batch)."""

    total: Decimal
    asked: list = field(default_factory=list)

    async def cost(self, session, spec):
        self.asked.append((spec.workspace_id, spec.start, spec.end))
        return self.total


WORKSPACE = UUID(int=99)
DAY = (utc(2026, 3, 10), utc(2026, 3, 11))


def event(cost: str | None, tags: dict | None = None) -> SimpleNamespace:
    """The fields of a stored UsageEvent that budgets read."""
    return SimpleNamespace(
        workspace_id=WORKSPACE, cost_usd=Decimal(cost) if cost else None, tags=tags, occurred_at=utc(2026, 3, 10, 9),
        user_id=None, provider="openai", provider_instance_id=None, model="gpt-4o", task_type=None,
    )  # fmt: skip


def daily(number: int, name: str, **fields) -> Budget:
    b = a_budget("1", (50, 80))
    return replace(b, id=UUID(int=number), workspace_id=WORKSPACE, name=name, period=BudgetPeriod.DAILY, **fields)


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    async def publish(session, channel, payload):
        sent.append((channel, payload))

    monkeypatch.setattr(accounting, "publish", publish)
    return sent


async def test_locks_in_budget_id_order_asks_the_events_table_once_and_skips_a_paused_budget(published):
    # Listed by name (active first), locked by id (paused first): a paused budget must not stop the others.
    paused = daily(1, "b-paused", paused=True)
    active = daily(2, "a-active", webhook_urls=("https://hooks.example/1", "https://hooks.example/2"))
    repository = Repository(budgets=[active, paused], spent={(paused.id, DAY[0]): Decimal("0.2")})
    aggregates = Aggregates(total=Decimal("0.7"))
    counting = BudgetAccounting(repository=repository, aggregates=aggregates)  # type: ignore[arg-type]

    await counting.on_stored(None, [event("0.25"), event("0.35"), event(None), event("0")])  # type: ignore[arg-type]

    assert repository.calls == [
        ("b-paused", DAY[0], Decimal("0.60"), None),  # its period has a row: one UPDATE
        ("a-active", DAY[0], Decimal("0.60"), None),  # no row yet: counted from the events, then inserted
        ("a-active", DAY[0], Decimal("0.60"), Decimal("0.7")),
    ]
    assert aggregates.asked == [(WORKSPACE, *DAY)]
    assert repository.spent == {(paused.id, DAY[0]): Decimal("0.80"), (active.id, DAY[0]): Decimal("0.7")}
    assert repository.wanted == [  # 0.1 -> 0.7 crosses 50%; the paused budget's 80% is not alerted
        {"workspace_id": WORKSPACE, "budget_id": active.id, "period_start": DAY[0], "threshold": 50,
         "spent_usd": Decimal("0.7"), "limit_usd": Decimal("1")},
    ]  # fmt: skip
    alert = BudgetAlert(id=1, created_at=utc(2026, 3, 10, 12), **{k: repository.wanted[0][k] for k in ALERT_FIELDS})
    body = alert_body(active, alert, DAY[1])
    assert repository.deliveries == [
        {"workspace_id": WORKSPACE, "budget_id": active.id, "alert_id": 1, "url": url, "body": body}
        for url in active.webhook_urls
    ]
    assert published == [("llm_usage_alerts", '{"alerts": [1]}')]


async def test_a_tag_budget_counts_events_with_its_tag_and_no_others(published):
    tagged = daily(3, "team", scope=BudgetScope.TAG, scope_tag_key="team", scope_value="search")
    repository = Repository(budgets=[tagged], spent={(tagged.id, DAY[0]): Decimal(0)})
    counting = BudgetAccounting(repository=repository, aggregates=Aggregates(total=Decimal(0)))  # type: ignore[arg-type]
    batch = [event("0.5", {"team": "search"}), event("0.25", {"team": "ads"}), event("0.125", None)]
    await counting.on_stored(None, batch)  # type: ignore[arg-type]
    assert repository.calls == [("team", DAY[0], Decimal("0.5"), None)]
    assert [(a["threshold"], a["spent_usd"]) for a in repository.wanted] == [(50, Decimal("0.5"))]
    assert published == [("llm_usage_alerts", '{"alerts": [1]}')]


async def test_nothing_is_asked_for_a_batch_without_cost_or_without_budgets(published):
    repository = Repository(budgets=[], spent={})
    counting = BudgetAccounting(repository=repository, aggregates=Aggregates(total=Decimal(0)))  # type: ignore[arg-type]
    await counting.on_stored(None, [event("0.5")])  # type: ignore[arg-type]
    await counting.on_stored(None, [event(None), event("0")])  # type: ignore[arg-type]
    assert (repository.calls, repository.wanted, published) == ([], [], [])
