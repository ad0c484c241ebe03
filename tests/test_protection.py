"""Hostile queries are refused before any resolver runs; production mode hides what it should; a database
that cannot be reached answers a retryable UNAVAILABLE, never a 500 and never a false success."""

from __future__ import annotations

import json
import time

import httpx
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from modules.usage.analytics.aggregates import UsageAggregates
from service.app import create_app
from service.config import Settings
from service.container import ApplicationContainer
from service.database import connect

TRACK = """mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o",
  promptTokens: 1, completionTokens: 1}) { duplicate } }"""


async def refused(gql, query: str) -> dict:
    result = await gql.execute(query)
    assert result.get("data") is None, result
    [error] = result["errors"]
    assert "path" not in error  # refused while validating: no resolver ran
    return error


async def test_a_query_deeper_than_ten_is_refused(gql):
    # The schema has no cycles (its deepest real path is 5), so only a made-up query goes deeper; the depth
    # limit still refuses it on its own grounds, before execution. (Introspection fields are not counted.)
    deep = "{ usageEvents" + " { edges" * 10 + " { id }" + " }" * 11
    result = await gql.execute(deep)
    assert result.get("data") is None
    assert any("exceeds maximum operation depth of 10" in e["message"] for e in result["errors"])


async def test_sixteen_aliases_hidden_in_fragments_are_refused(gql):
    aliases = " ".join(f"a{i}: __typename" for i in range(16))
    error = await refused(gql, f"query {{ ...F }} fragment F on Query {{ {aliases} }}")
    assert "aliases" in error["message"] and "15" in error["message"]


async def test_a_two_thousand_token_query_is_refused(gql):
    error = await refused(gql, "{ " + "__typename " * 2000 + "}")
    assert "token" in error["message"].lower()


async def test_a_huge_page_is_refused_before_running(gql, workspace):
    error = await refused(gql, '{ usageEvents(filter: {workspaceId: "acme"}, first: 100000) { totalCount } }')
    assert error["message"] == "first may be at most 500"


async def test_a_request_body_over_five_mebibytes_is_refused_and_nothing_is_written(client, gql, workspace, database):
    query = TRACK.replace("gpt-4o", "x" * (5 * 1024 * 1024))
    body = json.dumps({"query": query}).encode()
    response = await client.post("/graphql", content=body, headers={**gql.headers, "content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    async with database.session_factory() as session:
        assert (await session.execute(text("SELECT count(*) FROM usage_events"))).scalar_one() == 0


async def production_client(database, **overrides):
    container = ApplicationContainer()
    container.settings.override(providers.Object(Settings(env="production")))
    container.database.override(providers.Object(database))
    for name, provider in overrides.items():
        getattr(container.usage, name).override(provider)
    return container, httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(container)), base_url="http://x")


async def test_production_mode_hides_introspection_and_graphiql(database, gql):
    _, client = await production_client(database)
    async with client:
        result = (
            await client.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=gql.headers)
        ).json()
        assert result["data"] is None and "introspection" in result["errors"][0]["message"].lower()
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert "GraphiQL" not in page.text
        misspelt = (
            await client.post("/graphql", json={"query": "{ usageAnalytic { x } }"}, headers=gql.headers)
        ).json()
        assert misspelt["errors"][0]["message"] == "Cannot query field 'usageAnalytic' on type 'Query'."


async def test_a_database_exception_in_production_reveals_nothing(database, gql, workspace, caplog):
    class Broken(UsageAggregates):
        """Both ways a usageAnalytics answer is read (totals alone, or with breakdowns) fail with a secret."""

        async def breakdown(self, *_: object, **__: object):  # any signature: the error must be this one
            raise ProgrammingError(
                "SELECT secret FROM usage_events WHERE host = 'db.internal'", {}, Exception("db.internal:5432")
            )

        totals = breakdown

    _, client = await production_client(database, aggregates=providers.Object(Broken()))
    async with client:
        response = await client.post(
            "/graphql",
            json={"query": '{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { calls } } }'},
            headers=gql.headers,
        )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL" and len(error["extensions"]["errorId"]) == 12
    for secret in ("SELECT", "secret", "db.internal", "5432", "Traceback", "ProgrammingError"):
        assert secret not in response.text
    [logged] = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged.exc_info is not None and isinstance(logged.exc_info[1], ProgrammingError)  # the one raised


async def test_an_unreachable_database_answers_unavailable_quickly(gql, tmp_path):
    dead_database = connect(f"postgresql+asyncpg://postgres@/postgres?host={tmp_path}")  # the service's own engine
    dead = dead_database.engine
    container = ApplicationContainer()
    container.database.override(providers.Object(dead_database))
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": TRACK}, headers=gql.headers)
        seconds = time.perf_counter() - started
        ready = await client.get("/readyz")
    await dead.dispose()
    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["retryable"]) == ("UNAVAILABLE", True)
    assert seconds < 5
    assert ready.status_code == 503
