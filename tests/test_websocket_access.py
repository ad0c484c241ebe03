"""Over WebSocket every operation is authorised and rate-limited as over HTTP, and a revoked key's socket ends:
at once when the revocation is announced (here on another server process), within the key cache's TTL when it
is not (a revocation written straight into the database)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.live_server import LiveServer, LiveWorkspace, live_workspace

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { id } } }"
MINT = 'mutation($ws: ID!) { createApiKey(input: {workspaceId: $ws, name: "minted", scopes: [ADMIN]}) { secret } }'
LIVE = "subscription($ws: ID!) { usageTracked(filter: {workspaceId: $ws}) { requestId } }"


@pytest.fixture
async def servers(engine) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    url = engine.url.render_as_string(hide_password=False)
    pair = (LiveServer(url, webhooks_enabled=False), LiveServer(url, webhooks_enabled=False))
    for server in pair:
        server.start()
    yield pair
    for server in pair:
        server.stop()


@pytest.fixture
async def acme(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def post(server: LiveServer, key: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    return response.json()


def metrics(server: LiveServer) -> str:
    return httpx.get(f"{server.url}/metrics", timeout=30).text


async def opened(server: LiveServer, key: str) -> ClientConnection:
    socket = await connect(server.ws_url, subprotocols=["graphql-transport-ws"])
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "connection_ack"}
    return socket


async def send(socket: ClientConnection, operation_id: str, query: str, **variables: Any) -> None:
    payload = {"query": query, "variables": variables}
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


async def answers(socket: ClientConnection, timeout: float) -> list[dict[str, Any]]:
    """Every message until the socket closes or `timeout` seconds pass."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            found.append(json.loads(await asyncio.wait_for(socket.recv(), left)))
        except (TimeoutError, ConnectionClosed):
            break
    return found


def key_id(server: LiveServer, ws: LiveWorkspace, name: str) -> str:
    keys = post(server, ws.admin_key, "query($ws: ID) { apiKeys(workspaceId: $ws) { id name } }", ws=ws.slug)
    return next(k["id"] for k in keys["data"]["apiKeys"] if k["name"] == name)


async def key_count(engine, ws: LiveWorkspace) -> int:
    async with engine.connect() as connection:
        query = "SELECT count(*) FROM api_keys WHERE workspace_id = CAST(:id AS uuid)"
        return (await connection.execute(text(query), {"id": ws.id})).scalar_one()


async def test_a_key_revoked_on_another_process_ends_its_socket_at_once_and_mints_nothing(servers, acme, engine):
    a, b = servers
    socket = await opened(b, acme.admin_key)
    await send(socket, "live", LIVE, ws=acme.slug)
    await asyncio.sleep(0.3)  # the subscription is running on B
    before = await key_count(engine, acme)
    revoked_at = time.monotonic()
    revoked = post(
        a, acme.admin_key, "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", id=key_id(a, acme, "admin")
    )
    assert revoked["data"]["revokeApiKey"]["revokedAt"]
    await send(socket, "mint", MINT, ws=acme.slug)
    messages = await answers(socket, timeout=4)
    seconds = time.monotonic() - revoked_at
    ended = {m["id"]: m for m in messages if m.get("type") == "error"}
    assert ended["live"]["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not any(m.get("type") == "next" and m["id"] == "mint" and m["payload"].get("data") for m in messages)
    assert socket.close_code == 4403 and seconds < 4  # the key cache's TTL is 5 s: this was the NOTIFY
    assert await key_count(engine, acme) == before
    await socket.close()


async def test_a_revocation_nobody_announced_ends_the_socket_within_the_key_cache_ttl(servers, acme, engine):
    _, b = servers
    socket = await opened(b, acme.key)
    await send(socket, "live", LIVE, ws=acme.slug)
    await asyncio.sleep(0.3)
    assert "llm_usage_websocket_operations 1.0" in metrics(b)
    async with engine.begin() as connection:  # around the API: no NOTIFY
        await connection.execute(
            text("UPDATE api_keys SET revoked_at = now() WHERE workspace_id = CAST(:id AS uuid) AND name = 'app'"),
            {"id": acme.id},
        )
    started = time.monotonic()
    messages = await answers(socket, timeout=12)
    assert [m["payload"][0]["extensions"]["code"] for m in messages if m.get("type") == "error"] == ["UNAUTHENTICATED"]
    assert socket.close_code == 4403 and time.monotonic() - started < 11  # TTL 5 s, then the watcher's check
    await socket.close()
    assert "llm_usage_websocket_operations 0.0" in metrics(b)


async def test_operations_on_one_socket_share_the_keys_rate_limit(servers, acme, engine):
    a, _ = servers
    created = post(
        a,
        acme.admin_key,
        'mutation($ws: ID!) { createApiKey(input: {workspaceId: $ws, name: "slow", scopes: [INGEST, READ], '
        "rateLimitPerSecond: 1}) { secret } }",
        ws=acme.slug,
    )
    slow_key = created["data"]["createApiKey"]["secret"]
    socket = await opened(a, slow_key)
    event = {
        "workspaceId": acme.slug,
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 1,
        "completionTokens": 1,
    }
    for index in range(12):
        await send(socket, f"t{index}", TRACK, input={**event, "requestId": f"ws-{index}-{uuid.uuid4().hex[:6]}"})
    messages = [m for m in await answers(socket, timeout=3) if m.get("type") == "next"]
    assert len(messages) == 12
    stored = [m for m in messages if m["payload"].get("data")]
    limited = [m for m in messages if not m["payload"].get("data")]
    assert {e["extensions"]["code"] for m in limited for e in m["payload"]["errors"]} == {"RATE_LIMITED"}
    assert 1 <= len(stored) <= 3  # a burst of 2 (connection_init took one), then 1 a second
    async with engine.connect() as connection:
        count = await connection.execute(
            text("SELECT count(*) FROM usage_events WHERE workspace_id = CAST(:id AS uuid)"), {"id": acme.id}
        )
        assert count.scalar_one() == len(stored)
    await socket.close()


async def test_the_legacy_subscriptions_transport_protocol_is_refused(servers):
    a, _ = servers
    with pytest.raises(Exception) as refused:
        socket = await connect(a.ws_url, subprotocols=["graphql-ws"])
        await socket.recv()
    assert "4406" in str(refused.value) or "subprotocol" in str(refused.value).lower()


async def test_a_websocket_message_is_held_to_the_request_body_limit(servers, acme):
    a, _ = servers
    socket = await opened(a, acme.key)
    await send(socket, "big", "{ serverInfo { version } }", padding="x" * (5 * 1024 * 1024 + 1))
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
