"""Conversation content through the GraphQL endpoint on real PostgreSQL: off by default (dropped and counted), kept
when an ADMIN turns it on, read only with the CONTENT scope, every read logged, isolated between workspaces."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from modules.core.principal import Scope
from tests.conftest import GraphQLClient, create_key
from tests.documents import TRACK_BATCH

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { id } duplicate } }"
SET = """mutation($input: SetContentSettingsInput!) { setContentSettings(input: $input) {
  workspaceId enabled retentionDays redaction redactionPatterns defaultPatterns droppedCalls } }"""
SETTINGS = '{ contentSettings(workspaceId: "acme") { enabled retentionDays redaction droppedCalls } }'
CONVERSATION = """query Support($w: ID! = "acme") { usageEvents(filter: {workspaceId: $w}) { edges { node {
  id promptTokens costUsd conversation {
  messages { role side text toolCalls { id name arguments } toolCallId omittedParts }
  truncated omittedMessages redactions originalBytes storedBytes } } } } }"""
CHAT_INPUT = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are a support bot."},
        {"role": "user", "content": "Where is my order 1234?"},
    ],
}
CHAT_OUTPUT = {
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "It ships tomorrow."}}],
    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
}
SAID = [
    {"role": "system", "side": "INPUT", "text": "You are a support bot.", "toolCalls": [], "toolCallId": None,
     "omittedParts": []},
    {"role": "user", "side": "INPUT", "text": "Where is my order 1234?", "toolCalls": [], "toolCallId": None,
     "omittedParts": []},
    {"role": "assistant", "side": "OUTPUT", "text": "It ships tomorrow.", "toolCalls": [], "toolCallId": None,
     "omittedParts": []},
]  # fmt: skip


def call(**given: Any) -> dict[str, Any]:
    return {"workspaceId": "acme", "provider": "openai", "model": "gpt-4o", "promptTokens": 20,
            "completionTokens": 5, **given}  # fmt: skip


@pytest.fixture
async def reader(gql: GraphQLClient, container, workspace) -> GraphQLClient:
    """A READ + CONTENT key of acme: what support reads conversations with."""
    return gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.READ, Scope.CONTENT)))


async def turn_on(gql: GraphQLClient, **given: Any) -> dict[str, Any]:
    return (await gql.data(SET, input={"workspaceId": "acme", "enabled": True, **given}))["setContentSettings"]


async def read_event(key: GraphQLClient, event_id: str, workspace: str = "acme") -> dict[str, Any]:
    """One event of the CONVERSATION query's answer, which must have no errors."""
    [node] = [e["node"] for e in (await key.data(CONVERSATION, w=workspace))["usageEvents"]["edges"]
              if e["node"]["id"] == event_id]  # fmt: skip
    del node["id"]
    return node


async def stored_contents(database) -> int:
    async with database.session_factory() as session:
        return (await session.execute(text("SELECT count(*) FROM usage_contents"))).scalar_one()


async def test_off_by_default_content_is_dropped_counted_and_never_stored(gql, reader, database, client):
    assert (await gql.data(SETTINGS))["contentSettings"] == {
        "enabled": False, "retentionDays": 30, "redaction": True, "droppedCalls": 0
    }  # fmt: skip
    tracked = await gql.data(TRACK, input=call(input=CHAT_INPUT, output=CHAT_OUTPUT))
    await gql.data(TRACK_BATCH, inputs=[call(input=CHAT_INPUT), call(output=CHAT_OUTPUT), call()])
    assert (await gql.data(SETTINGS))["contentSettings"]["droppedCalls"] == 3  # the call without content is not
    assert await stored_contents(database) == 0
    event = await read_event(reader, tracked["trackUsage"]["event"]["id"])
    assert event == {"promptTokens": 20, "costUsd": "0.0001", "conversation": None}
    assert "llm_usage_content_dropped_calls_total 3.0" in (await client.get("/metrics")).text


