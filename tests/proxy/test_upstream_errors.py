"""Upstream failures as the SDKs see them through the proxy — a 429 with Retry-After retried by the SDK, a
500, an upstream that cannot be reached (502) or answers too late (504), both in the provider's own error
shape — and as they are stored: ERROR with the provider's error type and the SDK's retry count. A client
that leaves mid-stream closes the upstream request at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from openai import OpenAI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.live_server import LiveWorkspace, free_port
from tests.proxy.conftest import PROVIDER_KEY, ProxyServer, proxy_settings, stored_events
from tests.proxy.fake_upstream import FakeUpstream

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached for gpt-4o-mini",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
SERVER_ERROR = {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}}


@pytest.fixture(scope="module")
def proxy(engine: AsyncEngine, upstream: FakeUpstream) -> Iterator[ProxyServer]:
    """Anthropic's upstream is a closed port; every upstream must answer within a second."""
    settings = proxy_settings(upstream, read_timeout_s=1.0, connect_timeout_s=1.0)
    settings = type(settings)(**{**vars(settings), "anthropic_url": f"http://127.0.0.1:{free_port()}/v1"})
    server = ProxyServer(engine.url.render_as_string(hide_password=False), settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def client(proxy: ProxyServer, ws: LiveWorkspace, max_retries: int = 0, **headers: str) -> OpenAI:
    return OpenAI(
        base_url=f"{proxy.url}/proxy/openai/v1",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": ws.key, **headers},
        max_retries=max_retries,
    )


def test_a_429_is_passed_through_the_sdk_retries_and_every_attempt_is_stored_with_its_count(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    for _ in range(2):
        upstream.fail_next(429, RATE_LIMITED, {"retry-after": "1", "retry-after-ms": "10", "x-request-id": "req_up"})
    through = client(proxy, ws, max_retries=2, **{"X-LLM-Usage-Request-Id": "call-7"})
    answer = through.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert answer.usage is not None and answer.usage.prompt_tokens == 2006
    assert [r.header("x-stainless-retry-count") for r in upstream.received] == ["0", "1", "2"]
    first, second, third = stored_events(proxy, ws, 3)
    assert [(e["requestId"], e["status"], e["errorType"], e["retryCount"]) for e in (first, second, third)] == [
        ("call-7", "ERROR", "requests", 0),
        ("call-7#retry1", "ERROR", "requests", 1),
        ("call-7#retry2", "SUCCESS", None, 2),
    ]
    assert first["errorMessage"] == "Rate limit reached for gpt-4o-mini"
    assert (first["promptTokens"], first["costUsd"], first["model"]) == (0, "0", "gpt-4o-mini")
    upstream.fail_next(429, RATE_LIMITED, {"retry-after": "7"})
    answer_429 = httpx.post(
        f"{proxy.url}/proxy/openai/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": MESSAGES},
        headers={"Authorization": f"Bearer {PROVIDER_KEY}", "X-LLM-Usage-Key": ws.key},
    )
    assert (answer_429.status_code, answer_429.headers["retry-after"], answer_429.json()) == (429, "7", RATE_LIMITED)


def test_a_500_is_passed_through_and_stored_as_an_error(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    upstream.fail_next(500, SERVER_ERROR)
    with pytest.raises(openai.InternalServerError) as raised:
        client(proxy, ws).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raised.value.status_code == 500 and raised.value.body == SERVER_ERROR["error"]
    [event] = stored_events(proxy, ws, 1)
    assert (event["status"], event["errorType"], event["errorMessage"]) == (
        "ERROR",
        "server_error",
        "The server had an error",
    )


def test_an_unreachable_upstream_is_a_502_in_the_providers_shape(proxy: ProxyServer, ws: LiveWorkspace) -> None:
    claude = anthropic.Anthropic(
        base_url=f"{proxy.url}/proxy/anthropic",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": ws.key},
        max_retries=0,
    )
    with pytest.raises(anthropic.InternalServerError) as raised:
        claude.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)
    assert raised.value.status_code == 502
    assert raised.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    [event] = stored_events(proxy, ws, 1)
    assert (event["provider"], event["model"], event["status"], event["errorType"]) == (
        "anthropic",
        "claude-sonnet-4-5",
        "ERROR",
        "upstream_unreachable",
    )


def test_an_upstream_that_answers_too_late_is_a_504(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    upstream.delay_s = 2.5  # past the proxy's 1 s
    with pytest.raises(openai.APIStatusError) as raised:
        client(proxy, ws).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raised.value.status_code == 504 and raised.value.body["type"] == "server_error"  # type: ignore[index]
    [event] = stored_events(proxy, ws, 1)
    assert (event["status"], event["errorType"]) == ("ERROR", "upstream_timeout")
    assert 1000 <= event["durationMs"] < 2500


def test_a_client_leaving_mid_stream_closes_the_upstream_request_and_is_stored_as_an_error(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    upstream.stall_after_first_event = True
    body = {"model": "claude-x", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Authorization": f"Bearer {PROVIDER_KEY}", "X-LLM-Usage-Key": ws.key}
    with httpx.stream("POST", f"{proxy.url}/proxy/openai/v1/chat/completions", json=body, headers=headers) as answer:
        first = next(answer.iter_raw())
        assert first.startswith(b"data: {")
        left_at = time.monotonic()
    assert upstream.stream_closed.wait(5), "the upstream request stayed open"
    assert time.monotonic() - left_at < 2
    [event] = stored_events(proxy, ws, 1)
    assert (event["status"], event["errorType"], event["streamed"]) == ("ERROR", "client_disconnected", True)
    assert event["model"] == "gpt-4o-mini-2024-07-18"  # what was known: the first chunk's model
