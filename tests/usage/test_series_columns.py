"""usageTimeSeries { columns }: the same series as the buckets, as one list per metric and group, indexed like
starts; groups over the whole range, most cost first. Read from the rollups (histogram percentiles) and from the
events alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event as sqlalchemy_event
from strawberry.utils.str_converters import to_camel_case

from modules.usage.types import UsageMetricsType
from tests.documents import TRACK_BATCH

METRICS = [to_camel_case(f.python_name) for f in UsageMetricsType.__strawberry_definition__.fields]
SERIES = """query($f: UsageFilter!, $interval: TimeInterval!, $tz: String!, $groupBy: [UsageDimension!]) {
  usageTimeSeries(filter: $f, interval: $interval, timeZone: $tz, groupBy: $groupBy) { %s } }"""
BUCKETS = "buckets { start end metrics { %s } groups { dimensions { dimension value } metrics { %s } } }"
COLUMNS = "columns { starts end totals { %s } groups { dimensions { dimension value } metrics { %s } } }"
CHUNK = 5  # metrics a request asks for: all 25 at once are more than the answer-size estimate allows
# UsageMetrics of no calls, as an empty bucket (or a group absent from a bucket) holds them
EMPTY = (
    {name: None for name in METRICS}
    | {
        name: 0
        for name in METRICS
        if name in {"calls", "successCount", "errorCount", "retries", "unpricedCalls", "distinctUsers"}
        or name.endswith("Tokens")
    }
    | {"errorRate": 0.0, "costUsd": "0"}
)
WINDOW = {"workspaceId": "acme", "from": "2025-06-01T00:00:00Z", "to": "2025-06-04T00:00:00Z"}


def event(moment: str, provider: str, model: str, cost: str, duration: int, **more: Any) -> dict[str, Any]:
    return {"workspaceId": "acme", "occurredAt": moment, "provider": provider, "model": model, "costUsd": cost,
            "promptTokens": 100, "completionTokens": 20, "durationMs": duration,
            "timeToFirstTokenMs": duration // 4, **more}  # fmt: skip


EVENTS = [  # nothing on 06-02: an empty day between two
    event("2025-06-01T09:10:00Z", "openai", "gpt-4o", "0.5", 800, userId="alice", cachedPromptTokens=40),
    event("2025-06-01T09:40:00Z", "openai", "gpt-4o-mini", "0.25", 300, userId="bob", status="ERROR"),
    event("2025-06-01T17:05:00Z", "anthropic", "claude-sonnet-4", "2", 2400, userId="alice", retryCount=2),
    event("2025-06-03T01:00:00Z", "anthropic", "claude-sonnet-4", "1.5", 1900, reasoningTokens=7),
    event("2025-06-03T01:30:00Z", "google", "gemini-2.5-pro", "0.75", 1200, userId="carol"),
    event("2025-06-03T23:59:59Z", "openai", "gpt-4o", "0.125", 640, userId="bob"),
]


async def series(gql, interval: str, tz: str = "UTC", group_by: list[str] | None = None) -> dict[str, Any]:
    """The buckets and the columns of the same series, every metric (asked for in chunks, merged)."""
    await gql.data(TRACK_BATCH, inputs=EVENTS)
    answer: dict[str, Any] = {}
    for i in range(0, len(METRICS), CHUNK):
        names = " ".join(METRICS[i : i + CHUNK])
        for form in (BUCKETS, COLUMNS):
            data = await gql.data(
                SERIES % (form % (names, names)), f=WINDOW, interval=interval, tz=tz, groupBy=group_by
            )
            merge(answer, data["usageTimeSeries"])
    return answer


def merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    """`more`'s metrics added to `into`'s, matched by position (the same series asked twice)."""
    for key, value in more.items():
        if key not in into:
            into[key] = value
        elif isinstance(value, dict):
            merge(into[key], value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for mine, theirs in zip(into[key], value, strict=True):
                merge(mine, theirs)


def columns_from_buckets(buckets: list[dict[str, Any]]) -> dict[str, Any]:
    """What columns should hold, built from the buckets of the same answer."""
    keys: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for bucket in buckets:
        for group in bucket["groups"]:
            keys.setdefault(tuple((d["dimension"], d["value"]) for d in group["dimensions"]), [])
    for key, per_bucket in keys.items():
        for bucket in buckets:
            found = [
                g["metrics"]
                for g in bucket["groups"]
                if tuple((d["dimension"], d["value"]) for d in g["dimensions"]) == key
            ]
            per_bucket.append(found[0] if found else EMPTY)
    order = sorted(
        keys, key=lambda k: (-sum(Decimal(m["costUsd"]) for m in keys[k]), -sum(m["calls"] for m in keys[k]))
    )
    return {
        "starts": [b["start"] for b in buckets],
        "end": buckets[-1]["end"],
        "totals": {name: [b["metrics"][name] for b in buckets] for name in METRICS},
        "groups": [
            {"dimensions": [{"dimension": d, "value": v} for d, v in key],
             "metrics": {name: [m[name] for m in keys[key]] for name in METRICS}}
            for key in order
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("interval", "tz", "group_by"),
    [
        ("DAY", "UTC", None),  # whole UTC days: the daily rollup, percentiles from the histograms
        ("DAY", "UTC", ["PROVIDER", "MODEL"]),
        ("HOUR", "UTC", ["PROVIDER"]),  # the hourly rollup
        ("DAY", "Asia/Kolkata", ["PROVIDER"]),  # days off UTC's: the events at the edges
        ("HOUR", "Asia/Kathmandu", ["USER"]),  # +05:45 hours: the events
    ],
)
async def test_columns_hold_what_the_buckets_hold_for_every_metric(gql, workspace, interval, tz, group_by):
    answer = await series(gql, interval, tz, group_by)
    assert answer["columns"] == columns_from_buckets(answer["buckets"])
    assert sum(answer["columns"]["totals"]["calls"]) == 6


async def test_day_columns_by_provider(gql, workspace):
    columns = (await series(gql, "DAY", group_by=["PROVIDER"]))["columns"]
    assert columns["starts"] == ["2025-06-01T00:00:00+00:00", "2025-06-02T00:00:00+00:00", "2025-06-03T00:00:00+00:00"]
    assert columns["end"] == "2025-06-04T00:00:00+00:00"
    assert columns["totals"]["calls"] == [3, 0, 3]
    assert columns["totals"]["costUsd"] == ["2.75", "0", "2.375"]
    assert columns["totals"]["errorRate"] == [pytest.approx(1 / 3), 0.0, 0.0]
    assert columns["totals"]["avgCostPerCall"] == ["0.9166666667", None, "0.7916666667"]
    assert columns["totals"]["p50DurationMs"][1] is None
    assert [
        (g["dimensions"][0]["value"], g["metrics"]["calls"], g["metrics"]["costUsd"], g["metrics"]["retries"])
        for g in columns["groups"]
    ] == [  # most cost over the three days first: 3.5, 0.875, 0.75
        ("anthropic", [1, 0, 1], ["2", "0", "1.5"], [2, 0, 0]),
        ("openai", [2, 0, 1], ["0.75", "0", "0.125"], [0, 0, 0]),
        ("google", [0, 0, 1], ["0", "0", "0.75"], [0, 0, 0]),
    ]


async def test_without_group_by_columns_have_no_groups(gql, workspace):
    columns = (await series(gql, "DAY"))["columns"]
    assert columns["groups"] == []
    assert columns["totals"]["promptTokens"] == [300, 0, 300]
    assert columns["totals"]["cachedPromptTokens"] == [40, 0, 0]
    assert columns["totals"]["reasoningTokens"] == [0, 0, 7]


async def test_columns_past_50000_values_a_metric_are_refused_naming_group_by(gql, workspace):
    users = [  # 26 users, one call each, over 2,000 minutes: 52,000 padded values a metric, 26 bucket rows
        {"workspaceId": "acme", "occurredAt": f"2025-06-01T{i % 24:02d}:00:00Z", "provider": "openai",
         "model": "gpt-4o", "costUsd": "0.01", "promptTokens": 1, "completionTokens": 1, "userId": f"user-{i}"}
        for i in range(26)
    ]  # fmt: skip
    await gql.data(TRACK_BATCH, inputs=users)
    window = {"workspaceId": "acme", "from": "2025-06-01T00:00:00Z", "to": "2025-06-02T09:20:00Z"}  # 2,000 minutes
    both = SERIES % (BUCKETS % ("calls", "calls") + " " + COLUMNS % ("calls", "calls"))
    error = await gql.error(both, f=window, interval="MINUTE", tz="UTC", groupBy=["USER"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "groupBy")
    assert error["message"].startswith(
        "groupBy: columns of 26 groups x 2,000 buckets would hold more than 50,000 values"
    )
    buckets = await gql.data(
        SERIES % (BUCKETS % ("calls", "calls")), f=window, interval="MINUTE", tz="UTC", groupBy=["USER"]
    )
    assert sum(len(b["groups"]) for b in buckets["usageTimeSeries"]["buckets"]) == 26  # the bucket form answers


async def test_the_answer_size_estimate_counts_every_value_of_a_column(gql, workspace):
    every = " ".join(METRICS)  # 2,000 buckets x (1 + 10 groups) x 25 metrics: past the 500,000 values allowed
    error = await gql.error(SERIES % (COLUMNS % (every, every)), f=WINDOW, interval="DAY", tz="UTC", groupBy=["MODEL"])
    assert error["extensions"]["code"] == "ANSWER_TOO_LARGE"
    series, columns, starts, end, totals = 1, 1, 2000, 1, 1 + 25 * 2000
    groups = 10 * (1 + 4 * (1 + 2) + 1 + 25 * 2000)  # each: its dimensions (dimension, value) and metrics
    assert error["extensions"]["estimate"] == series + columns + starts + end + totals + groups == 552_144


async def test_groups_of_equal_cost_are_ordered_by_calls_then_by_value_with_none_last(gql, workspace):
    moments = ["2025-06-01T10:00:00Z", "2025-06-02T10:00:00Z"]
    ties = [  # 0.5 each over the range: b in two calls, a, c and no task type in one
        event(moments[0], "openai", "gpt-4o", "0.25", 100, taskType="b"),
        event(moments[1], "openai", "gpt-4o", "0.25", 100, taskType="b"),
        event(moments[1], "openai", "gpt-4o", "0.5", 100, taskType="c"),
        event(moments[0], "openai", "gpt-4o", "0.5", 100),
        event(moments[0], "openai", "gpt-4o", "0.5", 100, taskType="a"),
    ]
    await gql.data(TRACK_BATCH, inputs=ties)
    data = await gql.data(
        SERIES % (COLUMNS % ("calls", "calls costUsd")), f=WINDOW, interval="DAY", tz="UTC", groupBy=["TASK_TYPE"]
    )
    assert [
        (g["dimensions"][0]["value"], g["metrics"]["calls"], g["metrics"]["costUsd"])
        for g in data["usageTimeSeries"]["columns"]["groups"]
    ] == [
        ("b", [1, 1, 0], ["0.25", "0.25", "0"]),
        ("a", [1, 0, 0], ["0.5", "0", "0"]),
        ("c", [0, 1, 0], ["0", "0.5", "0"]),
        (None, [1, 0, 0], ["0.5", "0", "0"]),
    ]


GROUPS_ONLY = "columns { starts groups { dimensions { value } metrics { calls costUsd p95DurationMs avgDurationMs } } }"
GROUPS_AND_TOTALS = GROUPS_ONLY.replace("columns { starts", "columns { starts totals { calls }")
BUCKET_GROUPS = "buckets { start groups { dimensions { value } metrics { calls costUsd p95DurationMs } } }"


@pytest.mark.parametrize(
    ("interval", "tz"),
    [("DAY", "UTC"), ("HOUR", "UTC"), ("DAY", "Asia/Kolkata")],  # the daily rollup, the hourly one, the events
)
async def test_groups_asked_without_totals_are_read_without_them(gql, workspace, engine, interval, tz):
    """A grouped series whose totals are not selected (neither `columns { totals }` nor `buckets { metrics }`)
    reads no totals rows: one grouping set, the groups' numbers as with them (percentiles included)."""
    await gql.data(TRACK_BATCH, inputs=EVENTS)
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(statement)

    answers = {}
    sqlalchemy_event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        for form in (
            GROUPS_ONLY,
            GROUPS_AND_TOTALS,
            BUCKET_GROUPS,
            BUCKET_GROUPS.replace("start ", "start metrics { calls } "),
        ):
            sent.clear()
            data = await gql.data(SERIES % form, f=WINDOW, interval=interval, tz=tz, groupBy=["PROVIDER"])
            answers[form] = (data["usageTimeSeries"], [s for s in sent if "width_bucket" in s])
    finally:
        sqlalchemy_event.remove(engine.sync_engine, "before_cursor_execute", note)
    (without, sql_without), (with_totals, sql_with) = answers[GROUPS_ONLY], answers[GROUPS_AND_TOTALS]
    assert without["columns"]["groups"] == with_totals["columns"]["groups"]
    assert sum(sum(g["metrics"]["calls"]) for g in without["columns"]["groups"]) == 6
    assert with_totals["columns"]["totals"]["calls"] == [
        sum(calls) for calls in zip(*[g["metrics"]["calls"] for g in with_totals["columns"]["groups"]], strict=True)
    ]
    assert len(sql_without) == len(sql_with) == 1
    assert "GROUPING SETS ((bucket, d0))" in sql_without[0] and "(bucket)," not in sql_without[0]
    assert "GROUPING SETS ((bucket), (bucket, d0))" in sql_with[0]
    buckets, buckets_with = (answers[f][0]["buckets"] for f in list(answers)[2:])
    assert [b["groups"] for b in buckets] == [b["groups"] for b in buckets_with]
    assert "(bucket)," not in answers[BUCKET_GROUPS][1][0]
    assert sum(b["metrics"]["calls"] for b in buckets_with) == 6