async def test_on_the_call_said_is_kept_and_read_back_with_the_content_scope(gql, reader, database):
    settings = await turn_on(gql)
    assert settings == {
        "workspaceId": settings["workspaceId"], "enabled": True, "retentionDays": 30, "redaction": True,
        "redactionPatterns": [], "defaultPatterns": ["API_KEY", "EMAIL", "CARD_NUMBER"], "droppedCalls": 0,
    }  # fmt: skip
    tracked = await gql.data(TRACK, input=call(input=CHAT_INPUT, output=CHAT_OUTPUT))
    event = await read_event(reader, tracked["trackUsage"]["event"]["id"])
    conversation = event.pop("conversation")
    assert event == {"promptTokens": 20, "costUsd": "0.0001"}
    assert conversation["messages"] == SAID
    plain = sum(len(m["text"].encode()) for m in SAID)
    assert (conversation["truncated"], conversation["omittedMessages"], conversation["redactions"]) == (False, 0, 0)
    assert conversation["originalBytes"] == plain == 63
    async with database.session_factory() as session:
        stored = (await session.execute(text("SELECT octet_length(body) FROM usage_contents"))).scalar_one()
    assert conversation["storedBytes"] == stored


async def test_a_key_without_the_content_scope_gets_forbidden_on_content_and_its_numbers_as_before(
    gql, reader, container
):
    await turn_on(gql)
    tracked = await gql.data(TRACK, input=call(input=CHAT_INPUT, output=CHAT_OUTPUT))
    event_id = tracked["trackUsage"]["event"]["id"]
    numbers = {"id": event_id, "promptTokens": 20, "costUsd": "0.0001", "conversation": None}
    for scopes in ((Scope.READ,), (Scope.ADMIN,)):  # ADMIN manages content settings; it does not read content
        key = gql.as_key(await create_key(container, workspace="acme", scopes=scopes))
        result = await key.execute(CONVERSATION)
        assert result["data"] == {"usageEvents": {"edges": [{"node": numbers}]}}
        [error] = result["errors"]
        assert error["path"] == ["usageEvents", "edges", 0, "node", "conversation"]
        assert (error["extensions"]["code"], error["message"]) == ("FORBIDDEN", "this key lacks the CONTENT scope")
    # the instance ADMIN of the fixtures neither
    assert (await gql.execute(CONVERSATION))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reads = await gql.data('{ contentReads(workspaceId: "acme") { edges { node { id } } } }')
    assert reads == {"contentReads": {"edges": []}}  # refused reads show nothing, so log nothing


async def test_every_read_is_logged_with_the_key_that_read_it(gql, reader, container):
    await turn_on(gql)
    first = await gql.data(TRACK, input=call(input=CHAT_INPUT, sessionId="s1"))
    second = await gql.data(TRACK, input=call(output=CHAT_OUTPUT, sessionId="s1"))
    await gql.data(TRACK, input=call(sessionId="s1"))  # no content: not part of what was read
    ids = [first["trackUsage"]["event"]["id"], second["trackUsage"]["event"]["id"]]
    session = await reader.data(
        'query Ticket42 { session(workspaceId: "acme", id: "s1") '
        "{ events { conversation { messages { side text } } } } }"
    )
    assert [e["conversation"] for e in session["session"]["events"]] == [
        {"messages": [{"side": "INPUT", "text": "You are a support bot."},
                      {"side": "INPUT", "text": "Where is my order 1234?"}]},
        {"messages": [{"side": "OUTPUT", "text": "It ships tomorrow."}]},
        None,
    ]  # fmt: skip
    await read_event(reader, ids[0])  # a second read, another entry: of the events with content
    log = await gql.data('{ contentReads(workspaceId: "acme") { edges { node { keyId reader operation eventIds } } } }')
    keys = await gql.data('{ apiKeys(workspaceId: "acme") { id scopes } }')
    [reader_key] = [k["id"] for k in keys["apiKeys"] if "CONTENT" in k["scopes"]]
    assert [e["node"] for e in log["contentReads"]["edges"]] == [
        {"keyId": reader_key, "reader": "tests", "operation": "Support", "eventIds": ids},
        {"keyId": reader_key, "reader": "tests", "operation": "Ticket42", "eventIds": ids},
    ]
    forbidden = await reader.execute('{ contentReads(workspaceId: "acme") { edges { cursor } } }')
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # the log is for ADMIN


