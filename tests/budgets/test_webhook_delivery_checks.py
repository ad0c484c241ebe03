"""Every attempt checks its URL again and connects only to the address it checked. A name that resolved to a
public address when the budget was made but resolves to an internal one now (DNS rebinding), or a URL stored
before these checks existed, is refused and recorded FAILED without a connection; an allowed one is reached at
the checked address, with the URL's own host in the Host header and in TLS SNI, and never through a proxy."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from modules.core.database import Database
from service.container import ApplicationContainer
from service.context import provide
from tests.budgets.blocked_addresses import BLOCKED, Blocked
from tests.budgets.conftest import LOOPBACK, PUBLIC, FakeDns
from tests.conftest import GraphQLClient
from tests.webhook_receiver import WebhookReceiver, serve_receiver

DELIVERIES = (
    "query($id: ID!) { webhookDeliveries(budgetId: $id) { url status attemptCount nextAttemptAt "
    "attempts { delivered statusCode error } } }"
)


async def budget_with_delivery(gql: GraphQLClient, url: str) -> str:
    """A budget of $1 with one webhook URL, and an event of $0.60: one alert, one pending delivery."""
    created = await gql.data(
        "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id } } }",
        input={"workspaceId": "acme", "name": "B", "limitUsd": "1", "webhookUrls": [url]},
    )
    await gql.data(
        'mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o", promptTokens: 1, '
        'completionTokens: 1, costUsd: "0.6"}) { duplicate } }'
    )
    return created["createBudget"]["budget"]["id"]


async def deliveries(gql: GraphQLClient, budget_id: str) -> list[dict[str, Any]]:
    return (await gql.data(DELIVERIES, id=budget_id))["webhookDeliveries"]


async def dispatch(container: ApplicationContainer) -> int:
    dispatcher = await provide(container.budgets.dispatcher())
    return await dispatcher.dispatch_due()


@pytest.mark.parametrize("form", BLOCKED.values(), ids=BLOCKED.keys())
async def test_a_delivery_to_a_blocked_address_is_refused_without_connecting(
    gql: GraphQLClient,
    workspace: dict[str, str],
    container: ApplicationContainer,
    database: Database,
    receiver: WebhookReceiver,
    dns: FakeDns,
    form: Blocked,
) -> None:
    url = f"http://{form.host}:{receiver.port}/hook"  # a loopback form reaches the receiver if let through
    if form.records:
        dns.records[form.host] = [PUBLIC]  # public when the budget is made,
        budget_id = await budget_with_delivery(gql, url)
        dns.records.update(form.records)  # internal when the alert is delivered
    else:
        dns.records["hooks.example.com"] = [PUBLIC]
        budget_id = await budget_with_delivery(gql, "https://hooks.example.com/hook")
        async with database.session_factory.begin() as session:  # a URL stored before these checks existed
            await session.execute(text("UPDATE webhook_deliveries SET url = :url"), {"url": url})
    assert await dispatch(container) == 1
    assert await dispatch(container) == 0  # refused for good: never retried
    assert await deliveries(gql, budget_id) == [
        {
            "url": url,
            "status": "FAILED",
            "attemptCount": 1,
            "nextAttemptAt": None,
            "attempts": [{"delivered": False, "statusCode": None, "error": f"refused: {form.reason}"}],
        }
    ]
    assert receiver.received == []


async def test_a_name_rebound_to_loopback_after_the_check_at_creation_is_not_connected_to(
    gql: GraphQLClient,
    workspace: dict[str, str],
    container: ApplicationContainer,
    receiver: WebhookReceiver,
    dns: FakeDns,
) -> None:
    dns.records["rebound.attacker.test"] = [PUBLIC]
    budget_id = await budget_with_delivery(gql, f"http://rebound.attacker.test:{receiver.port}/hook")
    dns.records["rebound.attacker.test"] = ["127.0.0.1"]  # the receiver listens there
    assert await dispatch(container) == 1
    [delivery] = await deliveries(gql, budget_id)
    assert (delivery["status"], delivery["attempts"][0]["error"]) == (
        "FAILED",
        "refused: rebound.attacker.test resolves to 127.0.0.1, a loopback address",
    )
    assert receiver.received == []


@pytest.mark.parametrize("webhook_allow_hosts", [("hooks.internal.test",)])
async def test_a_delivery_connects_to_the_address_it_checked_and_sends_the_url_host(
    gql: GraphQLClient,
    workspace: dict[str, str],
    container: ApplicationContainer,
    receiver: WebhookReceiver,
    dns: FakeDns,
) -> None:
    """The system resolver knows no .test name: the attempt succeeds only by connecting to the address the
    check resolved, never by letting httpx resolve the name again."""
    dns.records["hooks.internal.test"] = ["127.0.0.1"]
    url = f"http://hooks.internal.test:{receiver.port}/hooks/llm-usage?team=7"
    budget_id = await budget_with_delivery(gql, url)
    assert dns.asked == ["hooks.internal.test"]  # the check at creation
    assert await dispatch(container) == 1
    assert dns.asked == ["hooks.internal.test"] * 2  # and one at the attempt
    [got] = receiver.received
    assert (got.headers["Host"], got.path) == (f"hooks.internal.test:{receiver.port}", "/hooks/llm-usage?team=7")
    [delivery] = await deliveries(gql, budget_id)
    assert (delivery["status"], delivery["attempts"]) == (
        "DELIVERED",
        [{"delivered": True, "statusCode": 200, "error": None}],
    )


@contextlib.contextmanager
def tls_listener(directory: Path, name: str) -> Iterator[tuple[int, list[str | None]]]:
    """A TLS server on loopback with a self-signed certificate for `name`; records each client's SNI name."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subject = ["-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"]
    key_type = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    files = ["-keyout", str(key), "-out", str(cert), "-days", "1"]
    subprocess.run(["openssl", "req", "-x509", *key_type, *files, *subject], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[str | None] = []
    context.sni_callback = lambda _socket, server_name, _context: seen.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection, contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        listener.close()


@pytest.mark.parametrize("webhook_allow_hosts", [("hooks.internal.test",)])
async def test_an_https_delivery_sends_the_url_host_as_sni_and_verifies_its_certificate(
    gql: GraphQLClient, workspace: dict[str, str], container: ApplicationContainer, dns: FakeDns, tmp_path: Path
) -> None:
    dns.records["hooks.internal.test"] = ["127.0.0.1"]
    with tls_listener(tmp_path, "hooks.internal.test") as (port, seen):
        budget_id = await budget_with_delivery(gql, f"https://hooks.internal.test:{port}/hook")
        assert await dispatch(container) == 1
    assert seen == ["hooks.internal.test"]  # connected to 127.0.0.1, but TLS was for the URL's name
    [delivery] = await deliveries(gql, budget_id)
    [attempt] = delivery["attempts"]
    assert delivery["status"] == "PENDING" and attempt["statusCode"] is None  # a self-signed certificate
    assert "CERTIFICATE_VERIFY_FAILED" in attempt["error"], attempt


@pytest.mark.parametrize("webhook_allow_hosts", [LOOPBACK])
async def test_deliveries_ignore_the_proxy_settings_of_the_environment(
    gql: GraphQLClient,
    workspace: dict[str, str],
    container: ApplicationContainer,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serve_receiver() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        budget_id = await budget_with_delivery(gql, receiver.url)
        assert await dispatch(container) == 1
    assert proxy.received == []
    assert [r.path for r in receiver.received] == ["/hooks/llm-usage"]
    assert (await deliveries(gql, budget_id))[0]["status"] == "DELIVERED"
