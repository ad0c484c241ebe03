"""Content capture through the real proxy: with the workspace's content on, each API's call is stored with what
the client sent and what came back — a stream reassembled into the API's non-streamed shape — while the client
still gets exactly the upstream's bytes; an upstream error keeps the input alone; a request whose shape cannot
be read keeps its numbers without content; with content off nothing is sent (nor counted as dropped)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.principal import Scope
from modules.proxy.apis import Api, Reader, usage_endpoint
from modules.proxy.capture import Capture
from modules.proxy.forwarding import Exchange, ProxyEndpoint
from modules.proxy.routes import route_of
from modules.proxy.transcripts import MAX_TEXT, ChatTranscript, reassembled
from tests.conftest import create_key
from tests.live_server import LiveWorkspace, committed_container
from tests.proxy import fake_upstream
from tests.proxy.conftest import PROVIDER_KEY, ProxyServer, stored_events
from tests.proxy.fake_upstream import FakeUpstream, fixture

SAY_HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
SET = "mutation($ws: ID!) { setContentSettings(input: {workspaceId: $ws, enabled: true}) { enabled } }"
CONVERSATIONS = """query($ws: ID!) { usageEvents(filter: {workspaceId: $ws}, first: 10) { edges { node { requestId conversation {
    messages { role side text toolCalls { id name arguments } toolCallId omittedParts } truncated } } } } }"""
DROPPED = "query($ws: ID!) { contentSettings(workspaceId: $ws) { enabled droppedCalls } }"
OPENAI_HEADERS = {"Authorization": f"Bearer {PROVIDER_KEY}"}


@pytest.fixture
async def reader_key(engine: AsyncEngine, ws: LiveWorkspace) -> str:
    """A key of the workspace that may read content (an ADMIN key may not)."""
    return await create_key(committed_container(engine), workspace=ws.slug, scopes=(Scope.READ, Scope.CONTENT))


@pytest.fixture
def keeping(proxy: ProxyServer, ws: LiveWorkspace, reader_key: str) -> str:
    """The workspace keeps content; the key to read it with."""
    assert proxy.graphql(ws.admin_key, SET, ws=ws.slug)["setContentSettings"]["enabled"] is True
    return reader_key


def replaying(monkeypatch: pytest.MonkeyPatch, instead: dict[str, str]) -> None:
    """The fake upstream streams another recorded fixture in place of the one it would pick."""
    recorded = fake_upstream.fixture
    monkeypatch.setattr(fake_upstream, "fixture", lambda name: recorded(instead.get(name, name)))


def call(proxy: ProxyServer, ws: LiveWorkspace, path: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
    """POST `body` through the proxy; the answer's bytes as received (a gzipped body unzipped)."""
    sent = {**(headers or OPENAI_HEADERS), "X-LLM-Usage-Key": ws.key, "Content-Type": "application/json"}
    content = json.dumps(body).encode()
    with httpx.stream("POST", f"{proxy.url}/proxy/{path}", content=content, headers=sent, timeout=30) as answer:
        return b"".join(answer.iter_bytes())  # gzip undone; a stream comes as sent


def conversation(proxy: ProxyServer, ws: LiveWorkspace, key: str) -> dict[str, Any] | None:
    """The conversation of the workspace's one stored event (None: none was stored)."""
    [event] = stored_events(proxy, ws, 1)
    edges = proxy.graphql(key, CONVERSATIONS, ws=ws.slug)["usageEvents"]["edges"]
    [found] = [edge["node"] for edge in edges if edge["node"]["requestId"] == event["requestId"]]
    return found["conversation"]  # type: ignore[no-any-return]


def message(role: str, side: str, text: str, tool_calls: tuple[tuple[str | None, str, str], ...] = ()) -> Any:
    return {
        "role": role,
        "side": side,
        "text": text,
        "toolCalls": [{"id": id, "name": name, "arguments": arguments} for id, name, arguments in tool_calls],
        "toolCallId": None,
        "omittedParts": [],
    }


ASKED_HELLO = [message("system", "INPUT", "Be brief."), message("user", "INPUT", "Say hello")]


def test_a_chat_completion_keeps_its_request_and_answer(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    received = call(proxy, ws, "openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": SAY_HELLO})
    assert json.loads(received)["choices"][0]["message"]["content"] == "Hello! How can I help you today?"
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Hello! How can I help you today?")],
        "truncated": False,
    }


