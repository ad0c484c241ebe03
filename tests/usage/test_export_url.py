"""exportUrl never repeats the request's Host header (a link to an attacker's host, with the key sent along);
it is a path on this service, or on LLM_USAGE_PUBLIC_URL when the operator sets it."""

from __future__ import annotations

from dataclasses import replace

import httpx
from dependency_injector import providers

from service.app import create_app
from tests.conftest import TEST_SETTINGS

QUERY = '{ exportUrl(filter: {workspaceId: "acme", userIds: ["alice"]}, format: JSONL) }'


async def test_the_export_url_is_a_path_whatever_the_host_header(client, gql, workspace):
    response = await client.post("/graphql", json={"query": QUERY}, headers={**gql.headers, "Host": "evil.example"})
    assert response.json()["data"]["exportUrl"] == "/export/usage.jsonl?workspaceId=acme&userIds=alice"


async def test_the_export_url_is_on_the_public_url_when_set(container, gql, workspace):
    container.settings.override(providers.Object(replace(TEST_SETTINGS, public_url="https://usage.example.com/")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(container)), base_url="http://x") as c:
        response = await c.post("/graphql", json={"query": QUERY}, headers={**gql.headers, "Host": "evil.example"})
    assert response.json()["data"]["exportUrl"] == (
        "https://usage.example.com/export/usage.jsonl?workspaceId=acme&userIds=alice"
    )
