"""What is stored of a call's content and for how long: each provider's shape through trackUsageBatch, redaction
on the server, the size bound, compression, and deletion by the content's own retention and with the event."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from modules.core.principal import Scope
from modules.usage.conversations.repository import ConversationRepository
from modules.usage.conversations.retention import ContentRetention
from modules.usage.retention.service import UsageRetention
from tests.conftest import GraphQLClient, create_key
from tests.documents import TRACK_BATCH

FIXTURES = Path(__file__).parents[2] / "fixtures" / "proxy"
SET = "mutation($input: SetContentSettingsInput!) { setContentSettings(input: $input) { enabled } }"
READ = """query($w: ID! = "acme") { usageEvents(filter: {workspaceId: $w}, first: 100) { edges { node {
  requestId occurredAt conversation { messages { role side text toolCalls { id name arguments } toolCallId
  omittedParts } truncated omittedMessages redactions originalBytes storedBytes } } } } }"""
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def call(request_id: str, **given: Any) -> dict[str, Any]:
    return {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 20,
            "completionTokens": 5, "requestId": request_id, **given}  # fmt: skip


def message(role: str, side: str, said: str, **given: Any) -> dict[str, Any]:
    return {"role": role, "side": side, "text": said, "toolCalls": [], "toolCallId": None, "omittedParts": [],
            **given}  # fmt: skip


@pytest.fixture
async def reader(gql: GraphQLClient, container, workspace) -> GraphQLClient:
    return gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.READ, Scope.CONTENT)))


async def conversations(reader: GraphQLClient) -> dict[str, Any]:
    """Each event's conversation by its request id."""
    edges = (await reader.data(READ))["usageEvents"]["edges"]
    return {e["node"]["requestId"]: e["node"]["conversation"] for e in edges}


async def test_each_providers_shape_round_trips_through_a_batch(gql, reader):
    await gql.data(SET, input={"workspaceId": "acme", "enabled": True})
    weather = {"location": "Paris"}
    anthropic_in = {
        "system": "Be brief.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather?"},
                    {"type": "image", "source": {"type": "base64", "data": "AAAA"}},
                ],
            }
        ],
    }
    gemini_in = {"contents": [{"role": "user", "parts": [{"text": "Hi Gemini"}]}]}
    responses_in = {"instructions": "Answer in French.", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": json.dumps(weather)},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"}]}  # fmt: skip
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("anthropic", provider="anthropic", model="claude-3-5-sonnet-latest", input=anthropic_in,
                 output=fixture("anthropic_messages.json")),
            call("gemini", provider="google", model="gemini-2.0-flash", input=gemini_in,
                 output=fixture("gemini_generate_content.json")),
            call("responses", apiFlavor="responses", input=responses_in, output=fixture("openai_responses.json")),
            call("tools", output=fixture("openai_chat_tools.json")),
        ],
    )  # fmt: skip
    said = await conversations(reader)
    anthropic_answer = "".join(b["text"] for b in fixture("anthropic_messages.json")["content"] if b["type"] == "text")
    assert said["anthropic"]["messages"] == [
        message("system", "INPUT", "Be brief."),
        message("user", "INPUT", "Weather?", omittedParts=["image"]),
        message("assistant", "OUTPUT", anthropic_answer),
    ]
    gemini_parts = fixture("gemini_generate_content.json")["candidates"][0]["content"]["parts"]
    assert said["gemini"]["messages"] == [
        message("user", "INPUT", "Hi Gemini"),
        message("assistant", "OUTPUT", "".join(p["text"] for p in gemini_parts)),
    ]
    responses = said["responses"]["messages"]
    assert responses[:4] == [
        message("system", "INPUT", "Answer in French."),
        message("user", "INPUT", "Weather in Paris?"),
        message("assistant", "INPUT", "", toolCalls=[{"id": "call_1", "name": "get_weather",
                                                     "arguments": json.dumps(weather)}]),
        message("tool", "INPUT", "18C", toolCallId="call_1"),
    ]  # fmt: skip
    output_text = [c["text"] for item in fixture("openai_responses.json")["output"] if item["type"] == "message"
                   for c in item["content"] if c["type"] == "output_text"]  # fmt: skip
    assert [m["text"] for m in responses[4:]] == output_text and {m["side"] for m in responses[4:]} == {"OUTPUT"}
    [tool_call] = fixture("openai_chat_tools.json")["choices"][0]["message"]["tool_calls"]
    assert said["tools"]["messages"][0]["toolCalls"] == [
        {"id": tool_call["id"], "name": tool_call["function"]["name"], "arguments": tool_call["function"]["arguments"]}
    ]


