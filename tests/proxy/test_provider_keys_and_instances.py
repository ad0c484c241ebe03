"""The caller's provider key crosses the proxy and nothing of ours keeps it: no table, no log line. A provider
instance (Groq, vLLM… any OpenAI-compatible base URL) is proxied at /proxy/instances/<id>/ and its usage
attributed to it; an instance of another workspace is not found."""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as gemini
from openai import OpenAI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.principal import Principal, Scope
from service.context import provide
from tests.live_server import LiveWorkspace, committed_container
from tests.proxy.conftest import PROVIDER_KEY, ProxyServer, stored_events
from tests.proxy.fake_upstream import FakeUpstream, fixture_json

GOOGLE_KEY = "AIzaSyGOOGLESECRET0123456789abcdefghij"
ANTHROPIC_KEY = "sk-ant-api03-ANTHROPICSECRET0123456789"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
CREATE_INSTANCE = (
    "mutation($input: CreateProviderInstanceInput!) { createProviderInstance(input: $input) { id provider baseUrl } }"
)


async def test_no_provider_key_in_any_table_or_log_line(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ours = {"X-LLM-Usage-Key": ws.key}
    openai_client = OpenAI(base_url=f"{proxy.url}/proxy/openai/v1", api_key=PROVIDER_KEY, default_headers=ours)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    list(openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    upstream.fail_next(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
    refused = httpx.post(  # noqa: ASYNC210 - the server runs in a thread of its own
        f"{proxy.url}/proxy/anthropic/v1/messages",
        json={"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": MESSAGES},
        headers={"x-api-key": ANTHROPIC_KEY, **ours},
    )
    assert refused.status_code == 401
    claude = anthropic.Anthropic(base_url=f"{proxy.url}/proxy/anthropic", api_key=ANTHROPIC_KEY, default_headers=ours)
    claude.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=MESSAGES)
    google = genai.Client(
        api_key=GOOGLE_KEY, http_options=gemini.HttpOptions(base_url=f"{proxy.url}/proxy/google", headers=ours)
    )
    google.models.generate_content(model="gemini-2.5-flash", contents="hi")
    events = stored_events(proxy, ws, 5)
    assert sorted(e["status"] for e in events) == ["ERROR", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"]
    secrets = (PROVIDER_KEY, ANTHROPIC_KEY, GOOGLE_KEY, "PROVIDERSECRET", "ANTHROPICSECRET", "GOOGLESECRET")
    async with engine.connect() as connection:
        tables = (
            await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars()
        for table in list(tables):
            for secret in secrets:
                found = await connection.execute(
                    text(f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE :pattern'), {"pattern": f"%{secret}%"}
                )
                assert found.scalar() == 0, (table, secret)
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for record in caplog.records:
        line = record.getMessage() + str(record.args or "")
        assert not any(secret in line for secret in secrets), line


def test_a_provider_instance_is_proxied_and_its_usage_attributed_to_it(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    instances = {}
    for provider in ("groq", "vllm"):
        created = proxy.graphql(
            ws.admin_key,
            CREATE_INSTANCE,
            input={
                "workspaceId": ws.slug,
                "provider": provider,
                "name": f"{provider}-1",
                "baseUrl": f"{upstream.url}/v1",
            },
        )
        instances[provider] = created["createProviderInstance"]["id"]
    expected = fixture_json("openai_chat.json")
    for instance_id in instances.values():
        client = OpenAI(
            base_url=f"{proxy.url}/proxy/instances/{instance_id}",
            api_key=PROVIDER_KEY,
            default_headers={"X-LLM-Usage-Key": ws.key},
        )
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert answer.model_dump(exclude_unset=True) == expected
    assert [r.path for r in upstream.received] == ["/v1/chat/completions", "/v1/chat/completions"]
    groq, vllm = stored_events(proxy, ws, 2)
    by_provider = {e["provider"]: e for e in (groq, vllm)}
    for provider, instance_id in instances.items():
        event = by_provider[provider]
        assert (event["providerInstanceId"], event["model"]) == (instance_id, "gpt-4o-mini-2024-07-18")
        assert (event["promptTokens"], event["cachedPromptTokens"], event["completionTokens"]) == (2006, 1920, 300)
        assert (event["costSource"], event["costUsd"]) == ("UNKNOWN_MODEL", None)  # neither prices OpenAI's model


def test_an_instance_of_another_workspace_or_none_is_not_found(proxy: ProxyServer, ws: LiveWorkspace) -> None:
    for reference in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        client = OpenAI(
            base_url=f"{proxy.url}/proxy/instances/{reference}",
            api_key=PROVIDER_KEY,
            default_headers={"X-LLM-Usage-Key": ws.key},
            max_retries=0,
        )
        with pytest.raises(Exception) as raised:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert getattr(raised.value, "status_code", None) == 404


async def test_a_key_over_its_rate_limit_gets_the_providers_429_with_retry_after(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, engine: AsyncEngine
) -> None:
    access = await provide(committed_container(engine).access.service())
    slow = await access.create(
        Principal.system(), workspace_ref=ws.slug, name="slow", scopes=[Scope.INGEST], rate_limit_per_second=0.1
    )
    client = OpenAI(
        base_url=f"{proxy.url}/proxy/openai/v1",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": slow.secret},
        max_retries=0,
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert refused.value.status_code == 429 and refused.value.code == "rate_limited"
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 10
    assert len(upstream.received) == 1  # the refused call never went upstream


def test_a_gzipped_answer_passes_through_compressed_and_is_read(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    answer = httpx.post(
        f"{proxy.url}/proxy/openai/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": MESSAGES},
        headers={"Authorization": f"Bearer {PROVIDER_KEY}", "X-LLM-Usage-Key": ws.key, "Accept-Encoding": "gzip, br"},
    )
    assert answer.headers["content-encoding"] == "gzip" and answer.json() == fixture_json("openai_chat.json")
    assert upstream.received[0].header("accept-encoding") == "gzip"  # what the recorder can read
    [event] = stored_events(proxy, ws, 1)
    assert (event["promptTokens"], event["cachedPromptTokens"], event["completionTokens"]) == (2006, 1920, 300)


async def test_an_instance_wide_key_records_into_the_workspace_it_names(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, engine: AsyncEngine
) -> None:
    access = await provide(committed_container(engine).access.service())
    ops = await access.create(Principal.system(), workspace_ref=None, name="ops", scopes=[Scope.INGEST])
    unnamed = OpenAI(
        base_url=f"{proxy.url}/proxy/openai/v1",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": ops.secret},
        max_retries=0,
    )
    with pytest.raises(openai.BadRequestError) as refused:
        unnamed.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert refused.value.message.endswith("an instance-wide llm-usage key needs the x-llm-usage-workspace header")
    assert upstream.received == []
    unknown = unnamed.with_options(default_headers={"X-LLM-Usage-Key": ops.secret, "X-LLM-Usage-Workspace": "nowhere"})
    with pytest.raises(openai.NotFoundError) as refused:  # its usage could not be stored: the call is not made
        unknown.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert refused.value.message.endswith("no workspace 'nowhere' (the x-llm-usage-workspace header)")
    assert upstream.received == []
    named = unnamed.with_options(default_headers={"X-LLM-Usage-Key": ops.secret, "X-LLM-Usage-Workspace": ws.slug})
    named.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    [event] = stored_events(proxy, ws, 1)
    assert (event["promptTokens"], event["completionTokens"]) == (2006, 300)
    assert [r.header("x-llm-usage-workspace") for r in upstream.received] == [None]  # ours stay here
