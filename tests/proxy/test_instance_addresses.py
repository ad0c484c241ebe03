"""A provider instance's base URL is a workspace ADMIN's choice: the proxy reaches only public addresses for it
(and what LLM_USAGE_PROXY_ALLOW_HOSTS lets through; the tests' allow 127.0.0.1, the fake upstream), never the
server's own network — not by an address in the URL, not by a name that resolves into it."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

from modules.core import addresses
from tests.live_server import LiveWorkspace
from tests.proxy.conftest import PROVIDER_KEY, ProxyServer, stored_events
from tests.proxy.fake_upstream import FakeUpstream, fixture_json

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
CREATE_INSTANCE = "mutation($input: CreateProviderInstanceInput!) { createProviderInstance(input: $input) { id } }"


def instance_client(proxy: ProxyServer, ws: LiveWorkspace, base_url: str) -> OpenAI:
    created = proxy.graphql(
        ws.admin_key,
        CREATE_INSTANCE,
        input={"workspaceId": ws.slug, "provider": "vllm", "name": "self-hosted", "baseUrl": base_url},
    )
    return OpenAI(
        base_url=f"{proxy.url}/proxy/instances/{created['createProviderInstance']['id']}",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": ws.key},
        max_retries=0,
    )


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names the proxy's resolver answers from this table (the live server runs in this process)."""
    records: dict[str, list[str]] = {}
    system = addresses.resolve

    async def resolve(host: str, port: int) -> list[str]:
        return list(records[host]) if host in records else await system(host, port)

    monkeypatch.setattr(addresses, "resolve", resolve)
    return records


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("169.254.169.254", "a link-local address"),  # the cloud metadata service
        ("127.0.0.2", "a loopback address"),  # loopback, though not the allowed 127.0.0.1
        ("10.0.0.7", "a private address"),
        ("[::ffff:127.0.0.1]", "an IPv4-mapped IPv6 address"),
    ],
)
def test_an_instance_whose_url_is_an_internal_address_is_refused_before_anything_is_sent(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, host: str, kind: str
) -> None:
    client = instance_client(proxy, ws, f"http://{host}:{upstream.port}/v1")
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert refused.value.status_code == 403
    assert refused.value.message.endswith(f"{host.strip('[]')} is {kind}")
    assert upstream.received == []
    stored_events(proxy, ws, 0)


def test_a_name_that_resolves_into_the_network_is_refused(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, dns: dict[str, list[str]]
) -> None:
    dns["models.example.com"] = ["93.184.215.14", "10.20.0.5"]  # one public record does not make the other one safe
    client = instance_client(proxy, ws, f"http://models.example.com:{upstream.port}/v1")
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert refused.value.message.endswith("models.example.com resolves to 10.20.0.5, a private address")
    assert upstream.received == []
    [event] = stored_events(proxy, ws, 1)  # the call is kept, as the error it was
    assert (event["status"], event["errorType"], event["promptTokens"]) == ("ERROR", "forbidden", 0)


def test_a_name_that_resolves_to_an_allowed_address_is_reached_there(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, dns: dict[str, list[str]]
) -> None:
    dns["vllm.internal"] = ["127.0.0.1"]  # inside LLM_USAGE_PROXY_ALLOW_HOSTS; no DNS server knows the name
    client = instance_client(proxy, ws, f"http://vllm.internal:{upstream.port}/v1")
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert answer.model_dump(exclude_unset=True) == fixture_json("openai_chat.json")
    assert [(r.path, r.header("host")) for r in upstream.received] == [
        ("/v1/chat/completions", f"vllm.internal:{upstream.port}")
    ]