def test_a_chat_stream_asked_for_usage_by_the_proxy_keeps_the_joined_deltas_and_relays_the_upstreams_stream(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    received = call(
        proxy, ws, "openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": SAY_HELLO, "stream": True}
    )
    assert upstream.received[0].json()["stream_options"] == {"include_usage": True}
    assert received.decode() == fixture("openai_chat_stream.sse")  # the usage the client did not ask for removed
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Hello there!")],
        "truncated": False,
    }


def test_a_chat_stream_with_the_clients_own_include_usage_is_relayed_byte_for_byte_and_kept(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    asked = {"model": "gpt-4o-mini", "messages": SAY_HELLO, "stream": True, "stream_options": {"include_usage": True}}
    received = call(proxy, ws, "openai/v1/chat/completions", asked)
    assert received.decode() == fixture("openai_chat_stream_usage.sse")
    assert upstream.received[0].json() == asked
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Hello there!")],
        "truncated": False,
    }


def test_a_chat_stream_of_tool_call_deltas_is_merged_by_index(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaying(monkeypatch, {"openai_chat_stream_usage.sse": "openai_chat_tools_stream_usage.sse"})
    asked = {
        "model": "gpt-4o-mini",
        "messages": SAY_HELLO[1:],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    received = call(proxy, ws, "openai/v1/chat/completions", asked)
    assert received.decode() == fixture("openai_chat_tools_stream_usage.sse")
    calls = (("call_Jx1", "get_weather", '{"city":"Paris"}'), ("call_Kz2", "get_time", '{"zone":"CET"}'))
    assert conversation(proxy, ws, keeping) == {
        "messages": [message("user", "INPUT", "Say hello"), message("assistant", "OUTPUT", "", calls)],
        "truncated": False,
    }


def test_a_responses_stream_keeps_the_completed_response(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    asked = {"model": "o4-mini", "instructions": "Be brief.", "input": "hi", "stream": True}
    received = call(proxy, ws, "openai/v1/responses", asked)
    assert received.decode() == fixture("openai_responses_stream.sse")
    assert conversation(proxy, ws, keeping) == {
        "messages": [
            message("system", "INPUT", "Be brief."),
            message("user", "INPUT", "hi"),
            message("assistant", "OUTPUT", "Done."),
        ],
        "truncated": False,
    }


ANTHROPIC_HEADERS = {"x-api-key": PROVIDER_KEY, "anthropic-version": "2023-06-01"}
ANTHROPIC_ASK = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 2000,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Say hello"}],
    "stream": True,
}


def test_an_anthropic_stream_keeps_its_text_blocks(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    received = call(proxy, ws, "anthropic/v1/messages", ANTHROPIC_ASK, ANTHROPIC_HEADERS)
    assert received.decode() == fixture("anthropic_messages_stream.sse")
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Hello!")],
        "truncated": False,
    }


def test_an_anthropic_stream_keeps_a_tool_use_whose_input_came_as_json_deltas(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaying(monkeypatch, {"anthropic_messages_stream.sse": "anthropic_messages_tools_stream.sse"})
    received = call(proxy, ws, "anthropic/v1/messages", ANTHROPIC_ASK, ANTHROPIC_HEADERS)
    assert received.decode() == fixture("anthropic_messages_tools_stream.sse")
    used = (("toolu_01A", "get_weather", '{"city":"Paris"}'),)
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Let me check.", used)],
        "truncated": False,
    }


GEMINI_STREAM = "google/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
GEMINI_HEADERS = {"x-goog-api-key": "AIzaSyPROVIDERSECRET0123456789abcdefgh"}
GEMINI_ASK = {
    "systemInstruction": {"parts": [{"text": "Be brief."}]},
    "contents": [{"role": "user", "parts": [{"text": "Say hello"}]}],
}


def test_a_gemini_stream_keeps_the_joined_text(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    received = call(proxy, ws, GEMINI_STREAM, GEMINI_ASK, GEMINI_HEADERS)
    assert received.decode() == fixture("gemini_stream.sse")
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Hi there!")],
        "truncated": False,
    }


def test_a_gemini_stream_keeps_its_function_call_after_the_text(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaying(monkeypatch, {"gemini_stream.sse": "gemini_tools_stream.sse"})
    received = call(proxy, ws, GEMINI_STREAM, GEMINI_ASK, GEMINI_HEADERS)
    assert received.decode() == fixture("gemini_tools_stream.sse")
    called = ((None, "get_weather", '{"city":"Paris"}'),)
    assert conversation(proxy, ws, keeping) == {
        "messages": [*ASKED_HELLO, message("assistant", "OUTPUT", "Checking the weather.", called)],
        "truncated": False,
    }


def test_with_content_off_nothing_is_sent_so_nothing_is_stored_or_counted_as_dropped(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, reader_key: str
) -> None:
    call(proxy, ws, "openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": SAY_HELLO})
    call(proxy, ws, "openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": SAY_HELLO, "stream": True})
    stored_events(proxy, ws, 2)
    edges = proxy.graphql(reader_key, CONVERSATIONS, ws=ws.slug)["usageEvents"]["edges"]
    assert [edge["node"]["conversation"] for edge in edges] == [None, None]
    settings = proxy.graphql(ws.admin_key, DROPPED, ws=ws.slug)["contentSettings"]
    assert settings == {"enabled": False, "droppedCalls": 0}


def test_an_upstream_error_keeps_the_input_alone(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    upstream.fail_next(500, {"error": {"message": "The server had an error", "type": "server_error"}})
    received = call(proxy, ws, "openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": SAY_HELLO})
    assert json.loads(received)["error"]["type"] == "server_error"
    [event] = stored_events(proxy, ws, 1)
    assert (event["status"], event["errorType"]) == ("ERROR", "server_error")
    assert conversation(proxy, ws, keeping) == {"messages": ASKED_HELLO, "truncated": False}


def test_a_request_whose_shape_cannot_be_read_keeps_its_numbers_without_content(
    proxy: ProxyServer, upstream: FakeUpstream, ws: LiveWorkspace, keeping: str
) -> None:
    received = call(proxy, ws, "openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": 5})
    assert json.loads(received)["usage"]["prompt_tokens"] == 2006  # the fake upstream answers it anyway
    [event] = stored_events(proxy, ws, 1)
    assert (event["status"], event["promptTokens"], event["completionTokens"]) == ("SUCCESS", 2006, 300)
    assert conversation(proxy, ws, keeping) is None


