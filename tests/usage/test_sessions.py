"""Sessions end to end: listed with their sums, read with their events, completed once, summarised."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import event

from tests.documents import TRACK_BATCH
from tests.usage import dataset
from tests.usage.dataset import Event

PAGE = """query($after: String) { sessions(filter: {workspaceId: "acme"}, first: 4, after: $after) {
  edges { node { id status calls errorCount promptTokens totalTokens costUsd userIds firstEventAt lastEventAt
                 durationMs completedAt } }
  pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
async def events(gql, workspace) -> list[Event]:
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    events = dataset.make_events(("acme", "beta"))
    await gql.data(TRACK_BATCH, inputs=[e.as_input() for e in events])
    return [e for e in events if e.workspace == "acme"]


def by_session(events: list[Event]) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        found[e.session_id].append(e)
    return found


async def test_sessions_are_listed_with_their_sums_newest_first(gql, events):
    listed, after = [], None
    while True:
        page = (await gql.data(PAGE, after=after))["sessions"]
        listed += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    sessions = by_session(events)
    expected_order = sorted(sessions, key=lambda s: (max(e.occurred_at for e in sessions[s]), s), reverse=True)
    assert [s["id"] for s in listed] == expected_order
    for node in listed:
        mine = sessions[node["id"]]
        first, last = min(e.occurred_at for e in mine), max(e.occurred_at for e in mine)
        assert node == {
            "id": node["id"],
            "status": "OPEN",
            "calls": len(mine),
            "errorCount": sum(e.error for e in mine),
            "promptTokens": sum(e.prompt for e in mine),
            "totalTokens": sum(e.prompt + e.completion for e in mine),
            "costUsd": node["costUsd"],
            "userIds": sorted({e.user_id for e in mine}),
            "firstEventAt": first.isoformat(),
            "lastEventAt": last.isoformat(),
            "durationMs": int((last - first).total_seconds() * 1000),
            "completedAt": None,
        }
        assert Decimal(node["costUsd"]) == dataset.metrics(mine)["costUsd"]


async def test_a_session_with_its_events_in_order_completed_once(gql, events):
    query = '{ session(workspaceId: "acme", id: "s03") { id status calls events { requestId occurredAt } } }'
    session = (await gql.data(query))["session"]
    mine = sorted(by_session(events)["s03"], key=lambda e: (e.occurred_at, e.request_id))
    assert [e["requestId"] for e in session["events"]] == [e.request_id for e in mine]
    assert (session["status"], session["calls"]) == ("OPEN", len(mine))
    complete = 'mutation { completeSession(workspaceId: "acme", id: "s03") { status completedAt } }'
    first = (await gql.data(complete))["completeSession"]
    again = (await gql.data(complete))["completeSession"]
    assert first["status"] == "COMPLETED" and first == again
    missing = await gql.error('mutation { completeSession(workspaceId: "acme", id: "nope") { status } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_session_stats(gql, events):
    stats = await gql.data(
        '{ sessionStats(filter: {workspaceId: "acme"}) { sessions avgCalls avgDurationMs avgCostUsd } }'
    )
    sessions = by_session(events)
    durations = [
        (max(e.occurred_at for e in s) - min(e.occurred_at for e in s)).total_seconds() * 1000
        for s in sessions.values()
    ]
    costs = [dataset.metrics(s)["costUsd"] for s in sessions.values()]
    assert stats["sessionStats"]["sessions"] == len(sessions)
    assert stats["sessionStats"]["avgCalls"] == pytest.approx(len(events) / len(sessions))
    assert stats["sessionStats"]["avgDurationMs"] == pytest.approx(sum(durations) / len(durations))
    assert Decimal(stats["sessionStats"]["avgCostUsd"]) == (sum(costs) / len(costs)).quantize(Decimal("1E-10"))


async def test_events_of_a_page_of_sessions_cost_one_query(gql, events, engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    query = """query($first: Int!) { sessions(filter: {workspaceId: "acme"}, first: $first) {
      edges { node { events { id } } } } }"""
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await gql.data(query, first=2)
        few = len(statements)
        statements.clear()
        answer = await gql.data(query, first=10)
        many = len(statements)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(answer["sessions"]["edges"]) == 10
    assert few == many
