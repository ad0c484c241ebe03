"""The official OpenAI SDK, given only the proxy's base URL and our key's header: what it returns equals what
it returns straight from the upstream (objects, and each stream's sequence of chunks), and the stored events
have genai-prices' own reading of the usage — every kind of token and the cost to the digit."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
from openai import OpenAI

from tests.live_server import LiveWorkspace
from tests.proxy.conftest import NOW, PROVIDER_KEY, ProxyServer, stored_events
from tests.proxy.fake_upstream import FakeUpstream, fixture, fixture_json, sse_events
from tests.usage.genai_reading import as_read, genai_reading

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def direct(upstream: FakeUpstream) -> OpenAI:
    return OpenAI(base_url=f"{upstream.url}/v1", api_key=PROVIDER_KEY, max_retries=0)


def proxied(proxy: ProxyServer, ws: LiveWorkspace, **options: Any) -> OpenAI:
    return OpenAI(
        base_url=f"{proxy.url}/proxy/openai/v1",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": ws.key, **options.pop("headers", {})},
        **options,
    )


def last_event_of(name: str) -> Any:
    return json.loads(sse_events(fixture(name))[-2].removeprefix("data: "))  # the one before [DONE]


def test_a_chat_completion_through_the_proxy_equals_the_direct_one_and_is_stored_priced(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    through = proxied(
        proxy, ws, headers={"X-LLM-Usage-User": "alice", "X-LLM-Usage-Tags": "feature=search, team=a%2Cb"}
    )
    upstream.delay_s = 0.2  # the upstream takes 200 ms: the call's duration includes them
    answer = through.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    upstream.delay_s = 0.0
    assert (
        answer.model_dump()
        == direct(upstream).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).model_dump()
    )
    forwarded = upstream.received[0]
    assert forwarded.header("authorization") == f"Bearer {PROVIDER_KEY}"
    assert [key for key, _ in forwarded.headers if key.startswith("x-llm-usage")] == []
    assert forwarded.sent_headers() == upstream.received[1].sent_headers()  # the SDK's, untouched
    assert forwarded.json() == upstream.received[1].json()  # the body as the SDK sent it
    [event] = stored_events(proxy, ws, 1)
    assert as_read(event) == genai_reading(fixture_json("openai_chat.json"), "openai", "chat", NOW)
    assert event["promptTokens"] == 2006 and event["cachedPromptTokens"] == 1920 and event["completionTokens"] == 300
    assert (event["model"], event["provider"], event["status"], event["streamed"]) == (
        "gpt-4o-mini-2024-07-18",
        "openai",
        "SUCCESS",
        False,
    )
    assert (event["userId"], event["tags"], event["retryCount"]) == ("alice", {"feature": "search", "team": "a,b"}, 0)
    assert event["occurredAt"] == NOW.isoformat() and event["timeToFirstTokenMs"] is None
    assert 200 <= event["durationMs"] < 5000


def test_a_chat_completion_with_tools(proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace) -> None:
    answer = proxied(proxy, ws).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
    expected = direct(upstream).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
    assert answer.model_dump() == expected.model_dump()
    assert answer.choices[0].message.tool_calls[0].function.arguments == '{"city":"Paris"}'  # type: ignore[index,union-attr]
    [event] = stored_events(proxy, ws, 1)
    assert as_read(event) == genai_reading(fixture_json("openai_chat_tools.json"), "openai", "chat", NOW)
    assert (event["promptTokens"], event["completionTokens"]) == (81, 17)


def test_a_chat_stream_without_include_usage_is_asked_for_usage_and_the_caller_gets_exactly_the_direct_stream(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    upstream.pause_before_content_s = 0.3
    chunks = [
        c.model_dump()
        for c in proxied(proxy, ws).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    ]
    assert upstream.received[0].json()["stream_options"] == {"include_usage": True}  # asked for it
    straight = direct(upstream).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert "stream_options" not in upstream.received[1].json()
    assert chunks == [c.model_dump() for c in straight]
    assert len(chunks) == 5 and all("usage" not in c or c["usage"] is None for c in chunks)
    [event] = stored_events(proxy, ws, 1)
    usage_chunk = last_event_of("openai_chat_stream_usage.sse")
    assert as_read(event) == genai_reading(usage_chunk, "openai", "chat", NOW)
    assert (event["promptTokens"], event["cachedPromptTokens"], event["completionTokens"]) == (519, 256, 82)
    assert event["streamed"] is True
    assert 300 <= event["timeToFirstTokenMs"] <= event["durationMs"] < 5000  # paced by the upstream


def test_a_chat_stream_with_include_usage_passes_through_as_it_is(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    options: Any = {"include_usage": True}
    ask = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": options}
    chunks = [c.model_dump() for c in proxied(proxy, ws).chat.completions.create(**ask)]
    assert chunks == [c.model_dump() for c in direct(upstream).chat.completions.create(**ask)]
    assert chunks[-1]["usage"]["prompt_tokens"] == 519 and chunks[-1]["choices"] == []
    assert upstream.received[0].body == upstream.received[1].body
    [event] = stored_events(proxy, ws, 1)
    assert as_read(event) == genai_reading(last_event_of("openai_chat_stream_usage.sse"), "openai", "chat", NOW)


def test_the_raw_bytes_of_a_stream_are_the_upstreams(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    """Without rewriting (include_usage asked by the caller) the bytes are the upstream's, event for event."""
    import httpx

    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Authorization": f"Bearer {PROVIDER_KEY}", "X-LLM-Usage-Key": ws.key}
    with httpx.stream("POST", f"{proxy.url}/proxy/openai/v1/chat/completions", json=body, headers=headers) as answer:
        received = b"".join(answer.iter_raw())
        assert answer.headers["content-type"].startswith("text/event-stream")
    assert received.decode() == fixture("openai_chat_stream_usage.sse")
    stored_events(proxy, ws, 1)