def test_a_transcript_stops_keeping_past_its_cap() -> None:
    """Past MAX_TEXT characters of text a stream's transcript keeps no more (the ingest's bound truncates)."""
    transcript = ChatTranscript()
    piece = "x" * (64 * 1024)
    for _ in range(MAX_TEXT // len(piece) + 10):
        transcript.feed({"choices": [{"index": 0, "delta": {"content": piece}}]}, None)
    kept = transcript.output()["choices"][0]["message"]["content"]
    assert MAX_TEXT < len(kept) <= MAX_TEXT + len(piece)


def test_a_gemini_stream_given_as_one_json_array_is_reassembled_as_its_events_are() -> None:
    chunks = [
        json.loads(event.removeprefix("data: ")) for event in fixture("gemini_stream.sse").split("\r\n\r\n") if event
    ]
    assert reassembled(Reader.GEMINI, chunks) == {
        "candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "Hi there!"}]}}]
    }


class KeepsContent:
    async def enabled(self, workspace_id: uuid.UUID) -> bool:
        return True


async def test_the_request_captured_is_the_clients_not_the_one_asked_for_usage() -> None:
    """The proxy asks a chat stream for its usage; the content kept is the body as the client sent it."""
    endpoint = ProxyEndpoint(access=cast(Any, None), clients=cast(Any, None), recorder=cast(Any, None))
    exchange = Exchange(
        route=route_of(b"/proxy/openai/v1/chat/completions"), started=0.0, occurred_at=datetime.now(UTC)
    )
    exchange.endpoint = usage_endpoint(Api.OPENAI, "POST", "chat/completions")
    exchange.capture = Capture(KeepsContent(), str(uuid.uuid4()), Reader.CHAT)
    asked = {"model": "gpt-4o-mini", "messages": SAY_HELLO, "stream": True}
    sent, replaced = endpoint.prepare(exchange, json.dumps(asked).encode())
    assert replaced and json.loads(sent) == {**asked, "stream_options": {"include_usage": True}}
    content = await exchange.capture.content(200)
    assert content is not None and (content.input, content.output) == (asked, None)
