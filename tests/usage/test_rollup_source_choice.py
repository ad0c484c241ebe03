"""Which source a query reads, case by case: the smallest rollup that gives exactly the events' answer, else
the events. A wrong choice that still gives right numbers (the events instead of a rollup) is a cost no sum
shows, so the choice itself is asserted; the rollups' numbers are held by test_rollups.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.metrics import ALL_METRICS, MetricNeeds
from modules.usage.analytics.sources import DAILY, EVENTS, HOURLY, USER_DAILY, USER_WEEKLY, source_for
from modules.usage.records import TagCondition, UsageFilterSpec, UsageStatus

W = uuid.uuid4()
SUMS = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=False)
PERCENTILES = MetricNeeds(distinct_users=False)
DAY = datetime(2026, 3, 10, tzinfo=UTC)
HOUR = DAY + timedelta(hours=10)
MONDAY = datetime(2026, 3, 9, tzinfo=UTC)


def spec(**fields) -> UsageFilterSpec:
    return UsageFilterSpec(workspace_id=W, **fields)


CASES = [
    # (what, spec, needs, dimensions, bounds, expected)
    ("sums of everything", spec(), SUMS, (), (), DAILY),
    ("whole days", spec(start=DAY, end=DAY + timedelta(days=3)), SUMS, (), (), DAILY),
    (
        "a UTC midnight given in Paris time",
        spec(start=datetime(2026, 3, 10, 1, tzinfo=timezone(timedelta(hours=1)))),
        SUMS,
        (),
        (),
        DAILY,
    ),
    ("whole hours", spec(start=HOUR, end=HOUR + timedelta(hours=5)), SUMS, (), (), HOURLY),
    ("an end on the hour, a start at midnight", spec(start=DAY, end=HOUR), SUMS, (), (), HOURLY),
    ("half past", spec(start=HOUR + timedelta(minutes=30)), SUMS, (), (), EVENTS),
    ("a second past the hour", spec(end=HOUR + timedelta(seconds=1)), SUMS, (), (), EVENTS),
    ("a microsecond past the hour", spec(start=HOUR + timedelta(microseconds=1)), SUMS, (), (), EVENTS),
    ("hourly series buckets", spec(start=DAY), SUMS, (), (HOUR, HOUR + timedelta(hours=1)), HOURLY),
    ("a bucket at half past", spec(start=DAY), SUMS, (), (HOUR + timedelta(minutes=30),), EVENTS),
    # Percentiles: from the latency histograms beside the daily rollup, where they hold the filter and groups.
    ("duration percentiles", spec(), MetricNeeds(ttft_percentiles=False, distinct_users=False), (), (), DAILY),
    ("first-token percentiles", spec(), MetricNeeds(duration_percentiles=False, distinct_users=False), (), (), DAILY),
    ("percentiles by model", spec(start=DAY), PERCENTILES, (UsageDimension.PROVIDER, UsageDimension.MODEL), (), DAILY),
    ("percentiles of a task type", spec(task_type="chat"), PERCENTILES, (), (), EVENTS),
    ("percentiles by task type", spec(), PERCENTILES, (UsageDimension.TASK_TYPE,), (), EVENTS),
    ("percentiles of errors", spec(status=UsageStatus.ERROR), PERCENTILES, (), (), EVENTS),
    ("percentiles of a user", spec(user_id="alice"), PERCENTILES, (), (), EVENTS),
    ("percentiles by the hour", spec(start=HOUR), PERCENTILES, (), (), EVENTS),
    ("percentiles of hourly buckets", spec(start=DAY), PERCENTILES, (), (HOUR, HOUR + timedelta(hours=1)), EVENTS),
    ("every metric", spec(), ALL_METRICS, (), (), EVENTS),
    (
        "distinct users of all events",
        spec(),
        MetricNeeds(duration_percentiles=False, ttft_percentiles=False),
        (),
        (),
        EVENTS,
    ),
    (
        "distinct users of the events naming one",
        spec(with_user=True),
        MetricNeeds(duration_percentiles=False, ttft_percentiles=False),
        (),
        (),
        USER_WEEKLY,
    ),
    # Per user: whole UTC weeks (Monday to Sunday) from the weekly rows, other whole days from the daily ones.
    ("the events naming a user", spec(with_user=True), SUMS, (), (), USER_WEEKLY),
    ("one user", spec(user_id="alice"), SUMS, (), (), USER_WEEKLY),
    ("some users", spec(user_ids=("alice", "bob")), SUMS, (), (), USER_WEEKLY),
    (
        "one user's whole weeks",
        spec(user_id="alice", start=MONDAY, end=MONDAY + timedelta(weeks=2)),
        SUMS,
        (),
        (),
        USER_WEEKLY,
    ),
    ("one user from a Tuesday", spec(user_id="alice", start=DAY), SUMS, (), (), USER_DAILY),
    ("one user to a Sunday", spec(user_id="alice", end=MONDAY - timedelta(days=1)), SUMS, (), (), USER_DAILY),
    (
        "users' daily series buckets",
        spec(with_user=True, start=MONDAY),
        SUMS,
        (UsageDimension.USER,),
        (MONDAY, MONDAY + timedelta(days=1)),
        USER_DAILY,
    ),
    (
        "users' weekly series buckets",
        spec(with_user=True, start=MONDAY),
        SUMS,
        (UsageDimension.USER,),
        (MONDAY, MONDAY + timedelta(weeks=1)),
        USER_WEEKLY,
    ),
    ("one user's hours", spec(user_id="alice", start=HOUR), SUMS, (), (), EVENTS),
    ("a user and a model", spec(user_id="alice", model="gpt-4o"), SUMS, (), (), EVENTS),
    ("a model", spec(model="gpt-4o"), SUMS, (), (), DAILY),
    ("a model, by the hour", spec(model="gpt-4o", start=HOUR), SUMS, (), (), HOURLY),
    ("a task type, by the hour (hourly rows have none)", spec(task_type="chat", start=HOUR), SUMS, (), (), EVENTS),
    ("some providers and a status", spec(providers=("openai",), status=UsageStatus.ERROR), SUMS, (), (), DAILY),
    ("an error type", spec(error_type="Timeout"), SUMS, (), (), EVENTS),
    ("a session", spec(session_id="s-1"), SUMS, (), (), EVENTS),
    ("a tag", spec(tags=(TagCondition(key="env", value="prod"),)), SUMS, (), (), EVENTS),
    ("by model", spec(), SUMS, (UsageDimension.MODEL,), (), DAILY),
    ("by task type, by the hour", spec(start=HOUR), SUMS, (UsageDimension.TASK_TYPE,), (), EVENTS),
    ("by provider, by the hour", spec(start=HOUR), SUMS, (UsageDimension.PROVIDER, UsageDimension.STATUS), (), HOURLY),
    ("by user, of the events naming one", spec(with_user=True), SUMS, (UsageDimension.USER,), (), USER_WEEKLY),
    ("by user and model", spec(with_user=True), SUMS, (UsageDimension.USER, UsageDimension.MODEL), (), EVENTS),
    ("by session", spec(), SUMS, (UsageDimension.SESSION,), (), EVENTS),
    ("by error type", spec(), SUMS, (UsageDimension.ERROR_TYPE,), (), EVENTS),
]


@pytest.mark.parametrize(
    ("spec", "needs", "dimensions", "bounds", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_smallest_exact_source_is_chosen(spec, needs, dimensions, bounds, expected):
    chosen = source_for(spec, needs, dimensions, bounds)
    assert (chosen.table.__tablename__, chosen.bucket) == (expected.table.__tablename__, expected.bucket)


def test_a_rollup_reads_whole_buckets_and_the_events_read_the_moments():
    hours = spec(start=HOUR, end=HOUR + timedelta(hours=2))
    days = spec(start=DAY, end=DAY + timedelta(days=2))
    assert [str(c.compile(compile_kwargs={"literal_binds": True})) for c in HOURLY.conditions(hours)][1:] == [
        "usage_hourly.hour >= '2026-03-10 10:00:00+00:00'",
        "usage_hourly.hour < '2026-03-10 12:00:00+00:00'",
    ]
    assert [str(c.compile(compile_kwargs={"literal_binds": True})) for c in DAILY.conditions(days)][1:] == [
        "usage_daily.day >= '2026-03-10'",
        "usage_daily.day < '2026-03-12'",
    ]
    assert (EVENTS.rollup, DAILY.rollup, HOURLY.rollup, USER_DAILY.rollup) == (False, True, True, True)


def test_bucket_bounds_are_in_utc_whatever_the_host_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        given = spec(start=datetime(2026, 3, 10, 11, tzinfo=timezone(timedelta(hours=1))))  # 10:00 UTC
        conditions = [str(c.compile(compile_kwargs={"literal_binds": True})) for c in HOURLY.conditions(given)][1:]
        midnight = source_for(spec(start=DAY, end=DAY + timedelta(days=1)), SUMS)  # 09:00 in Tokyo
    finally:
        monkeypatch.undo()
        time.tzset()
    assert conditions == ["usage_hourly.hour >= '2026-03-10 10:00:00+00:00'"]
    assert midnight.table.__tablename__ == "usage_daily"


BY_MODEL_AND_TASK = (UsageDimension.PROVIDER, UsageDimension.MODEL, UsageDimension.TASK_TYPE)
DURATIONS = MetricNeeds(ttft_percentiles=False, distinct_users=False)
FIRST_TOKENS = MetricNeeds(duration_percentiles=False, distinct_users=False)


@pytest.mark.parametrize(
    ("needs", "dimensions", "percentile_dimensions", "given", "expected"),
    [
        # the overview's breakdowns: sums by task type too, percentiles only by provider and model
        (PERCENTILES, BY_MODEL_AND_TASK, (UsageDimension.PROVIDER, UsageDimension.MODEL), spec(), DAILY),
        (PERCENTILES, (UsageDimension.TASK_TYPE,), (), spec(), DAILY),
        (PERCENTILES, BY_MODEL_AND_TASK, (UsageDimension.TASK_TYPE,), spec(), EVENTS),
        (PERCENTILES, BY_MODEL_AND_TASK, None, spec(), EVENTS),  # None: percentiles by every dimension
        # the histograms are daily: one measure's percentiles by the hour are the events' as well
        (DURATIONS, (), None, spec(start=HOUR), EVENTS),
        (FIRST_TOKENS, (), None, spec(end=HOUR), EVENTS),
        (DURATIONS, (), None, spec(start=DAY), DAILY),
    ],
    ids=[
        "by model and task, percentiles by model",
        "by task, percentiles of the totals only",
        "percentiles by task type",
        "percentiles by every dimension",
        "duration percentiles from an hour",
        "first-token percentiles to an hour",
        "duration percentiles from midnight",
    ],
)
def test_percentiles_are_read_from_the_histograms_only_where_they_hold_what_is_asked(
    needs, dimensions, percentile_dimensions, given, expected
):
    chosen = source_for(given, needs, dimensions, (), percentile_dimensions)
    assert (chosen.table.__tablename__, chosen.bucket) == (expected.table.__tablename__, expected.bucket)
