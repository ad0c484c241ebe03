"""A workspace holds at most 100 budgets and a budget at most 5 webhook URLs: each alert is POSTed to every URL
of its budget and retried for 24 hours, and every stored batch is counted against every budget, so one ADMIN
cannot multiply either. The cap holds under concurrent creations through a real server too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.budgets.conftest import PUBLIC, FakeDns
from tests.conftest import GraphQLClient
from tests.live_server import LiveServer, LiveWorkspace, live_workspace

CREATE = "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id } } }"
FULL = "this workspace already has 100 budgets, the most it may have: delete one first"


def budget_input(name: str, workspace: str = "acme", **fields: Any) -> dict[str, Any]:
    return {"workspaceId": workspace, "name": name, "limitUsd": "10", **fields}


async def count(gql: GraphQLClient, workspace: str = "acme") -> int:
    return len((await gql.data(f'{{ budgets(workspaceId: "{workspace}") {{ id }} }}'))["budgets"])


async def test_a_workspace_holds_at_most_100_budgets(gql: GraphQLClient, workspace: dict[str, str]) -> None:
    ids = [(await gql.data(CREATE, input=budget_input(f"B{n}")))["createBudget"]["budget"]["id"] for n in range(100)]
    error = await gql.error(CREATE, input=budget_input("B100"))
    assert (error["extensions"]["code"], error["extensions"]["field"], error["message"]) == (
        "CONFLICT",
        "workspaceId",
        FULL,
    )
    assert await count(gql) == 100
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    await gql.data(CREATE, input=budget_input("B0", workspace="beta"))  # the cap is per workspace
    await gql.data(f'mutation {{ deleteBudget(id: "{ids[0]}") }}')
    await gql.data(CREATE, input=budget_input("B100"))  # room for one again
    assert await count(gql) == 100


async def test_a_budget_holds_at_most_5_webhook_urls(
    gql: GraphQLClient, workspace: dict[str, str], dns: FakeDns
) -> None:
    dns.records.update({f"hook{n}.example.com": [PUBLIC] for n in range(6)})
    urls = [f"https://hook{n}.example.com/x" for n in range(6)]
    created = await gql.data(CREATE, input=budget_input("Five", webhookUrls=urls[:5]))
    asked = list(dns.asked)
    error = await gql.error(CREATE, input=budget_input("Six", webhookUrls=urls))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [{"field": "webhookUrls", "reason": "at most 5"}]
    budget_id = created["createBudget"]["budget"]["id"]
    error = await gql.error(
        "mutation($id: ID!, $urls: [String!]) { updateBudget(id: $id, input: {webhookUrls: $urls}) { id } }",
        id=budget_id,
        urls=urls,
    )
    assert error["extensions"]["problems"] == [{"field": "webhookUrls", "reason": "at most 5"}]
    assert dns.asked == asked  # six URLs are refused before any is resolved
    assert await count(gql) == 1


@pytest.fixture
async def live(engine: AsyncEngine) -> AsyncIterator[tuple[LiveServer, LiveWorkspace]]:
    async with live_workspace(engine) as created:
        server = LiveServer(engine.url.render_as_string(hide_password=False), webhooks_enabled=False)
        server.start()
        try:
            yield server, created
        finally:
            server.stop()


async def test_concurrent_creations_never_pass_the_cap(live: tuple[LiveServer, LiveWorkspace]) -> None:
    server, ws = live
    headers = {"Authorization": f"Bearer {ws.admin_key}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:

        async def create(name: str) -> dict[str, Any]:
            payload = {"query": CREATE, "variables": {"input": budget_input(name, workspace=ws.slug)}}
            return (await http.post("/graphql", json=payload)).json()

        for n in range(90):
            assert "errors" not in await create(f"B{n}")
        answers = await asyncio.gather(*(create(f"C{n}") for n in range(20)))
        codes = sorted(a["errors"][0]["extensions"]["code"] if "errors" in a else "CREATED" for a in answers)
        assert codes == ["CONFLICT"] * 10 + ["CREATED"] * 10
        listed = await http.post("/graphql", json={"query": f'{{ budgets(workspaceId: "{ws.slug}") {{ id }} }}'})
        assert len(listed.json()["data"]["budgets"]) == 100
