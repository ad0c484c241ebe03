"""Webhooks end to end: a real server delivers alerts to a loopback receiver, retrying with backoff, signing
each body, and finishing the work after a restart (the pending delivery lives in Postgres)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.budgets.conftest import LOOPBACK
from tests.budgets.test_webhook_secrets import verify
from tests.live_server import LiveServer, LiveWorkspace, live_workspace
from tests.webhook_receiver import Received, WebhookReceiver


@pytest.fixture
async def workspace_live(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def post(server: LiveServer, key: str, query: str, **variables) -> dict:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    result = response.json()
    assert "errors" not in result, result
    return result["data"]


def create_budget(server: LiveServer, ws: LiveWorkspace, url: str) -> tuple[str, str]:
    data = post(
        server,
        ws.admin_key,
        "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { webhookSecret budget { id } } }",
        input={"workspaceId": ws.slug, "name": "Monthly", "limitUsd": "1", "webhookUrls": [url]},
    )
    return data["createBudget"]["budget"]["id"], data["createBudget"]["webhookSecret"]


def spend(server: LiveServer, ws: LiveWorkspace, cost: str) -> None:
    post(
        server,
        ws.key,
        "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate } }",
        input={
            "workspaceId": ws.slug,
            "provider": "openai",
            "model": "gpt-4o",
            "promptTokens": 1,
            "completionTokens": 1,
            "costUsd": cost,
        },
    )


def signed_with(secret: str, received: Received) -> bool:
    """The receiver's check of the README, on what the receiver got."""
    headers = received.headers
    return verify(secret, received.body.encode(), headers["X-LLM-Usage-Timestamp"], headers["X-LLM-Usage-Signature"])


async def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def deliveries(server: LiveServer, ws: LiveWorkspace, budget_id: str) -> list[dict]:
    query = "query($id: ID!) { webhookDeliveries(budgetId: $id) { status attemptCount deliveredAt attempts { statusCode error } } }"
    return post(server, ws.admin_key, query, id=budget_id)["webhookDeliveries"]


async def test_a_failing_receiver_gets_the_alert_on_the_third_attempt_with_a_valid_signature(
    engine, workspace_live, receiver: WebhookReceiver
):
    receiver.script = [500, 503]
    server = LiveServer(
        engine.url.render_as_string(hide_password=False),
        webhook_retry_base_seconds=0.2,
        webhook_poll_seconds=0.1,
        webhook_allow_hosts=LOOPBACK,  # the receiver listens on loopback: the operator allows it
    )
    server.start()
    try:
        budget_id, secret = create_budget(server, workspace_live, receiver.url)
        spend(server, workspace_live, "0.6")  # crosses 50% of 1
        await wait_for(lambda: len(receiver.received) == 3)
        # Nothing more comes once delivered: a later alert (80%) arrives, and the 50% one was not sent again
        # before it (a delivery due again would be claimed first: they go out in order of next attempt).
        spend(server, workspace_live, "0.3")
        await wait_for(lambda: len(receiver.received) == 4)
        later = receiver.received.pop()
        assert (later.answered, json.loads(later.body)["alert"]["thresholdPercent"]) == (200, 80)
        assert [r.answered for r in receiver.received] == [500, 503, 200]
        assert len({r.body for r in receiver.received}) == 1  # the same bytes every attempt
        final = receiver.received[-1]
        assert all(signed_with(secret, r) for r in receiver.received)  # each attempt signed with its own time
        assert final.headers["Content-Type"] == "application/json"
        body = json.loads(final.body)
        assert body["alert"]["thresholdPercent"] == 50 and body["alert"]["spentUsd"] == "0.6"
        assert body["alert"]["budgetId"] == budget_id and body["alert"]["limitUsd"] == "1"
        assert "crossed 50%" in body["text"]  # Slack shows `text`
        [later_delivery, delivery] = deliveries(server, workspace_live, budget_id)  # newest first
        assert (later_delivery["status"], later_delivery["attemptCount"]) == ("DELIVERED", 1)
        assert (delivery["status"], delivery["attemptCount"]) == ("DELIVERED", 3)
        assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
        assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 503", None]
    finally:
        server.stop()


async def test_a_delivery_pending_when_the_server_stops_is_delivered_once_after_restart(
    engine, workspace_live, receiver: WebhookReceiver
):
    receiver.script = [500]
    server = LiveServer(
        engine.url.render_as_string(hide_password=False),
        webhook_retry_base_seconds=1.5,
        webhook_poll_seconds=0.1,
        webhook_allow_hosts=LOOPBACK,
    )
    server.start()
    try:
        budget_id, secret = create_budget(server, workspace_live, receiver.url)
        spend(server, workspace_live, "0.6")
        await wait_for(lambda: len(receiver.received) == 1)
    finally:
        server.stop()  # the retry is due in 1.5 s: nobody is running then
    await asyncio.sleep(2.0)
    assert len(receiver.received) == 1
    server.start()
    try:
        await wait_for(lambda: len(receiver.received) == 2)
        spend(server, workspace_live, "0.3")  # a later alert (80%): delivered once the 50% one is done with
        await wait_for(lambda: len(receiver.received) == 3)
        assert [(r.answered, json.loads(r.body)["alert"]["thresholdPercent"]) for r in receiver.received] == [
            (500, 50),
            (200, 50),
            (200, 80),
        ]
        assert signed_with(secret, receiver.received[1])
        delivered = deliveries(server, workspace_live, budget_id)
        assert [(d["status"], d["attemptCount"]) for d in delivered] == [("DELIVERED", 1), ("DELIVERED", 2)]
    finally:
        server.stop()


async def test_twenty_concurrent_batches_through_two_instances_raise_each_alert_once(engine, workspace_live):
    url = engine.url.render_as_string(hide_password=False)
    first, second = LiveServer(url, webhooks_enabled=False), LiveServer(url, webhooks_enabled=False)
    first.start()
    second.start()
    try:
        data = post(
            first,
            workspace_live.admin_key,
            "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id } } }",
            input={"workspaceId": workspace_live.slug, "name": "Tight", "limitUsd": "10"},
        )
        budget_id = data["createBudget"]["budget"]["id"]

        async def batch(client: httpx.AsyncClient, server: LiveServer, number: int) -> None:
            inputs = [
                {
                    "workspaceId": workspace_live.slug,
                    "provider": "openai",
                    "model": "gpt-4o",
                    "promptTokens": 1,
                    "completionTokens": 1,
                    "costUsd": "0.25",
                    "requestId": f"b{number}-{i}",
                }
                for i in range(4)
            ]
            response = await client.post(
                f"{server.url}/graphql",
                json={
                    "query": "mutation($i: [TrackUsageInput!]!) { trackUsageBatch(inputs: $i) { insertedCount } }",
                    "variables": {"i": inputs},
                },
                headers={"Authorization": f"Bearer {workspace_live.key}"},
            )
            assert response.json() == {"data": {"trackUsageBatch": {"insertedCount": 4}}}

        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(batch(client, (first, second)[n % 2], n) for n in range(20)))
        query = "query($id: ID!) { budget(id: $id) { spentUsd alerts { thresholdPercent } } }"
        seen = post(second, workspace_live.key, query, id=budget_id)["budget"]
        assert seen["spentUsd"] == "20"  # 20 batches x 4 x 0.25
        assert [a["thresholdPercent"] for a in seen["alerts"]] == [100, 80, 50]
    finally:
        first.stop()
        second.stop()
