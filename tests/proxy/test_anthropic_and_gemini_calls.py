"""The official Anthropic and google-genai SDKs through the proxy (base URL and one header changed): the same
objects and stream events as straight from the upstream; stored events with genai-prices' reading, cache
writes (5-minute and 1-hour) and reads, thoughts, and cost to the digit."""

from __future__ import annotations

import json
from typing import Any

import anthropic
from google import genai
from google.genai import types as gemini

from tests.live_server import LiveWorkspace
from tests.proxy.conftest import NOW, PROVIDER_KEY, ProxyServer, stored_events
from tests.proxy.fake_upstream import FakeUpstream, fixture, fixture_json, sse_events
from tests.usage.genai_reading import as_read, genai_reading

GOOGLE_KEY = "AIzaSyPROVIDERSECRET0123456789abcdefgh"
ASK: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 2000,
    "messages": [{"role": "user", "content": "Say hello"}],
}


def claude(base_url: str, **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key=PROVIDER_KEY, default_headers=headers, max_retries=0)


def gemini_client(base_url: str, **headers: str) -> genai.Client:
    return genai.Client(api_key=GOOGLE_KEY, http_options=gemini.HttpOptions(base_url=base_url, headers=headers))


def dumped(answer: Any) -> dict[str, Any]:
    """A google-genai answer as data (it keeps the response's headers), but the Date header (the second it was
    sent, which may differ) and the X-Request-Id this service adds where the upstream sends none."""
    data: dict[str, Any] = answer.model_dump()
    data["sdk_http_response"]["headers"].pop("date")
    data["sdk_http_response"]["headers"].pop("x-request-id", None)
    return data


def test_anthropic_messages_plain_and_streamed_with_cache_tokens(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    through = claude(f"{proxy.url}/proxy/anthropic", **{"X-LLM-Usage-Key": ws.key, "X-LLM-Usage-Session": "s-1"})
    straight = claude(upstream.url)
    assert through.messages.create(**ASK).model_dump() == straight.messages.create(**ASK).model_dump()
    assert upstream.received[0].header("authorization") == f"Bearer {PROVIDER_KEY}"
    assert upstream.received[0].sent_headers() == upstream.received[1].sent_headers()  # ours alone removed
    upstream.pause_before_content_s = 0.3  # the proxied stream's first text comes 300 ms after its start
    with through.messages.stream(**ASK) as stream:
        events = [event.model_dump() for event in stream]
        final = stream.get_final_message().model_dump()
    with straight.messages.stream(**ASK) as stream:
        assert events == [event.model_dump() for event in stream]
        assert final == stream.get_final_message().model_dump()
    plain, streamed = stored_events(proxy, ws, 2)
    expected = genai_reading(fixture_json("anthropic_messages.json"), "anthropic", "default", NOW)
    assert as_read(plain) == expected and as_read(streamed) == expected
    assert (plain["promptTokens"], plain["cachedPromptTokens"], plain["cacheWriteTokens"]) == (25388, 20480, 4096)
    assert (
        plain["usageKinds"] == {"cache_write_1h_tokens": 3072, "cache_write_5m_tokens": 1024}
        and plain["completionTokens"] == 1290
    )
    assert (plain["sessionId"], plain["model"], streamed["streamed"]) == ("s-1", "claude-sonnet-4-5-20250929", True)
    assert 300 <= streamed["timeToFirstTokenMs"] <= streamed["durationMs"] < 5000  # paced by the upstream


def test_gemini_generate_content_plain_and_streamed(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace
) -> None:
    through = gemini_client(f"{proxy.url}/proxy/google", **{"X-LLM-Usage-Key": ws.key, "X-LLM-Usage-Task-Type": "chat"})
    straight = gemini_client(upstream.url)
    answer = through.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert dumped(answer) == dumped(straight.models.generate_content(model="gemini-2.5-flash", contents="hi"))
    assert upstream.received[0].header("x-goog-api-key") == GOOGLE_KEY
    assert upstream.received[0].sent_headers() == upstream.received[1].sent_headers()
    chunks = [dumped(c) for c in through.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")]
    assert chunks == [
        dumped(c) for c in straight.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
    ]
    assert upstream.received[2].path.endswith("/models/gemini-2.5-flash:streamGenerateContent")
    assert upstream.received[2].query == "alt=sse"
    assert len(chunks) == 3
    plain, streamed = stored_events(proxy, ws, 2)
    assert as_read(plain) == genai_reading(fixture_json("gemini_generate_content.json"), "google", "default", NOW)
    last_chunk = json.loads(sse_events(fixture("gemini_stream.sse"))[-1].removeprefix("data: "))
    assert as_read(streamed) == genai_reading(last_chunk, "google", "default", NOW)
    assert (plain["promptTokens"], plain["completionTokens"], plain["reasoningTokens"]) == (1200, 630, 250)
    assert (plain["taskType"], plain["model"], streamed["streamed"]) == ("chat", "gemini-2.5-flash", True)


def test_a_refusal_takes_each_providers_own_error_shape(proxy: ProxyServer, upstream: FakeUpstream) -> None:
    try:
        claude(f"{proxy.url}/proxy/anthropic").messages.create(**ASK)
        raise AssertionError("not refused")
    except anthropic.AuthenticationError as refused:
        assert refused.status_code == 401 and refused.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    google = gemini_client(f"{proxy.url}/proxy/google")  # held: google-genai closes its client when collected
    try:
        google.models.generate_content(model="gemini-2.5-flash", contents="hi")
        raise AssertionError("not refused")
    except genai.errors.ClientError as refused:
        assert (refused.code, refused.status) == (401, "UNAUTHENTICATED")
    assert upstream.received == []
