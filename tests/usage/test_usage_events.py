"""usageEvents: a Relay connection, newest first, keyset-paginated with no gaps and no repeats."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from tests.documents import TRACK_BATCH

PAGE = """query($filter: UsageFilter!, $first: Int!, $after: String) {
  usageEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id requestId occurredAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }"""
START = datetime(2025, 6, 1, tzinfo=UTC)


async def store(gql, count: int) -> None:
    # Every third pair of events shares a timestamp, so ties are broken by id across page boundaries.
    inputs = [
        {
            "workspaceId": "acme",
            "requestId": f"e{i:02d}",
            "provider": "openai",
            "model": "gpt-4o",
            "promptTokens": i,
            "completionTokens": 1,
            "occurredAt": (START + timedelta(seconds=i // 3)).isoformat(),
        }
        for i in range(count)
    ]
    assert (await gql.data(TRACK_BATCH, inputs=inputs))["trackUsageBatch"]["insertedCount"] == count


async def test_pages_cover_every_event_once_newest_first(gql, workspace):
    await store(gql, 23)
    seen, after, pages = [], None, 0
    while True:
        page = (await gql.data(PAGE, filter={"workspaceId": "acme"}, first=5, after=after))["usageEvents"]
        pages += 1
        seen.extend(page["edges"])
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 5
    order = [(e["node"]["occurredAt"], int(e["node"]["id"])) for e in seen]
    assert order == sorted(order, reverse=True)
    assert sorted(e["node"]["requestId"] for e in seen) == [f"e{i:02d}" for i in range(23)]


async def test_the_filter_applies_to_every_page_and_total_count_on_request(gql, workspace):
    await store(gql, 12)
    window = {
        "workspaceId": "acme",
        "from": (START + timedelta(seconds=1)).isoformat(),
        "to": (START + timedelta(seconds=3)).isoformat(),
    }
    query = "query($f: UsageFilter!) { usageEvents(filter: $f, first: 4) { totalCount edges { node { requestId } } } }"
    page = (await gql.data(query, f=window))["usageEvents"]
    assert page["totalCount"] == 6
    assert [e["node"]["requestId"] for e in page["edges"]] == ["e08", "e07", "e06", "e05"]


async def test_an_empty_workspace_has_an_empty_page(gql, workspace):
    page = (await gql.data(PAGE, filter={"workspaceId": "acme"}, first=5))["usageEvents"]
    assert page == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


def cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


async def test_bad_page_arguments_are_refused(gql, workspace):
    for first, after, field in (
        (0, None, "first"),
        (501, None, "first"),
        (5, "garbage", "after"),
        (5, "WyJ4IiwxXQ", "after"),
        (5, cursor("2026-01-01T00:00:00+00:00", 10**30), "after"),  # past bigint: was INTERNAL
        (5, cursor("0001-01-01T00:00:00+14:00", 1), "after"),  # year 0 in UTC: was INTERNAL
        (5, cursor("2026-01-01T00:00:00", 1), "after"),  # no offset
        (5, cursor("2026-01-01T00:00:00+00:00", True), "after"),
    ):
        error = await gql.error(PAGE, filter={"workspaceId": "acme"}, first=first, after=after)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
