"""usageTimeSeries: buckets aligned to the caller's time zone, across DST changes, empty ones as zeros."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.documents import TRACK_BATCH

SERIES = """query($filter: UsageFilter!, $interval: TimeInterval!, $tz: String!, $groupBy: [UsageDimension!]) {
  usageTimeSeries(filter: $filter, interval: $interval, timeZone: $tz, groupBy: $groupBy) {
    interval timeZone
    buckets { start end metrics { calls costUsd promptTokens p95DurationMs }
              groups { dimensions { value } metrics { calls promptTokens } } } } }"""


async def track_at(gql, *moments: str, model: str = "gpt-4o") -> None:
    inputs = [
        {
            "workspaceId": "acme",
            "provider": "openai",
            "model": model,
            "promptTokens": 100 + i,
            "completionTokens": 1,
            "occurredAt": moment,
            "durationMs": 100,
        }
        for i, moment in enumerate(moments)
    ]
    await gql.data(TRACK_BATCH, inputs=inputs)


async def series(
    gql, start: str, end: str, interval: str, tz: str, group_by: list[str] | None = None
) -> dict[str, Any]:
    return (
        await gql.data(
            SERIES, filter={"workspaceId": "acme", "from": start, "to": end}, interval=interval, tz=tz, groupBy=group_by
        )
    )["usageTimeSeries"]


def hours(bucket: dict[str, Any]) -> float:
    return (datetime.fromisoformat(bucket["end"]) - datetime.fromisoformat(bucket["start"])).total_seconds() / 3600


async def test_new_york_days_across_the_spring_dst_change(gql, workspace):
    await track_at(
        gql,
        "2025-03-08T12:00:00-05:00",
        "2025-03-09T01:30:00-05:00",
        "2025-03-09T03:30:00-04:00",
        "2025-03-09T23:30:00-04:00",
        "2025-03-10T00:30:00-04:00",
    )
    answer = await series(gql, "2025-03-08T00:00:00-05:00", "2025-03-11T00:00:00-04:00", "DAY", "America/New_York")
    assert (answer["interval"], answer["timeZone"]) == ("DAY", "America/New_York")
    buckets = answer["buckets"]
    assert [(b["start"], b["metrics"]["calls"]) for b in buckets] == [
        ("2025-03-08T00:00:00-05:00", 1),
        ("2025-03-09T00:00:00-05:00", 3),
        ("2025-03-10T00:00:00-04:00", 1),
    ]
    assert [hours(b) for b in buckets] == [24, 23, 24]


async def test_new_york_hours_skip_the_missing_hour_and_fall_back_makes_a_long_day(gql, workspace):
    await track_at(gql, "2025-03-09T06:30:00Z", "2025-03-09T07:10:00Z", "2025-11-02T05:30:00Z", "2025-11-02T06:30:00Z")
    spring = await series(gql, "2025-03-09T06:00:00Z", "2025-03-09T08:00:00Z", "HOUR", "America/New_York")
    assert [(b["start"], b["metrics"]["calls"]) for b in spring["buckets"]] == [
        ("2025-03-09T01:00:00-05:00", 1),
        ("2025-03-09T03:00:00-04:00", 1),
    ]
    autumn = await series(gql, "2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z", "DAY", "America/New_York")
    assert [(b["start"], hours(b), b["metrics"]["calls"]) for b in autumn["buckets"]] == [
        ("2025-11-02T00:00:00-04:00", 25, 2),
    ]
    repeated = await series(gql, "2025-11-02T05:00:00Z", "2025-11-02T07:00:00Z", "HOUR", "America/New_York")
    assert [(b["start"], b["metrics"]["calls"]) for b in repeated["buckets"]] == [
        ("2025-11-02T01:00:00-04:00", 1),
        ("2025-11-02T01:00:00-05:00", 1),
    ]


async def test_istanbul_days_differ_from_utc_days(gql, workspace):
    await track_at(gql, "2025-06-01T22:30:00Z")  # 01:30 on June 2nd in Istanbul (UTC+3)
    utc = await series(gql, "2025-06-01T00:00:00Z", "2025-06-03T00:00:00Z", "DAY", "UTC")
    istanbul = await series(gql, "2025-06-01T00:00:00+03:00", "2025-06-03T00:00:00+03:00", "DAY", "Europe/Istanbul")
    assert [b["metrics"]["calls"] for b in utc["buckets"]] == [1, 0]
    assert [(b["start"], b["metrics"]["calls"]) for b in istanbul["buckets"]] == [
        ("2025-06-01T00:00:00+03:00", 0),
        ("2025-06-02T00:00:00+03:00", 1),
    ]


async def test_month_buckets_and_empty_months_filled_with_zeros(gql, workspace):
    await track_at(gql, "2025-01-15T10:00:00Z", "2025-01-31T22:00:00Z", "2025-03-02T00:00:00Z")
    answer = await series(gql, "2025-01-01T00:00:00+03:00", "2025-04-01T00:00:00+03:00", "MONTH", "Europe/Istanbul")
    assert [(b["start"], b["end"], b["metrics"]["calls"]) for b in answer["buckets"]] == [
        ("2025-01-01T00:00:00+03:00", "2025-02-01T00:00:00+03:00", 1),  # Jan 31st 22:00 UTC is February there
        ("2025-02-01T00:00:00+03:00", "2025-03-01T00:00:00+03:00", 1),
        ("2025-03-01T00:00:00+03:00", "2025-04-01T00:00:00+03:00", 1),
    ]
    empty = await series(gql, "2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z", "WEEK", "UTC")
    assert empty["buckets"][0]["start"] == "2025-04-28T00:00:00+00:00"  # weeks start on Monday
    assert all(
        b["metrics"] == {"calls": 0, "costUsd": "0", "promptTokens": 0, "p95DurationMs": None} for b in empty["buckets"]
    )
    assert len(empty["buckets"]) == 5
    assert {hours(b) for b in empty["buckets"]} == {7 * 24}


async def test_month_buckets_run_across_the_year_end(gql, workspace):
    await track_at(gql, "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z")
    answer = await series(gql, "2025-11-15T00:00:00Z", "2026-02-01T00:00:00Z", "MONTH", "UTC")
    assert [(b["start"], b["metrics"]["calls"]) for b in answer["buckets"]] == [
        ("2025-11-01T00:00:00+00:00", 0),
        ("2025-12-01T00:00:00+00:00", 1),
        ("2026-01-01T00:00:00+00:00", 1),
    ]
    assert answer["buckets"][-1]["end"] == "2026-02-01T00:00:00+00:00"


async def test_each_bucket_can_be_broken_down(gql, workspace):
    await track_at(gql, "2025-06-01T01:00:00Z", "2025-06-01T02:00:00Z")
    await track_at(gql, "2025-06-01T03:00:00Z", model="gpt-4o-mini")
    answer = await series(gql, "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z", "DAY", "UTC", ["MODEL"])
    [bucket] = answer["buckets"]
    assert bucket["metrics"]["calls"] == 3
    assert [(g["dimensions"][0]["value"], g["metrics"]["calls"]) for g in bucket["groups"]] == [
        ("gpt-4o", 2),
        ("gpt-4o-mini", 1),
    ]
    assert sum(g["metrics"]["promptTokens"] for g in bucket["groups"]) == bucket["metrics"]["promptTokens"]


async def test_too_many_buckets_or_an_unknown_zone_are_refused(gql, workspace):
    error = await gql.error(
        SERIES,
        filter={"workspaceId": "acme", "from": "2025-01-01T00:00:00Z", "to": "2025-01-03T00:00:00Z"},
        interval="MINUTE",
        tz="UTC",
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "interval")
    assert "narrow the range or use a larger interval" in error["message"]
    for name in ("Mars/Olympus", "A" * 300, "../../../etc/passwd", "Europe/../../x", "UTC\n"):
        # a 300-character name made ZoneInfo raise OSError (file name too long), answered UNAVAILABLE: retried forever
        zone = await gql.error(SERIES, filter={"workspaceId": "acme"}, interval="DAY", tz=name)
        assert (zone["extensions"]["code"], zone["extensions"]["field"]) == ("BAD_USER_INPUT", "timeZone"), name
    budget = await gql.error(
        'mutation { createBudget(input: {workspaceId: "acme", name: "b", limitUsd: "1", timeZone: "%s"}) '
        "{ budget { id } } }" % ("A" * 300)
    )
    assert (budget["extensions"]["code"], budget["extensions"]["field"]) == ("BAD_USER_INPUT", "timeZone")


async def test_a_series_of_more_than_20000_bucket_groups_is_refused_naming_group_by(gql, workspace):
    calls = """query($filter: UsageFilter!) { usageTimeSeries(filter: $filter, interval: DAY, groupBy: [USER]) {
      buckets { metrics { calls } groups { metrics { calls } } } } }"""
    day = {"workspaceId": "acme", "from": "2025-06-01T00:00:00Z", "to": "2025-06-02T00:00:00Z"}

    async def users(first: int, last: int) -> None:
        for start in range(first, last, 1000):
            inputs = [{"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 1,
                       "completionTokens": 1, "occurredAt": "2025-06-01T12:00:00Z", "userId": f"u{i}"}
                      for i in range(start, min(start + 1000, last))]  # fmt: skip
            await gql.data(TRACK_BATCH, inputs=inputs)

    await users(0, 19_999)  # one day's total and 19,999 users' groups: 20,000 rows, the most a series reads
    [bucket] = (await gql.data(calls, filter=day))["usageTimeSeries"]["buckets"]
    assert (bucket["metrics"]["calls"], len(bucket["groups"])) == (19_999, 19_999)
    await users(19_999, 20_000)
    error = await gql.error(calls, filter=day)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "groupBy")
    assert error["message"] == "groupBy: more than 20000 bucket groups: narrow the filter or range"


async def test_groups_come_most_cost_first_in_each_bucket_and_in_the_columns(gql, workspace):
    """Buckets list each one's groups by cost (then calls, then value); the columns order the groups by their
    cost over the range, whatever order PostgreSQL hands the rows in (the columns read them unsorted)."""
    costs = {"m-a": ["1", "5"], "m-b": ["4", "0.5"], "m-c": ["2", "2"], "m-d": ["3", "3"], "m-e": ["0.1", "9"]}
    inputs = [
        {"workspaceId": "acme", "provider": "openai", "model": model, "promptTokens": 1, "completionTokens": 1,
         "costUsd": cost, "occurredAt": f"2025-06-0{day + 1}T12:00:00Z"}
        for model, per_day in costs.items()
        for day, cost in enumerate(per_day)
    ]  # fmt: skip
    await gql.data(TRACK_BATCH, inputs=inputs)
    window = {"workspaceId": "acme", "from": "2025-06-01T00:00:00Z", "to": "2025-06-03T00:00:00Z"}
    buckets = await gql.data(
        "query($f: UsageFilter!) { usageTimeSeries(filter: $f, interval: DAY, groupBy: [MODEL]) "
        "{ buckets { groups { dimensions { value } metrics { costUsd } } } } }",
        f=window,
    )
    assert [[g["dimensions"][0]["value"] for g in b["groups"]] for b in buckets["usageTimeSeries"]["buckets"]] == [
        ["m-b", "m-d", "m-c", "m-a", "m-e"],
        ["m-e", "m-a", "m-d", "m-c", "m-b"],
    ]
    columns = await gql.data(
        "query($f: UsageFilter!) { usageTimeSeries(filter: $f, interval: DAY, groupBy: [MODEL]) "
        "{ columns { groups { dimensions { value } metrics { costUsd } } } } }",
        f=window,
    )
    groups = columns["usageTimeSeries"]["columns"]["groups"]
    assert [(g["dimensions"][0]["value"], g["metrics"]["costUsd"]) for g in groups] == [
        ("m-e", ["0.1", "9"]),
        ("m-a", ["1", "5"]),  # 6 as m-d's, 2 calls as its: by value
        ("m-d", ["3", "3"]),
        ("m-b", ["4", "0.5"]),
        ("m-c", ["2", "2"]),
    ]
