"""Webhook URLs are checked where they are set: createBudget and updateBudget refuse every URL whose host is, or
resolves to, an address the server must not reach (BAD_USER_INPUT naming webhookUrls[i], nothing written), and
the operator's allow-list (LLM_USAGE_WEBHOOK_ALLOW_HOSTS) is the only way in for an internal hook."""

from __future__ import annotations

from typing import Any

import pytest

from modules.core.addresses import AllowList
from service.config import Settings
from tests.budgets.blocked_addresses import BLOCKED, Blocked
from tests.budgets.conftest import PUBLIC, FakeDns
from tests.conftest import GraphQLClient

CREATE = "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id webhookUrls } } }"
UPDATE = "mutation($id: ID!, $input: UpdateBudgetInput!) { updateBudget(id: $id, input: $input) { webhookUrls } }"
OK_URL = "https://hooks.example.com/ok"


def create_input(urls: list[str], name: str = "B") -> dict[str, Any]:
    return {"workspaceId": "acme", "name": name, "limitUsd": "10", "webhookUrls": urls}


async def stored_urls(gql: GraphQLClient) -> list[list[str]]:
    return [b["webhookUrls"] for b in (await gql.data('{ budgets(workspaceId: "acme") { webhookUrls } }'))["budgets"]]


@pytest.mark.parametrize("form", BLOCKED.values(), ids=BLOCKED.keys())
async def test_a_webhook_url_to_a_blocked_address_is_refused_at_creation(
    gql: GraphQLClient, workspace: dict[str, str], dns: FakeDns, form: Blocked
) -> None:
    dns.records.update({"hooks.example.com": [PUBLIC], **form.records})
    error = await gql.error(CREATE, input=create_input([OK_URL, f"http://{form.host}/hook"]))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [{"field": "webhookUrls[1]", "reason": form.reason}]
    assert await stored_urls(gql) == []


@pytest.mark.parametrize("form", BLOCKED.values(), ids=BLOCKED.keys())
async def test_a_webhook_url_to_a_blocked_address_is_refused_when_a_budget_is_changed(
    gql: GraphQLClient, workspace: dict[str, str], dns: FakeDns, form: Blocked
) -> None:
    dns.records.update({"hooks.example.com": [PUBLIC], **form.records})
    budget = (await gql.data(CREATE, input=create_input([OK_URL])))["createBudget"]["budget"]
    error = await gql.error(UPDATE, id=budget["id"], input={"webhookUrls": [f"https://{form.host}/hook"]})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [{"field": "webhookUrls[0]", "reason": form.reason}]
    assert await stored_urls(gql) == [[OK_URL]]


async def test_every_refused_url_is_named_by_its_index_with_the_other_problems(
    gql: GraphQLClient, workspace: dict[str, str], dns: FakeDns
) -> None:
    dns.records["hooks.example.com"] = [PUBLIC]
    given = {**create_input(["http://10.0.0.1/a", OK_URL, "http://localhost/c"]), "limitUsd": "0"}
    error = await gql.error(CREATE, input=given)
    assert error["extensions"]["problems"] == [
        {"field": "limitUsd", "reason": "must be more than 0 and at most 1000000000"},
        {"field": "webhookUrls[0]", "reason": "10.0.0.1 is a private address"},
        {"field": "webhookUrls[2]", "reason": "localhost resolves to 127.0.0.1, a loopback address"},
    ]


async def test_a_name_that_does_not_resolve_is_refused(gql: GraphQLClient, workspace: dict[str, str]) -> None:
    error = await gql.error(CREATE, input=create_input(["https://nowhere.invalid/hook"]))
    assert error["extensions"]["problems"] == [
        {"field": "webhookUrls[0]", "reason": "nowhere.invalid does not resolve (gaierror)"}
    ]


@pytest.mark.parametrize("webhook_allow_hosts", [("127.0.0.1", "10.0.0.0/8", "Hooks.Internal.test")])
async def test_the_allow_list_admits_exactly_its_hosts_and_networks(
    gql: GraphQLClient, workspace: dict[str, str], dns: FakeDns
) -> None:
    dns.records.update({"hooks.internal.test": ["192.168.7.7"], "other.internal.test": ["192.168.7.7"]})
    admitted = [
        "http://127.0.0.1:8080/a",  # the address
        "http://localhost:8080/b",  # a name resolving inside an allowed network
        "http://10.20.30.40/c",  # inside the allowed network
        "https://hooks.internal.test/d",  # the allowed name, whatever it resolves to
    ]
    created = await gql.data(CREATE, input=create_input(admitted))
    assert created["createBudget"]["budget"]["webhookUrls"] == admitted
    refused = [
        "http://127.0.0.2/",
        "http://[::ffff:127.0.0.1]/",
        "http://other.internal.test/",
        "http://0x7f000001/",
        "http://169.254.169.254/",
    ]
    error = await gql.error(CREATE, input=create_input(refused, name="Refused"))
    assert error["extensions"]["problems"] == [
        {"field": "webhookUrls[0]", "reason": "127.0.0.2 is a loopback address"},
        {"field": "webhookUrls[1]", "reason": "::ffff:127.0.0.1 is an IPv4-mapped IPv6 address"},
        {"field": "webhookUrls[2]", "reason": "other.internal.test resolves to 192.168.7.7, a private address"},
        {
            "field": "webhookUrls[3]",
            "reason": "0x7f000001 is not a canonical IP address (write IPv4 as four decimal numbers)",
        },
        {"field": "webhookUrls[4]", "reason": "169.254.169.254 is a link-local address"},
    ]


def test_the_allow_list_is_read_from_the_environment_and_refuses_what_it_cannot_read() -> None:
    settings = Settings.from_env({"LLM_USAGE_WEBHOOK_ALLOW_HOSTS": " 127.0.0.1, hooks.internal ,,10.0.0.0/8"})
    assert settings.webhook_allow_hosts == ("127.0.0.1", "hooks.internal", "10.0.0.0/8")
    assert Settings.from_env({}).webhook_allow_hosts == ()
    allow = AllowList.parse(settings.webhook_allow_hosts)
    assert (sorted(allow.hosts), [str(n) for n in allow.networks]) == (
        ["hooks.internal"],
        ["127.0.0.1/32", "10.0.0.0/8"],
    )
    with pytest.raises(ValueError) as refused:
        AllowList.parse(["http://hooks.internal/"])
    assert str(refused.value) == (
        "LLM_USAGE_WEBHOOK_ALLOW_HOSTS: 'http://hooks.internal/' is neither a host name, an IP address nor a CIDR network"
    )
