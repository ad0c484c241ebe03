"""Subscriptions over graphql-transport-ws on two real server processes sharing one database: an event
tracked through A reaches a subscriber of B once, filtered; keys are checked at connection_init."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.live_server import LiveServer, LiveWorkspace, live_workspace

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { id } } }"


@pytest.fixture
async def pair(engine) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    url = engine.url.render_as_string(hide_password=False)
    servers = (LiveServer(url, webhooks_enabled=False), LiveServer(url, webhooks_enabled=False))
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
async def acme(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


@pytest.fixture
async def other(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def track(server: LiveServer, ws: LiveWorkspace, **fields: Any) -> str:
    given = {"workspaceId": ws.slug, "provider": "openai", "model": "gpt-4o", "promptTokens": 3, "completionTokens": 2}
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": TRACK, "variables": {"input": {**given, **fields}}},
        headers={"Authorization": f"Bearer {ws.key}"},
        timeout=30,
    )
    result = response.json()
    assert "errors" not in result, result
    return result["data"]["trackUsage"]["event"]["id"]


async def open_socket(server: LiveServer, params: dict[str, Any]) -> ClientConnection:
    socket = await connect(server.ws_url, subprotocols=["graphql-transport-ws"])
    await socket.send(json.dumps({"type": "connection_init", "payload": params}))
    return socket


async def subscribe(socket: ClientConnection, query: str) -> None:
    assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "connection_ack"}
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))


async def next_message(socket: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


async def until_live(socket: ClientConnection, send_probe) -> None:
    """Subscriptions have no acknowledgement: send probes until one comes back, then drain them."""
    for _ in range(100):
        send_probe()
        try:
            message = await next_message(socket, 0.2)
        except TimeoutError:
            continue
        assert message["type"] == "next", message
        await asyncio.sleep(0.3)
        while True:
            try:
                await next_message(socket, 0.2)
            except TimeoutError:
                return
    raise AssertionError("the subscription never delivered a probe")


async def test_a_subscriber_of_b_gets_each_matching_event_tracked_through_a_once(pair, acme, other):
    a, b = pair
    socket = await open_socket(b, {"Authorization": f"Bearer {acme.key}"})
    query = (
        f'subscription {{ usageTracked(filter: {{workspaceId: "{acme.slug}", model: "gpt-4o", taskType: "chat"}}) '
        "{ id requestId model taskType promptTokens userId } }"
    )
    await subscribe(socket, query)
    await until_live(socket, lambda: track(a, acme, taskType="chat", requestId=f"probe-{uuid.uuid4().hex}"))
    wanted = track(a, acme, taskType="chat", requestId="wanted", userId="alice")
    track(a, acme, taskType="summarize", requestId="other-task")  # filtered out
    track(a, acme, taskType="chat", model="gpt-4o-mini", requestId="other-model")  # filtered out
    track(a, other, taskType="chat", requestId="other-workspace")  # another workspace
    track(b, acme, taskType="chat", requestId="wanted", userId="alice")  # a retry: not stored again
    message = await next_message(socket)
    assert message == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "usageTracked": {
                    "id": wanted,
                    "requestId": "wanted",
                    "model": "gpt-4o",
                    "taskType": "chat",
                    "promptTokens": 3,
                    "userId": "alice",
                }
            }
        },
    }
    with pytest.raises(TimeoutError):
        await next_message(socket, 1.0)
    await socket.close()


async def test_a_batch_reaches_the_subscriber_whole_and_sessions_are_pushed(pair, acme):
    a, b = pair
    events = await open_socket(b, {"Authorization": f"Bearer {acme.key}"})
    await subscribe(
        events,
        f'subscription {{ sessionUpdated(workspaceId: "{acme.slug}") {{ id calls events {{ requestId }} }} }}',
    )
    await until_live(events, lambda: track(a, acme, sessionId=f"probe-{uuid.uuid4().hex}"))
    track(a, acme, sessionId="conversation-1", requestId="s1")
    assert (await next_message(events))["payload"]["data"]["sessionUpdated"] == {
        "id": "conversation-1",
        "calls": 1,
        "events": [{"requestId": "s1"}],
    }
    track(a, acme, sessionId="conversation-1", requestId="s2")
    assert (await next_message(events))["payload"]["data"]["sessionUpdated"] == {  # no stale loader cache
        "id": "conversation-1",
        "calls": 2,
        "events": [{"requestId": "s1"}, {"requestId": "s2"}],
    }
    await events.close()


def create_budget(server: LiveServer, ws: LiveWorkspace) -> str:
    query = f'mutation {{ createBudget(input: {{workspaceId: "{ws.slug}", name: "B", limitUsd: "1000"}}) {{ budget {{ id }} }} }}'
    response = httpx.post(
        f"{server.url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {ws.admin_key}"}
    )
    return response.json()["data"]["createBudget"]["budget"]["id"]


async def test_budget_alerts_are_pushed_to_subscribers(pair, acme):
    a, b = pair
    budget_id = create_budget(a, acme)
    alerts = await open_socket(b, {"Authorization": f"Bearer {acme.key}"})
    await subscribe(
        alerts, f'subscription {{ budgetAlerts(workspaceId: "{acme.slug}") {{ budgetId thresholdPercent spentUsd }} }}'
    )
    await asyncio.sleep(0.5)  # no probe can be sent without raising an alert: give the LISTEN time
    track(a, acme, costUsd="600")
    message = await next_message(alerts)
    assert message["payload"]["data"]["budgetAlerts"] == {
        "budgetId": budget_id,
        "thresholdPercent": 50,
        "spentUsd": "600",
    }
    await alerts.close()


@pytest.mark.parametrize("who", ["no key", "unknown key", "ingest-only key", "read key of another workspace"])
async def test_connection_init_refuses_callers_without_read_on_the_workspace(pair, acme, other, engine, who):
    _, b = pair
    params: dict[str, Any] = {"workspaceId": acme.slug}
    if who == "unknown key":
        params["Authorization"] = "Bearer llmu_" + "x" * 43
    elif who == "ingest-only key":
        from modules.core.principal import Scope
        from tests.conftest import create_key
        from tests.live_server import committed_container

        params["Authorization"] = (
            f"Bearer {await create_key(committed_container(engine), workspace=acme.slug, scopes=(Scope.INGEST,))}"
        )
    elif who == "read key of another workspace":
        params["Authorization"] = f"Bearer {other.key}"
    socket = await open_socket(b, params)
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_subscribing_to_another_workspace_is_forbidden(pair, acme, other):
    _, b = pair
    socket = await open_socket(b, {"Authorization": f"Bearer {acme.key}"})
    await subscribe(socket, f'subscription {{ usageTracked(filter: {{workspaceId: "{other.slug}"}}) {{ id }} }}')
    message = await next_message(socket)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], message
    await socket.close()
