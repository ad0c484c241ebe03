"""Percentiles from the latency histograms are within 2% of the exact ones (percentile_cont over the events).

Property tests: the bucket scheme over every int4 value (hypothesis); random datasets, filters, groupings and
series read from the daily rollup + histograms and from the events (hypothesis, rows through the rollup
writer's own statements); a seeded dataset stored through /graphql (the real insert path) read through the
API; and the statements of the dashboard's p95 query, which must not read usage_events."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from modules.core.database import Database
from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.analytics.dimensions import GroupBy, UsageDimension
from modules.usage.analytics.grouping import GroupedUsageReader
from modules.usage.analytics.metrics import MetricNeeds, SortMetric
from modules.usage.analytics.series import SeriesReader, TimeInterval, boundaries
from modules.usage.analytics.sources import DAILY, EVENTS, source_for
from modules.usage.records import UsageFilterSpec, UsageMetrics
from modules.usage.rollups.latency import MAX_RELATIVE_ERROR, bucket_of, representative
from modules.usage.rollups.writer import RollupWriter, rebuild
from tests.documents import TRACK_BATCH

PERCENTILES = MetricNeeds(duration_percentiles=True, ttft_percentiles=True, distinct_users=False)
FIELDS = ("p50_duration_ms", "p90_duration_ms", "p95_duration_ms", "p99_duration_ms")
TTFT_FIELDS = ("p50_time_to_first_token_ms", "p95_time_to_first_token_ms")
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-haiku-latest")]
TOLERANCE = 0.02
BY_PROVIDER_AND_MODEL = (UsageDimension.PROVIDER, UsageDimension.MODEL)
NO_FIXTURE_RESET = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_close(approximate: UsageMetrics, exact: UsageMetrics, context: Any) -> None:
    """Every percentile within 2% of the exact one (both null where no call has the measure)."""
    assert approximate.calls == exact.calls, context
    for name in FIELDS + TTFT_FIELDS:
        got, want = getattr(approximate, name), getattr(exact, name)
        if want is None:
            assert got is None, (name, context)
            continue
        assert got is not None and abs(got - want) <= TOLERANCE * want + 1e-9, (name, got, want, context)


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_a_bucket_stands_for_every_value_in_it_within_2_percent(value: int) -> None:
    bucket = bucket_of(value)
    assert 0 <= bucket < 2**15  # a smallint
    assert abs(representative(bucket) - value) <= MAX_RELATIVE_ERROR * value + 1e-9
    if value < 25:  # a bucket this low holds one integer: exact
        assert representative(bucket) == value
    assert MAX_RELATIVE_ERROR < TOLERANCE


def test_the_bucket_scheme_is_the_planned_one() -> None:
    assert bucket_of(3_600_000) - bucket_of(1) == 384  # ~390 buckets from 1 ms to an hour
    assert [bucket_of(v) for v in (0, 1, 2, 25, 26, 27)] == [0, 1, 18, 83, 84, 85]
    assert representative(bucket_of(1000)) == pytest.approx(1000, rel=MAX_RELATIVE_ERROR)


durations = st.one_of(
    st.integers(0, 60),
    st.integers(100, 9000),
    st.floats(0, 14).map(lambda x: int(2**x)),  # log-spread: 1 ms to 16 s
    st.none(),
)
events = st.lists(
    st.tuples(
        st.integers(0, 3),  # day
        st.sampled_from(MODELS),
        durations,
        st.one_of(st.none(), st.integers(0, 5000)),  # time to first token
        st.sampled_from(["chat", "summarize"]),
    ),
    min_size=1,
    max_size=120,
)
filters = st.fixed_dictionaries(
    {
        "days": st.tuples(st.integers(0, 3), st.integers(1, 4)),
        "provider": st.one_of(st.none(), st.sampled_from(["openai", "anthropic"])),
        "models": st.one_of(st.none(), st.lists(st.sampled_from([m for _, m in MODELS]), min_size=1, unique=True)),
        "group": st.sampled_from([(), (UsageDimension.MODEL,), (UsageDimension.PROVIDER, UsageDimension.MODEL)]),
    }
)


async def store_rows(database: Database, workspace_id: UUID, rows: list[tuple[Any, ...]]) -> Any:
    """The rows as events, added to the rollups and histograms by the insert path's own statements (in a
    session whose savepoint the caller rolls back)."""
    session = database.session_factory()
    columns = list(zip(*rows, strict=True))
    result = await session.execute(
        text(
            "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, "
            "task_type, prompt_tokens, completion_tokens, total_tokens, cost_usd, cost_source, duration_ms, "
            "time_to_first_token_ms, status) SELECT :ws, gen_random_uuid()::text, CAST(:day0 AS timestamptz) + make_interval(days => d), "
            "CAST(:day0 AS timestamptz), p, m, t, 1, 1, 2, 0, 'CALLER', dur, ttft, 'SUCCESS' "
            "FROM unnest(CAST(:d AS int[]), CAST(:p AS text[]), CAST(:m AS text[]), CAST(:dur AS int[]), "
            "CAST(:ttft AS int[]), CAST(:t AS text[])) AS e(d, p, m, dur, ttft, t) RETURNING id"
        ),
        {
            "ws": workspace_id,
            "day0": DAY0,
            "d": list(columns[0]),
            "p": [pm[0] for pm in columns[1]],
            "m": [pm[1] for pm in columns[1]],
            "dur": list(columns[2]),
            "ttft": list(columns[3]),
            "t": list(columns[4]),
        },
    )
    await RollupWriter().add(session, list(result.scalars()))
    return session


@NO_FIXTURE_RESET
@given(rows=events, asked=filters)
async def test_percentiles_from_the_histograms_are_within_2_percent_of_the_events(
    database: Database, workspace: dict[str, str], rows: list[tuple[Any, ...]], asked: dict[str, Any]
) -> None:
    workspace_id = UUID(workspace["id"])
    first, length = asked["days"]
    spec = UsageFilterSpec(
        workspace_id=workspace_id,
        start=DAY0 + timedelta(days=first),
        end=DAY0 + timedelta(days=first + length),
        provider=asked["provider"],
        models=tuple(asked["models"]) if asked["models"] else None,
    )
    grouping = GroupBy(asked["group"])
    session = await store_rows(database, workspace_id, rows)
    try:
        assert source_for(spec, PERCENTILES, grouping.dimensions) is DAILY
        totals = [await UsageAggregates().totals(session, spec, PERCENTILES, s) for s in (DAILY, EVENTS)]
        assert_close(*totals, spec)
        if grouping.dimensions:
            reader = GroupedUsageReader()
            grouped = [
                await reader.grouped(
                    session,
                    spec,
                    grouping,
                    order_by=SortMetric.P95_DURATION_MS,
                    descending=True,
                    limit=2,
                    needs=PERCENTILES,
                    source=s,
                )
                for s in (DAILY, EVENTS)
            ]
            by_key = {g.values: g.metrics for g in grouped[1].groups}
            for group in grouped[0].groups:  # the same groups where no two p95s are within 2% of each other
                if group.values in by_key:
                    assert_close(group.metrics, by_key[group.values], group.values)
            shown = [[g.values for g in answer.groups] for answer in grouped]
            if shown[0] == shown[1] and grouped[1].others is not None:  # the others: every group not shown
                assert grouped[0].others is not None
                assert_close(grouped[0].others, grouped[1].others, "others")
        bounds = boundaries(spec.start, spec.end, TimeInterval.DAY, ZoneInfo("UTC"))  # type: ignore[arg-type]
        one = GroupBy(grouping.dimensions[-1:]) if grouping.dimensions else None
        series = [await SeriesReader().series(session, spec, bounds, one, PERCENTILES, s) for s in (DAILY, EVENTS)]
        for rolled, counted in zip(*series, strict=True):
            assert_close(rolled.metrics, counted.metrics, rolled.start)
            assert [g.values for g in rolled.groups] == [g.values for g in counted.groups]
            for a, b in zip(rolled.groups, counted.groups, strict=True):
                assert_close(a.metrics, b.metrics, (rolled.start, a.values))
        breakdowns = [
            await UsageAggregates().breakdown(session, spec, PERCENTILES, s, grouped_percentiles=BY_PROVIDER_AND_MODEL)
            for s in (DAILY, EVENTS)
        ]
        assert_close(breakdowns[0].totals, breakdowns[1].totals, "breakdown")
        for rolled_groups, counted_groups in [
            (breakdowns[0].by_model, breakdowns[1].by_model),
            (breakdowns[0].by_provider, breakdowns[1].by_provider),
        ]:
            assert [g.key for g in rolled_groups] == [g.key for g in counted_groups]
            for a, b in zip(rolled_groups, counted_groups, strict=True):
                assert_close(a.metrics, b.metrics, a.key)
        assert all(g.metrics.p95_duration_ms is None for g in breakdowns[0].by_task_type)  # not asked
        totals_only = await UsageAggregates().breakdown(session, spec, PERCENTILES, DAILY, grouped_percentiles=())
        assert_close(totals_only.totals, breakdowns[1].totals, "totals from the rows of every model")
        assert all(g.metrics.p95_duration_ms is None for g in totals_only.by_model)  # not asked
    finally:
        await session.rollback()
        await session.close()


def random_event(rng: random.Random) -> dict[str, Any]:
    provider, model = rng.choice(MODELS)
    event: dict[str, Any] = {
        "workspaceId": "acme",
        "provider": provider,
        "model": model,
        "promptTokens": rng.randrange(0, 5000),
        "completionTokens": rng.randrange(0, 900),
        "occurredAt": (DAY0 + timedelta(minutes=rng.randrange(4 * 24 * 60))).isoformat(),
        "retryCount": rng.choice([0, 0, 0, 1, 2]),
    }
    if rng.random() < 0.9:
        event["durationMs"] = int(rng.lognormvariate(7, 1.2))
        if rng.random() < 0.7:
            event["timeToFirstTokenMs"] = rng.randrange(0, event["durationMs"] + 1)
    return event


@pytest.fixture
async def stored(gql: Any, workspace: dict[str, str]) -> list[dict[str, Any]]:
    rng = random.Random(19)
    inputs = [random_event(rng) for _ in range(600)]
    await gql.data(TRACK_BATCH, inputs=inputs[:300])
    await gql.data(TRACK_BATCH, inputs=inputs[300:])
    return inputs


# The Performance view's fields, one root field a request (the tests' rolled-back connection is one).
PERFORMANCE = [
    """query($f: UsageFilter!) { usageAnalytics(filter: $f, compareTo: PREVIOUS_PERIOD) {
      totals { calls p50DurationMs p90DurationMs p95DurationMs p99DurationMs p50TimeToFirstTokenMs
               p95TimeToFirstTokenMs }
      previous { calls p95DurationMs } } }""",
    """query($f: UsageFilter!) { usage(filter: $f, groupBy: [PROVIDER, MODEL],
      orderBy: {by: P95_DURATION_MS, direction: DESC}, limit: 50) {
      groups { dimensions { value } metrics { calls retries p95DurationMs p95TimeToFirstTokenMs } } } }""",
    """query($f: UsageFilter!) { usageTimeSeries(filter: $f, interval: DAY) {
      buckets { start metrics { calls retries p95DurationMs } } } }""",
]


async def test_the_api_answers_percentiles_from_the_histograms_within_2_percent(gql, database, stored):
    """Through /graphql on events stored by trackUsageBatch: whole UTC days read from the rollup and its
    histograms, against percentile_cont over the same events; retries exact, as summed from the inputs."""
    start, end = DAY0 + timedelta(days=1), DAY0 + timedelta(days=3)
    given = {"workspaceId": "acme", "from": start.isoformat(), "to": end.isoformat()}
    data = {name: value for query in PERFORMANCE for name, value in (await gql.data(query, f=given)).items()}
    workspace_id = UUID((await gql.data('{ workspace(id: "acme") { id } }'))["workspace"]["id"])
    spec = UsageFilterSpec(workspace_id=workspace_id, start=start, end=end)
    assert source_for(spec, PERCENTILES, [UsageDimension.PROVIDER, UsageDimension.MODEL]) is DAILY
    async with database.session_factory() as session:
        exact = await UsageAggregates().totals(session, spec, PERCENTILES, EVENTS)
        before = await UsageAggregates().totals(
            session, replace(spec, start=DAY0 - timedelta(days=1), end=start), PERCENTILES, EVENTS
        )
        models = await GroupedUsageReader().grouped(
            session, spec, GroupBy((UsageDimension.PROVIDER, UsageDimension.MODEL)),
            order_by=SortMetric.CALLS, descending=True, limit=50, needs=PERCENTILES, source=EVENTS,
        )  # fmt: skip
    totals = data["usageAnalytics"]["totals"]
    assert totals["calls"] == exact.calls > 250
    pairs = [("p50DurationMs", exact.p50_duration_ms), ("p90DurationMs", exact.p90_duration_ms),
             ("p95DurationMs", exact.p95_duration_ms), ("p99DurationMs", exact.p99_duration_ms),
             ("p50TimeToFirstTokenMs", exact.p50_time_to_first_token_ms),
             ("p95TimeToFirstTokenMs", exact.p95_time_to_first_token_ms),
             ]  # fmt: skip
    for name, want in pairs:
        assert want is not None and abs(totals[name] - want) <= TOLERANCE * want, (name, totals[name], want)
        assert totals[name] != want  # read from the histograms, not the events (an exact answer would be luck)
    previous = data["usageAnalytics"]["previous"]
    assert previous["calls"] == before.calls and before.p95_duration_ms is not None
    assert abs(previous["p95DurationMs"] - before.p95_duration_ms) <= TOLERANCE * before.p95_duration_ms
    in_range = [e for e in stored if start <= datetime.fromisoformat(e["occurredAt"]) < end]
    by_group = {g.values: g.metrics for g in models.groups}
    assert len(data["usage"]["groups"]) == 3
    for group in data["usage"]["groups"]:
        key = tuple(d["value"] for d in group["dimensions"])
        want_metrics = by_group[key]
        assert group["metrics"]["calls"] == want_metrics.calls
        assert group["metrics"]["retries"] == sum(
            e["retryCount"] for e in in_range if (e["provider"], e["model"]) == key
        )
        p95 = want_metrics.p95_duration_ms
        assert p95 is not None and abs(group["metrics"]["p95DurationMs"] - p95) <= TOLERANCE * p95
    days = data["usageTimeSeries"]["buckets"]
    assert [b["start"] for b in days] == ["2026-03-02T00:00:00+00:00", "2026-03-03T00:00:00+00:00"]
    for bucket in days:
        day = datetime.fromisoformat(bucket["start"]).date()
        assert bucket["metrics"]["retries"] == sum(
            e["retryCount"] for e in stored if datetime.fromisoformat(e["occurredAt"]).date() == day
        )


async def test_the_dashboards_p95_query_reads_no_event(gql, database, stored, engine):
    """The overview's latency tiles and the Performance view's table: every statement they send reads the
    rollup and the histograms (EXPLAIN of each names no usage_events scan)."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        filter_ = {"workspaceId": "acme", "from": "2026-03-02T00:00:00Z", "to": "2026-03-04T00:00:00Z"}
        await gql.data(
            "query($f: UsageFilter!) { usageAnalytics(filter: $f, compareTo: PREVIOUS_PERIOD) { totals { calls "
            "p95DurationMs } previous { calls p95DurationMs } change { p95DurationMs } } }",
            f=filter_,
        )
        await gql.data(PERFORMANCE[1], f=filter_)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    analytics = [s for s in sent if "usage_daily" in s]
    assert len(analytics) == 3  # the totals (no breakdown selected), the previous period's, the groups
    assert all("usage_latency_daily" in s and "usage_events" not in s for s in analytics), analytics
    # The totals read the histograms' rows of every model (~390 a day at most), the groups those per model.
    assert ["usage_latency_daily.model IS NULL" in s for s in analytics] == [True, True, False]
    assert "GROUPING SETS" not in analytics[0]
    async with database.session_factory() as session:
        spec = UsageFilterSpec(
            workspace_id=UUID((await gql.data('{ workspace(id: "acme") { id } }'))["workspace"]["id"]),
            start=DAY0 + timedelta(days=1),
            end=DAY0 + timedelta(days=3),
        )
        statement = UsageAggregates().breakdown_statement(spec, PERCENTILES, DAILY)
        compiled = statement.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in await session.execute(text(f"EXPLAIN {compiled}")))
    assert "usage_latency_daily" in plan and "usage_daily" in plan
    assert "usage_events" not in plan


async def test_rebuilding_gives_back_the_histograms_the_insert_path_kept(database, stored):
    query = text(
        "SELECT day, provider, model, log_bucket, durations, ttfts FROM usage_latency_daily ORDER BY 1, 2, 3, 4"
    )
    async with database.session_factory() as session:
        kept = (await session.execute(query)).all()
        await session.execute(text("UPDATE usage_latency_daily SET durations = durations + 1"))

        rows = await rebuild(session)
        rebuilt = (await session.execute(query)).all()
        await session.rollback()
    assert rows["usage_latency_daily"] == len(kept) > 100
    assert rebuilt == kept
    for every_model in (True, False):  # each call once in its model's rows, once in those of every model
        level = [r for r in kept if (r.model is None) is every_model]
        assert sum(r.durations for r in level) == sum("durationMs" in e for e in stored)
        assert sum(r.ttfts for r in level) == sum("timeToFirstTokenMs" in e for e in stored)
    assert {r.model for r in kept} == {None, *(m for _, m in MODELS)}
    assert {r.day for r in kept} == {date(2026, 3, d) for d in (1, 2, 3, 4)}
