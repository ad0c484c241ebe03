"""What webhook URLs and deliveries give away, and to whom. Below ADMIN: only a URL's scheme and host, and
whether an attempt was delivered. Credentials in a URL are refused. The log names a delivery and its host,
never its path or query. Each attempt is signed with its timestamp, so a captured delivery cannot be replayed
once the receiver's tolerance has passed; an ADMIN can rotate the secret."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from modules.core.database import Database
from modules.core.principal import Scope
from service.container import ApplicationContainer
from tests.budgets.conftest import LOOPBACK, PUBLIC, FakeDns
from tests.budgets.test_webhook_delivery_checks import budget_with_delivery, dispatch
from tests.conftest import GraphQLClient, create_key
from tests.webhook_receiver import WebhookReceiver

TOLERANCE_SECONDS = 300  # 5 minutes, as Stripe and Slack do


def verify(secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None) -> bool:
    """True when llm-usage signed this body with `secret` at most 5 minutes ago (or ahead)."""
    if not timestamp.isdigit() or abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, "v1=" + expected)


SECRET_URL = "https://hooks.example.com:8443/services/T0/B0/PATHSECRET?token=QUERYSECRET"
LEGACY_URL = "https://someone:PWSECRET@hooks.example.com/legacy"  # stored before credentials were refused
LEAKS = ("PATHSECRET", "QUERYSECRET", "8443", "someone", "PWSECRET")
SHOWN = "https://hooks.example.com/\u2026"
CREATE = "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { webhookSecret budget { id } } }"
ROTATE = "mutation($id: ID!) { rotateBudgetSecret(id: $id) { webhookSecret budget { id name } } }"
ATTEMPTS = (
    "query($id: ID!) { webhookDeliveries(budgetId: $id) { id url status attemptCount "
    "attempts { delivered statusCode error durationMs } } }"
)
NO_CREDENTIALS = "must not hold credentials (user:password@): the receiver checks the signature instead"


async def as_scope(gql: GraphQLClient, container: ApplicationContainer, *scopes: Scope) -> GraphQLClient:
    return gql.as_key(await create_key(container, workspace="acme", scopes=scopes))


async def answer(client: GraphQLClient, query: str, **variables: Any) -> tuple[dict[str, Any], str]:
    """The data of a query that must succeed, and the whole response as text (to look for leaks in)."""
    result = await client.execute(query, **variables)
    assert "errors" not in result, result
    return result["data"], json.dumps(result)


async def test_below_admin_a_webhook_url_shows_only_its_scheme_and_host(
    gql: GraphQLClient, workspace: dict[str, str], container: ApplicationContainer, database: Database, dns: FakeDns
) -> None:
    dns.records["hooks.example.com"] = [PUBLIC]
    budget_id = await budget_with_delivery(gql, SECRET_URL)
    async with database.session_factory.begin() as session:
        await session.execute(
            text("UPDATE budgets SET webhook_urls = webhook_urls || CAST(:url AS text)"), {"url": LEGACY_URL}
        )
    reader = await as_scope(gql, container, Scope.READ)
    ingester = await as_scope(gql, container, Scope.INGEST)
    views = [
        (reader, f'{{ budget(id: "{budget_id}") {{ webhookUrls }} }}', {"budget": {"webhookUrls": [SHOWN, SHOWN]}}),
        (reader, '{ budgets(workspaceId: "acme") { webhookUrls } }', {"budgets": [{"webhookUrls": [SHOWN, SHOWN]}]}),
        (
            reader,
            f'{{ webhookDeliveries(budgetId: "{budget_id}") {{ url }} }}',
            {"webhookDeliveries": [{"url": SHOWN}]},
        ),
        (
            reader,
            '{ budgetStatus(workspaceId: "acme") { tightest { webhookUrls } budgets { webhookUrls } } }',
            {
                "budgetStatus": {
                    "tightest": {"webhookUrls": [SHOWN, SHOWN]},
                    "budgets": [{"webhookUrls": [SHOWN, SHOWN]}],
                }
            },
        ),
        (  # an INGEST key is told whether to go ahead, not the budgets
            ingester,
            '{ budgetStatus(workspaceId: "acme") { exceeded tightest { webhookUrls } budgets { webhookUrls } } }',
            {"budgetStatus": {"exceeded": False, "tightest": None, "budgets": []}},
        ),
    ]
    for client, query, expected in views:
        data, whole = await answer(client, query)
        assert data == expected
        assert not [leak for leak in LEAKS if leak in whole], whole
    data, _ = await answer(gql, f'{{ budget(id: "{budget_id}") {{ webhookUrls }} }}')
    assert data == {"budget": {"webhookUrls": [SECRET_URL, LEGACY_URL]}}  # ADMIN sees what it set


async def test_credentials_in_a_webhook_url_are_refused(
    gql: GraphQLClient, workspace: dict[str, str], dns: FakeDns
) -> None:
    dns.records["hooks.example.com"] = [PUBLIC]
    given = [
        "https://hooks.example.com/ok",
        "https://someone:PWSECRET@hooks.example.com/x",
        "https://tok@hooks.example.com/y",
    ]
    result = await gql.execute(
        CREATE, input={"workspaceId": "acme", "name": "B", "limitUsd": "1", "webhookUrls": given}
    )
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [
        {"field": "webhookUrls[1]", "reason": NO_CREDENTIALS},
        {"field": "webhookUrls[2]", "reason": NO_CREDENTIALS},
    ]
    assert "PWSECRET" not in json.dumps(result)
    created = await gql.data(
        CREATE, input={"workspaceId": "acme", "name": "B", "limitUsd": "1", "webhookUrls": given[:1]}
    )
    error = await gql.error(
        "mutation($id: ID!, $urls: [String!]) { updateBudget(id: $id, input: {webhookUrls: $urls}) { id } }",
        id=created["createBudget"]["budget"]["id"],
        urls=[given[1]],
    )
    assert error["extensions"]["problems"] == [{"field": "webhookUrls[0]", "reason": NO_CREDENTIALS}]


@pytest.mark.parametrize("webhook_allow_hosts", [LOOPBACK])
async def test_below_admin_an_attempt_shows_only_whether_it_was_delivered(
    gql: GraphQLClient,
    workspace: dict[str, str],
    container: ApplicationContainer,
    database: Database,
    receiver: WebhookReceiver,
) -> None:
    receiver.script = [500]
    budget_id = await budget_with_delivery(gql, receiver.url)
    assert await dispatch(container) == 1
    async with database.session_factory.begin() as session:
        await session.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now()"))
    assert await dispatch(container) == 1
    for scopes in [(Scope.READ,), (Scope.INGEST, Scope.READ)]:
        data, _ = await answer(await as_scope(gql, container, *scopes), ATTEMPTS, id=budget_id)
        [delivery] = data["webhookDeliveries"]
        assert (delivery["url"], delivery["status"], delivery["attemptCount"]) == (
            "http://127.0.0.1/\u2026",
            "DELIVERED",
            2,
        )
        assert delivery["attempts"] == [
            {"delivered": False, "statusCode": None, "error": None, "durationMs": None},
            {"delivered": True, "statusCode": None, "error": None, "durationMs": None},
        ]
    data, _ = await answer(gql, ATTEMPTS, id=budget_id)
    attempts = data["webhookDeliveries"][0]["attempts"]
    assert [(a["delivered"], a["statusCode"], a["error"]) for a in attempts] == [
        (False, 500, "HTTP 500"),
        (True, 200, None),
    ]
    assert all(
        type(a["durationMs"]) is int and 0 <= a["durationMs"] < 30_000 for a in attempts
    )  # a loopback round trip


@pytest.mark.parametrize("webhook_allow_hosts", [LOOPBACK])
async def test_the_log_names_a_delivery_and_its_host_never_its_path_or_query(
    gql: GraphQLClient,
    workspace: dict[str, str],
    container: ApplicationContainer,
    database: Database,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script = [500]
    budget_id = await budget_with_delivery(gql, f"{receiver.url}/PATHSECRET?token=QUERYSECRET")
    assert await dispatch(container) == 1
    async with database.session_factory.begin() as session:
        await session.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now()"))
    assert await dispatch(container) == 1
    assert [r.path for r in receiver.received] == ["/hooks/llm-usage/PATHSECRET?token=QUERYSECRET"] * 2
    data, _ = await answer(gql, ATTEMPTS, id=budget_id)
    [delivery] = data["webhookDeliveries"]
    logged = [(r.getMessage(), r.exc_text or "") for r in caplog.records]
    assert not [line for line in logged if "PATHSECRET" in str(line) or "QUERYSECRET" in str(line)], logged
    assert f"webhook delivery {delivery['id']} to http://127.0.0.1 failed (HTTP 500); status PENDING" in [
        message for message, _ in logged
    ]


@pytest.mark.parametrize("webhook_allow_hosts", [LOOPBACK])
async def test_each_attempt_is_signed_with_its_timestamp_and_a_replay_is_refused(
    gql: GraphQLClient, workspace: dict[str, str], container: ApplicationContainer, receiver: WebhookReceiver
) -> None:
    created = await gql.data(
        CREATE, input={"workspaceId": "acme", "name": "B", "limitUsd": "1", "webhookUrls": [receiver.url]}
    )
    secret = created["createBudget"]["webhookSecret"]
    await gql.data(
        'mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o", promptTokens: 1, '
        'completionTokens: 1, costUsd: "0.6"}) { duplicate } }'
    )
    before = time.time()
    assert await dispatch(container) == 1
    [got] = receiver.received
    body, timestamp, signature = (
        got.body.encode(),
        got.headers["X-LLM-Usage-Timestamp"],
        got.headers["X-LLM-Usage-Signature"],
    )
    assert int(before) <= int(timestamp) <= time.time()
    assert verify(secret, body, timestamp, signature)  # as the receiver gets it
    assert verify(secret, body, timestamp, signature, now=int(timestamp) + TOLERANCE_SECONDS)  # 5 minutes late
    assert not verify(secret, body, timestamp, signature, now=int(timestamp) + TOLERANCE_SECONDS + 1)  # replayed later
    assert not verify(secret, body, str(int(timestamp) + 600), signature, now=int(timestamp) + 600)  # timestamp moved
    assert not verify(secret, body.replace(b"0.6", b"0.1"), timestamp, signature)  # body changed
    assert not verify("whsec_other", body, timestamp, signature)


def test_the_readme_shows_the_receiver_check_these_tests_run() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert inspect.getsource(verify) in readme
    assert "TOLERANCE_SECONDS = 300  # 5 minutes, as Stripe and Slack do" in readme


@pytest.mark.parametrize("webhook_allow_hosts", [LOOPBACK])
async def test_an_admin_rotates_the_secret_and_the_next_attempt_is_signed_with_the_new_one(
    gql: GraphQLClient, workspace: dict[str, str], container: ApplicationContainer, receiver: WebhookReceiver
) -> None:
    created = await gql.data(
        CREATE, input={"workspaceId": "acme", "name": "B", "limitUsd": "1", "webhookUrls": [receiver.url]}
    )
    budget_id, old = created["createBudget"]["budget"]["id"], created["createBudget"]["webhookSecret"]
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    other_admin = gql.as_key(await create_key(container, workspace="beta", scopes=(Scope.ADMIN,)))
    for caller, message in [
        (await as_scope(gql, container, Scope.READ), "this key lacks the ADMIN scope"),
        (await as_scope(gql, container, Scope.INGEST, Scope.READ), "this key lacks the ADMIN scope"),
        (other_admin, "this key does not give access to that workspace"),
    ]:
        error = await caller.error(ROTATE, id=budget_id)
        assert (error["extensions"]["code"], error["message"]) == ("FORBIDDEN", message)
    rotated = (await gql.data(ROTATE, id=budget_id))["rotateBudgetSecret"]
    new = rotated["webhookSecret"]
    assert rotated["budget"] == {"id": budget_id, "name": "B"}
    assert new.startswith("whsec_") and len(new) == len(old) and new != old
    await gql.data(
        'mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o", promptTokens: 1, '
        'completionTokens: 1, costUsd: "0.6"}) { duplicate } }'
    )
    assert await dispatch(container) == 1
    [got] = receiver.received
    signed = (got.body.encode(), got.headers["X-LLM-Usage-Timestamp"], got.headers["X-LLM-Usage-Signature"])
    assert verify(new, *signed) and not verify(old, *signed)
