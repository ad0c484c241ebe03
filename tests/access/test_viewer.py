"""`viewer`: any valid key can ask what it is (the dashboard learns a key's scopes from it); an invalid one is
UNAUTHENTICATED like everywhere."""

from __future__ import annotations

VIEWER = "{ viewer { keyId keyName scopes workspaceId rateLimitPerSecond } }"


async def test_a_workspace_key_sees_its_own_name_scopes_workspace_and_rate(gql):
    workspace = await gql.data('mutation { createWorkspace(input: {name: "Acme", slug: "acme"}) { id } }')
    created = await gql.data(
        'mutation { createApiKey(input: {workspaceId: "acme", name: "checkout", scopes: [INGEST, READ], '
        "rateLimitPerSecond: 5}) { apiKey { id } secret } }"
    )
    as_key = gql.as_key(created["createApiKey"]["secret"])
    assert await as_key.data(VIEWER) == {
        "viewer": {
            "keyId": created["createApiKey"]["apiKey"]["id"],
            "keyName": "checkout",
            "scopes": ["INGEST", "READ"],
            "workspaceId": workspace["createWorkspace"]["id"],
            "rateLimitPerSecond": 5.0,
        }
    }


async def test_an_instance_key_has_no_workspace(gql, container):
    viewer = (await gql.data(VIEWER))["viewer"]
    assert (viewer["keyName"], viewer["scopes"], viewer["workspaceId"]) == ("tests", ["ADMIN"], None)
    assert viewer["rateLimitPerSecond"] == container.settings().rate_limit_per_second


async def test_a_revoked_key_is_refused(gql):
    await gql.data('mutation { createWorkspace(input: {name: "Acme", slug: "acme"}) { id } }')
    created = await gql.data(
        'mutation { createApiKey(input: {workspaceId: "acme", name: "old", scopes: [READ]}) { apiKey { id } secret } }'
    )
    await gql.data(f'mutation {{ revokeApiKey(id: "{created["createApiKey"]["apiKey"]["id"]}") {{ id }} }}')
    revoked = await gql.data('{ apiKeys(workspaceId: "acme") { id revokedAt } }')
    [revoked_at] = [k["revokedAt"] for k in revoked["apiKeys"] if k["id"] == created["createApiKey"]["apiKey"]["id"]]
    error = await gql.as_key(created["createApiKey"]["secret"]).error(VIEWER)
    assert (error["message"], error["extensions"]["code"]) == (
        f"this API key was revoked at {revoked_at}",
        "UNAUTHENTICATED",
    )
