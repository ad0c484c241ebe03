"""End users: who used most, what one of them did; names come through a DataLoader (no N+1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

from tests.documents import TRACK_BATCH
from tests.usage import dataset
from tests.usage.dataset import Event

TOP = """query($by: TopUsersBy!, $limit: Int!) { topUsers(filter: {workspaceId: "acme"}, by: $by, limit: $limit) {
  userId user { displayName } metrics { calls costUsd totalTokens } } }"""


@pytest.fixture
async def events(gql, workspace) -> list[Event]:
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    events = dataset.make_events(("acme", "beta"))
    await gql.data(TRACK_BATCH, inputs=[e.as_input() for e in events])
    await gql.data('mutation { upsertUser(input: {workspaceId: "acme", userId: "bob", displayName: "Bob B."}) { id } }')
    return [e for e in events if e.workspace == "acme"]


@pytest.mark.parametrize(("by", "field"), [("COST", "costUsd"), ("CALLS", "calls"), ("TOKENS", "totalTokens")])
async def test_top_users_by_cost_calls_or_tokens(gql, events, by, field):
    answer = (await gql.data(TOP, by=by, limit=2))["topUsers"]
    expected = dataset.groups(events, lambda e: e.user_id)
    expected.sort(key=lambda kv: (-Decimal(str(kv[1][field])), -kv[1]["calls"], kv[0]))
    assert [u["userId"] for u in answer] == [k for k, _ in expected[:2]]
    for user, (_, metrics) in zip(answer, expected, strict=False):
        assert (user["metrics"]["calls"], Decimal(user["metrics"]["costUsd"])) == (metrics["calls"], metrics["costUsd"])
    for user in answer:  # every user is registered on first sight; only bob was given a name
        assert user["user"] == {"displayName": "Bob B." if user["userId"] == "bob" else None}


async def test_one_users_activity(gql, events):
    query = """{ user(workspaceId: "acme", userId: "alice", recentEvents: 3) {
      userId user { displayName } firstSeen lastSeen metrics { calls costUsd }
      models { dimensions { value } metrics { calls } } recentEvents { requestId occurredAt } } }"""
    answer = (await gql.data(query))["user"]
    alice = [e for e in events if e.user_id == "alice"]
    assert answer["userId"] == "alice" and answer["user"] == {"displayName": None}  # registered on first sight
    assert answer["metrics"]["calls"] == len(alice)
    assert Decimal(answer["metrics"]["costUsd"]) == dataset.metrics(alice)["costUsd"]
    assert answer["firstSeen"] == min(e.occurred_at for e in alice).isoformat()
    assert answer["lastSeen"] == max(e.occurred_at for e in alice).isoformat()
    expected_models = dataset.groups(alice, lambda e: e.model)
    assert [(m["dimensions"][0]["value"], m["metrics"]["calls"]) for m in answer["models"]] == [
        (k, v["calls"]) for k, v in expected_models
    ]
    newest = sorted(alice, key=lambda e: e.occurred_at, reverse=True)[:3]
    assert [e["requestId"] for e in answer["recentEvents"]] == [e.request_id for e in newest]
    missing = await gql.error('{ user(workspaceId: "acme", userId: "nobody") { userId } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_user_names_on_groups_cost_one_query_whatever_the_number_of_groups(gql, events, engine):
    for name in ("alice", "carol"):
        await gql.data(
            f'mutation {{ upsertUser(input: {{workspaceId: "acme", userId: "{name}", displayName: "{name.title()}"}}) {{ id }} }}'
        )
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    query = """query($by: [UsageDimension!]!) { usage(filter: {workspaceId: "acme"}, groupBy: $by) {
      groups { user { displayName } metrics { calls } } } }"""
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        answer = await gql.data(query, by=["USER"])  # 3 groups
        few = list(statements)
        statements.clear()
        many_groups = await gql.data(query, by=["USER", "SESSION"])  # 30 groups
        many = list(statements)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert (len(answer["usage"]["groups"]), len(many_groups["usage"]["groups"])) == (3, 30)
    assert len(few) == len(many)
    assert [sum("FROM users" in s for s in found) for found in (few, many)] == [1, 1]
    assert {g["user"]["displayName"] for g in answer["usage"]["groups"]} == {"Alice", "Bob B.", "Carol"}
