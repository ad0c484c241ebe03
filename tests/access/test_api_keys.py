"""API keys: shown once, stored as hashes, listed, revoked at once; callers see only their workspace."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from modules.access.keys import new_key
from modules.core.principal import Scope
from tests.conftest import create_key

CREATE = """mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  secret apiKey { id workspaceId name prefix scopes createdAt lastUsedAt revokedAt } } }"""
TRACK = """mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o",
  promptTokens: 10, completionTokens: 1}) { duplicate } }"""


async def test_a_key_is_shown_once_and_stored_only_as_its_hash(gql, workspace, database):
    created = await gql.data(CREATE, input={"workspaceId": "acme", "name": "backend", "scopes": ["INGEST", "READ"]})
    secret, key = created["createApiKey"]["secret"], created["createApiKey"]["apiKey"]
    assert secret.startswith("llmu_") and len(secret) == 5 + 43
    assert key["prefix"] == secret[:12]
    assert (key["workspaceId"], key["name"], key["scopes"]) == (workspace["id"], "backend", ["INGEST", "READ"])
    assert key["lastUsedAt"] is None and key["revokedAt"] is None

    async with database.session_factory() as session:
        rows = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()
    dumped = repr([dict(r) for r in rows])
    assert secret not in dumped and secret[12:] not in dumped
    stored = next(r for r in rows if str(r["id"]) == key["id"])
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()

    listed = (await gql.data('{ apiKeys(workspaceId: "acme") { id prefix } }'))["apiKeys"]
    assert listed == [{"id": key["id"], "prefix": key["prefix"]}]
    assert "secret" not in str(await gql.data('{ apiKeys(workspaceId: "acme") { id name prefix scopes } }'))


async def test_using_a_key_records_when_and_revoking_it_stops_it_at_once(gql, workspace, container):
    ingest = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    await ingest.data(TRACK)
    [key] = (await gql.data('{ apiKeys(workspaceId: "acme") { id createdAt lastUsedAt revokedAt } }'))["apiKeys"]
    created, used = datetime.fromisoformat(key["createdAt"]), datetime.fromisoformat(key["lastUsedAt"])
    assert (key["revokedAt"], created <= used <= datetime.now(UTC)) == (None, True)
    revoked = await gql.data(f'mutation {{ revokeApiKey(id: "{key["id"]}") {{ revokedAt }} }}')
    revoked_at = datetime.fromisoformat(revoked["revokeApiKey"]["revokedAt"])
    assert used <= revoked_at <= datetime.now(UTC) and revoked_at - created < timedelta(minutes=1)
    error = await ingest.error(TRACK)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == f"this API key was revoked at {revoked['revokeApiKey']['revokedAt']}"


async def test_why_a_caller_is_not_authenticated(client, workspace):
    for header, message in (
        (None, "send an API key: 'Authorization: Bearer llmu_…'"),
        ("Basic abc", "malformed Authorization header: expected 'Bearer llmu_…'"),
        ("Bearer llmu_short", "malformed Authorization header: expected 'Bearer llmu_…'"),
        (f"Bearer {new_key()}", "unknown API key"),
    ):
        response = await client.post(
            "/graphql", json={"query": TRACK}, headers={"Authorization": header} if header else {}
        )
        [error] = response.json()["errors"]
        assert (error["extensions"]["code"], error["message"]) == ("UNAUTHENTICATED", message)


async def test_another_workspace_is_forbidden_alike_whether_it_exists_or_not(gql, workspace, container):
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    reader = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.READ,)))
    query = "query($w: ID!) { usageAnalytics(filter: {workspaceId: $w}) { totals { calls } } }"
    existing, missing = await reader.error(query, w="beta"), await reader.error(query, w="no-such-workspace")
    for error in (existing, missing):
        del error["extensions"]["requestId"]
    assert existing == {**missing, "locations": existing["locations"]}
    assert existing["extensions"] == {"code": "FORBIDDEN"}


async def test_a_workspace_key_lists_and_pages_only_its_own_workspace(gql, workspace, container):
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    for slug in ("acme", "beta", "beta"):
        await gql.data(TRACK.replace('"acme"', f'"{slug}"'))
    beta_page = await gql.data('{ usageEvents(filter: {workspaceId: "beta"}, first: 1) { edges { cursor } } }')
    beta_cursor = beta_page["usageEvents"]["edges"][0]["cursor"]
    reader = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.READ,)))
    assert (await reader.data("{ workspaces { slug } }"))["workspaces"] == [{"slug": "acme"}]
    # A cursor is only a position: with another workspace's cursor the filter still holds to acme.
    page = await reader.data(
        'query($c: String) { usageEvents(filter: {workspaceId: "acme"}, after: $c) { edges { node { workspaceId } } } }',
        c=beta_cursor,
    )
    assert [e["node"]["workspaceId"] for e in page["usageEvents"]["edges"]] == [workspace["id"]]


async def test_a_workspace_admin_cannot_make_instance_keys_or_workspaces(gql, workspace, container):
    admin = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.ADMIN,)))
    error = await admin.error(CREATE, input={"name": "escalate", "scopes": ["ADMIN"]})
    assert error["extensions"]["code"] == "FORBIDDEN"
    created = await admin.data(CREATE, input={"workspaceId": "acme", "name": "ci", "scopes": ["INGEST"]})
    assert created["createApiKey"]["apiKey"]["workspaceId"] == workspace["id"]


async def test_bad_key_requests_are_refused(gql, workspace):
    error = await gql.error(CREATE, input={"workspaceId": "acme", "name": " ", "scopes": []})
    assert [p["field"] for p in error["extensions"]["problems"]] == ["name", "scopes"]
    missing = await gql.error('mutation { revokeApiKey(id: "00000000-0000-0000-0000-000000000000") { id } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_introspection_needs_no_key(client):
    response = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_a_key_over_its_rate_limit_is_told_when_to_retry(gql, workspace):
    import asyncio

    created = await gql.data(
        "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { rateLimitPerSecond } } }",
        input={"workspaceId": "acme", "name": "slow", "scopes": ["INGEST"], "rateLimitPerSecond": 1},
    )
    assert created["createApiKey"]["apiKey"]["rateLimitPerSecond"] == 1.0
    slow = gql.as_key(created["createApiKey"]["secret"])
    for _ in range(2):  # a burst of twice the rate passes
        assert "errors" not in await slow.execute(TRACK)
    response = await slow.http.post("/graphql", json={"query": TRACK}, headers=slow.headers)
    [error] = response.json()["errors"]
    assert response.status_code == 429
    assert error["extensions"]["code"] == "RATE_LIMITED" and 0 < error["extensions"]["retryAfter"] <= 1
    await asyncio.sleep(error["extensions"]["retryAfter"])
    assert "errors" not in await slow.execute(TRACK)
    stored = await gql.data('{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { calls } } }')
    assert stored["usageAnalytics"]["totals"]["calls"] == 3


CREATE_KEY = (
    "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { rateLimitPerSecond } } }"
)


async def test_a_minted_rate_limit_is_capped_by_the_servers_setting(gql, workspace):
    error = await gql.error(
        CREATE_KEY, input={"workspaceId": "acme", "name": "fast", "scopes": ["INGEST"], "rateLimitPerSecond": 1001}
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "rateLimitPerSecond")
    assert "between 0.1 and 1000 requests per second" in error["message"]
    allowed = await gql.data(
        CREATE_KEY, input={"workspaceId": "acme", "name": "ok", "scopes": ["INGEST"], "rateLimitPerSecond": 1000}
    )
    assert allowed["createApiKey"]["apiKey"]["rateLimitPerSecond"] == 1000.0


async def test_the_slowest_key_still_makes_one_request_then_waits_ten_seconds(gql, workspace):
    created = await gql.data(
        CREATE_KEY, input={"workspaceId": "acme", "name": "slowest", "scopes": ["INGEST"], "rateLimitPerSecond": 0.1}
    )
    slowest = gql.as_key(created["createApiKey"]["secret"])
    assert "errors" not in await slowest.execute(TRACK)  # its bucket holds one request, not 0.2 of one
    response = await slowest.http.post("/graphql", json={"query": TRACK}, headers=slowest.headers)
    [error] = response.json()["errors"]
    # 10 s less the time the first request took (a cold start on a loaded machine takes some)
    assert response.status_code == 429 and response.headers["retry-after"] in ("9", "10")
    assert error["extensions"]["code"] == "RATE_LIMITED" and 8.5 < error["extensions"]["retryAfter"] <= 10