async def test_content_of_one_workspace_is_never_read_with_another_workspaces_key(gql, reader, container):
    await turn_on(gql)
    await gql.data('mutation { createWorkspace(input: {name: "Globex", slug: "globex"}) { id } }')
    await gql.data(SET, input={"workspaceId": "globex", "enabled": True})
    await gql.data(TRACK, input=call(workspaceId="globex", input=CHAT_INPUT))
    result = await reader.execute(CONVERSATION, w="globex")
    assert (result["data"], result["errors"][0]["extensions"]["code"]) == (None, "FORBIDDEN")
    everywhere = gql.as_key(await create_key(container, scopes=(Scope.READ, Scope.CONTENT)))
    await gql.data(TRACK, input=call(input=CHAT_INPUT))
    said = {"conversation": {"messages": [{"text": "You are a support bot."}, {"text": "Where is my order 1234?"}]}}
    for slug in ("acme", "globex"):  # an instance key with CONTENT reads both
        both = await everywhere.data(
            f'query Both {{ usageEvents(filter: {{workspaceId: "{slug}"}}) {{ edges {{ node {{ conversation '
            "{ messages { text } } } } } }"
        )
        assert both == {"usageEvents": {"edges": [{"node": said}]}}
    for slug in ("acme", "globex"):  # one entry in each workspace's own log
        log = await gql.data(f'{{ contentReads(workspaceId: "{slug}") {{ edges {{ node {{ operation }} }} }} }}')
        assert log["contentReads"]["edges"] == [{"node": {"operation": "Both"}}]


async def test_only_a_key_holding_content_can_give_content(gql, container, workspace):
    admin = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.ADMIN,)))
    create = 'mutation($s: [Scope!]!) { createApiKey(input: {workspaceId: "acme", name: "s", scopes: $s}) { secret } }'
    error = await admin.error(create, s=["READ", "CONTENT"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [
        {"field": "scopes", "reason": "only a key that holds CONTENT can give CONTENT"}
    ]
    holder = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.ADMIN, Scope.CONTENT)))
    assert (await holder.data(create, s=["READ", "CONTENT"]))["createApiKey"]["secret"].startswith("llmu_")


async def test_content_that_cannot_be_read_refuses_the_call_naming_the_field(gql, workspace, database):
    await turn_on(gql)
    error = await gql.error(TRACK_BATCH, inputs=[call(), call(input={"messages": [{"role": "user", "content": 7}]})])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    [problem] = error["extensions"]["problems"]
    assert (problem["field"], problem["index"]) == ("input", 1)
    assert problem["reason"].startswith("messages[0].content")
    events = await gql.data('{ usageEvents(filter: {workspaceId: "acme"}) { totalCount } }')
    assert events["usageEvents"]["totalCount"] == 0 and await stored_contents(database) == 0


async def test_a_duplicate_keeps_the_first_calls_content(gql, reader):
    await turn_on(gql)
    first = await gql.data(TRACK, input=call(requestId="r1", input=CHAT_INPUT))
    again = await gql.data(TRACK, input=call(requestId="r1", output=CHAT_OUTPUT))
    assert again["trackUsage"]["duplicate"] is True
    event = await read_event(reader, first["trackUsage"]["event"]["id"])
    assert [m["side"] for m in event["conversation"]["messages"]] == ["INPUT", "INPUT"]


async def test_settings_are_checked_and_name_the_field(gql, workspace):
    error = await gql.error(SET, input={"workspaceId": "acme", "enabled": True, "retentionDays": 0,
                                        "redactionPatterns": ["ok-[0-9]+", "(unclosed", ""]})  # fmt: skip
    problems = [(p["field"], p.get("index")) for p in error["extensions"]["problems"]]
    assert problems == [("retentionDays", None), ("redactionPatterns", 1), ("redactionPatterns", 2)]
    assert (await gql.data(SETTINGS))["contentSettings"]["enabled"] is False  # nothing changed
    too_many = await gql.error(SET, input={"workspaceId": "acme", "enabled": True, "redactionPatterns": ["x"] * 21})
    assert too_many["extensions"]["problems"][0]["reason"] == "at most 20 patterns (got 21)"
    read_only = await gql.as_key(None).execute(SET, input={"workspaceId": "acme", "enabled": True})
    assert read_only["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