async def test_redaction_masks_the_default_patterns_and_the_workspaces_own_on_the_server(gql, reader, database):
    await gql.data(SET, input={"workspaceId": "acme", "enabled": True, "redactionPatterns": ["ORDER-[0-9]{4}"]})
    secret = "My key is sk-proj-" + "a1B2" * 10 + ", mail jane.doe@example.com, card 4242 4242 4242 4242, ORDER-1234"
    await gql.data(TRACK_BATCH, inputs=[call("masked", input={"messages": [{"role": "user", "content": secret}]})])
    await gql.data(SET, input={"workspaceId": "acme", "enabled": True, "redaction": False})
    await gql.data(TRACK_BATCH, inputs=[call("plain", input={"messages": [{"role": "user", "content": secret}]})])
    said = await conversations(reader)
    assert said["masked"]["messages"][0]["text"] == (
        "My key is [REDACTED:API_KEY], mail [REDACTED:EMAIL], card [REDACTED:CARD_NUMBER], [REDACTED]"
    )
    assert said["masked"]["redactions"] == 4
    assert (said["plain"]["messages"][0]["text"], said["plain"]["redactions"]) == (secret, 0)
    async with database.session_factory() as session:  # the secret never reached the table
        bodies = (await session.execute(text("SELECT body FROM usage_contents"))).scalars().all()
    assert sum(b"jane.doe" in zlib.decompress(body) for body in bodies) == 1  # only the plain one


async def test_content_past_the_bound_is_truncated_and_marked(gql, reader):
    await gql.data(SET, input={"workspaceId": "acme", "enabled": True})
    long_text = "word " * 60_000  # 300,000 bytes: past the 256 KiB bound
    history = [{"role": "user", "content": f"old question {n}"} for n in range(3)]
    await gql.data(
        TRACK_BATCH,
        inputs=[call("long", input={"messages": [*history, {"role": "user", "content": long_text}]},
                     output={"role": "assistant", "content": "short answer"})],
    )  # fmt: skip
    [stored] = (await conversations(reader)).values()
    assert stored["truncated"] is True
    assert stored["originalBytes"] == 300_000 + 3 * len("old question 0") + len("short answer")
    kept = stored["messages"]
    assert kept[-1] == message("assistant", "OUTPUT", "short answer")  # the answer is kept whole
    cut = [m for m in kept if m["text"].startswith("word ")]
    assert len(cut) == 1 and "…[truncated " in cut[0]["text"]
    assert len(cut[0]["text"].encode()) <= 256 * 1024
    assert stored["omittedMessages"] == 4 - (len(kept) - 1)
    assert stored["storedBytes"] < 5_000  # "word " repeated compresses


async def test_retention_deletes_content_and_keeps_the_numbers_and_deleting_an_event_deletes_its_content(
    gql, reader, database
):
    await gql.data(SET, input={"workspaceId": "acme", "enabled": True, "retentionDays": 7})
    said = {"messages": [{"role": "user", "content": "hello"}]}
    await gql.data(
        TRACK_BATCH,
        inputs=[call(f"day{d}", occurredAt=(DAY0 + timedelta(days=d)).isoformat(), input=said) for d in (0, 5, 9)],
    )
    await gql.data('mutation { createWorkspace(input: {name: "Globex", slug: "globex"}) { id } }')
    await gql.data(SET, input={"workspaceId": "globex", "enabled": True, "retentionDays": 30})  # its own retention
    await gql.data(TRACK_BATCH, inputs=[call("theirs", workspaceId="globex", occurredAt=DAY0.isoformat(), input=said)])
    deleted = await ContentRetention(database=database, repository=ConversationRepository()).prune(
        now=DAY0 + timedelta(days=12)
    )  # horizon: day 5 for acme, none of globex's
    assert deleted == 1
    async with database.session_factory() as session:
        theirs = (await session.execute(text("SELECT count(*) FROM usage_contents WHERE workspace_id = "
                                             "(SELECT id FROM workspaces WHERE slug = 'globex')"))).scalar_one()  # fmt: skip
    assert theirs == 1
    left = await conversations(reader)
    assert sorted(left) == ["day0", "day5", "day9"]  # every event stays
    assert left["day0"] is None and left["day5"] is not None and left["day9"] is not None
    totals = await gql.data('{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { calls promptTokens } } }')
    assert totals["usageAnalytics"]["totals"] == {"calls": 3, "promptTokens": 60}

    events_deleted = await UsageRetention(database=database, retention_days=30).prune(now=DAY0 + timedelta(days=37))
    assert events_deleted == 3  # day 0 and day 5 (before day 7), and globex's day 0 with its content
    async with database.session_factory() as session:
        kept = (await session.execute(text("SELECT count(*) FROM usage_contents"))).scalar_one()
    assert kept == 1 and sorted(await conversations(reader)) == ["day9"]