def test_responses_plain_and_streamed(proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace) -> None:
    through, straight = proxied(proxy, ws), direct(upstream)
    assert through.responses.create(model="o4-mini", input="hi").model_dump() == (
        straight.responses.create(model="o4-mini", input="hi").model_dump()
    )
    upstream.pause_before_content_s = 0.3  # the proxied stream's first text comes 300 ms after its start
    events = [e.model_dump() for e in through.responses.create(model="o4-mini", input="hi", stream=True)]
    assert events == [e.model_dump() for e in straight.responses.create(model="o4-mini", input="hi", stream=True)]
    assert [e["type"] for e in events][-1] == "response.completed" and len(events) == 10
    plain, streamed = stored_events(proxy, ws, 2)
    expected = genai_reading(fixture_json("openai_responses.json"), "openai", "responses", NOW)
    assert as_read(plain) == expected and as_read(streamed) == expected
    assert (plain["promptTokens"], plain["cachedPromptTokens"], plain["reasoningTokens"]) == (3328, 2048, 1600)
    assert (plain["streamed"], streamed["streamed"]) == (False, True)
    assert 300 <= streamed["timeToFirstTokenMs"] <= streamed["durationMs"] < 5000  # paced by the upstream


def test_embeddings(proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace) -> None:
    answer = proxied(proxy, ws).embeddings.create(model="text-embedding-3-small", input="hello")
    assert (
        answer.model_dump()
        == direct(upstream).embeddings.create(model="text-embedding-3-small", input="hello").model_dump()
    )
    [event] = stored_events(proxy, ws, 1)
    assert as_read(event) == genai_reading(fixture_json("openai_embeddings.json"), "openai", "embeddings", NOW)
    assert (event["promptTokens"], event["completionTokens"], event["model"]) == (8, 0, "text-embedding-3-small")


def test_any_other_path_passes_through_unrecorded(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    assert [m.id for m in proxied(proxy, ws).models.list()] == ["gpt-4o"]
    assert upstream.received[0].method == "GET" and upstream.received[0].path == "/v1/models"
    stored_events(proxy, ws, 0)


def test_without_our_key_the_sdk_raises_its_authentication_error_and_nothing_goes_upstream(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    for headers in ({}, {"X-LLM-Usage-Key": "llmu_not-a-key-of-ours"}):
        client = OpenAI(base_url=f"{proxy.url}/proxy/openai/v1", api_key=PROVIDER_KEY, default_headers=headers)
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            raise AssertionError("not refused")
        except openai.AuthenticationError as refused:
            assert refused.status_code == 401 and refused.code == "invalid_api_key"
            assert "llm-usage" in refused.message
    assert upstream.received == []


def test_a_bad_header_of_ours_is_a_400_naming_it_and_nothing_goes_upstream(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    for headers, named in (
        ({"X-LLM-Usage-Key": ws.key, "X-LLM-Usage-Tags": "no-value"}, "x-llm-usage-tags"),
        ({"X-LLM-Usage-Key": ws.key, "X-LLM-Usage-User": "u" * 300}, "x-llm-usage-user"),
    ):
        client = OpenAI(base_url=f"{proxy.url}/proxy/openai/v1", api_key=PROVIDER_KEY, default_headers=headers)
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            raise AssertionError("not refused")
        except openai.BadRequestError as refused:
            assert refused.status_code == 400 and named in refused.message
    assert upstream.received == []


def test_a_caller_that_sends_few_headers_reaches_the_upstream_with_those_alone(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    """curl-like callers: the proxy's HTTP client adds no User-Agent, Accept, Accept-Encoding or Content-Type."""
    with httpx.Client() as client:
        client.headers.clear()  # no defaults of httpx's own either
        answer = client.post(
            f"{proxy.url}/proxy/openai/v1/chat/completions",
            content=json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES}).encode(),
            headers={"Authorization": f"Bearer {PROVIDER_KEY}", "X-LLM-Usage-Key": ws.key},
        )
    assert answer.status_code == 200
    body = upstream.received[0].body
    assert sorted(upstream.received[0].sent_headers()) == [
        ("authorization", f"Bearer {PROVIDER_KEY}"),
        ("content-length", str(len(body))),
    ]
    stored_events(proxy, ws, 1)
