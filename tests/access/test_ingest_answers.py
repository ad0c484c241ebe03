"""An INGEST key writes; what it is answered tells it nothing it did not send: a duplicate's stored event (of any
guessed request id) and a completed session's users, costs and events are shown only to a key that may READ."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, Undefined, get_named_type, is_leaf_type

from modules.core.principal import Scope
from service.graphql import build_schema
from tests.conftest import create_key

TRACK = (
    "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { requestId userId costUsd } } }"
)
TRACK_BATCH = (
    "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { duplicates events { userId } } }"
)
COMPLETE = 'mutation { completeSession(workspaceId: "acme", id: "s1") { id status session { calls userIds } } }'


def call(request_id: str, user: str) -> dict:
    return {
        "workspaceId": "acme",
        "requestId": request_id,
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 1000,
        "completionTokens": 100,
        "userId": user,
        "sessionId": "s1",
    }


async def test_a_duplicate_shows_its_stored_event_only_to_a_key_that_may_read(gql, workspace, container):
    ingest = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    reader = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST, Scope.READ)))
    first = (await ingest.data(TRACK, input=call("r1", "victim")))["trackUsage"]
    assert first == {"duplicate": False, "event": {"requestId": "r1", "userId": "victim", "costUsd": "0.0035"}}
    guessed = (await ingest.data(TRACK, input=call("r1", "attacker")))["trackUsage"]
    assert guessed == {"duplicate": True, "event": None}
    batch = (await ingest.data(TRACK_BATCH, inputs=[call("r1", "a"), call("r2", "b")]))["trackUsageBatch"]
    assert batch == {"duplicates": [True, False], "events": [None, {"userId": "b"}]}
    shown = (await reader.data(TRACK, input=call("r1", "attacker")))["trackUsage"]
    assert shown == {"duplicate": True, "event": {"requestId": "r1", "userId": "victim", "costUsd": "0.0035"}}


async def test_completing_a_session_shows_the_session_only_to_a_key_that_may_read(gql, workspace, container):
    ingest = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    await ingest.data(TRACK, input=call("r1", "victim"))
    minimal = (await ingest.data(COMPLETE))["completeSession"]
    assert minimal == {"id": "s1", "status": "COMPLETED", "session": None}
    full = (await gql.data(COMPLETE))["completeSession"]
    assert full == {"id": "s1", "status": "COMPLETED", "session": {"calls": 1, "userIds": ["victim"]}}


async def test_budget_status_tells_an_ingest_key_whether_to_go_ahead_and_no_more(gql, workspace, container):
    await gql.data(
        'mutation { createBudget(input: {workspaceId: "acme", name: "Team Alpha", limitUsd: "0.005"}) { budget { id } } }'
    )
    ingest = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    await ingest.data(TRACK, input=call("r1", "victim"))  # $0.0035 of $0.005
    query = (
        '{ budgetStatus(workspaceId: "acme") { exceeded remainingUsd percentUsed tightest { name } budgets { name } } }'
    )
    minimal = (await ingest.data(query))["budgetStatus"]
    assert minimal == {
        "exceeded": False,
        "remainingUsd": "0.0015",
        "percentUsed": "70",
        "tightest": None,
        "budgets": [],
    }
    full = (await gql.data(query))["budgetStatus"]
    assert full["tightest"] == {"name": "Team Alpha"} and full["budgets"] == [{"name": "Team Alpha"}]


def every_field(type_: Any, depth: int = 3) -> str:
    """A selection of every field of an object type that needs no argument, `depth` levels down."""
    parts = []
    for name, field in type_.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif isinstance(inner, GraphQLObjectType) and depth > 1:
            parts.append(f"{name} {{ {every_field(inner, depth - 1)} }}")
    return " ".join(parts)


def selecting(head: str, selection: str) -> str:
    return f"{head} {{ {selection} }} }}"


def readable(value: Any, path: str = "") -> set[str]:
    """The paths of the non-null leaves of an answer (list items merged)."""
    if isinstance(value, dict):
        return {found for key, inner in value.items() for found in readable(inner, f"{path}.{key}".lstrip("."))}
    if isinstance(value, list):
        return {found for item in value for found in readable(item, path)}
    return set() if value is None else {path}


async def test_every_field_an_ingest_key_can_reach_is_one_it_sent_or_a_yes_no(gql, workspace, container):
    """Field by field: everything an INGEST key's answers hold, with every field of their types selected."""
    schema = build_schema()._schema
    mutation, query = schema.mutation_type, schema.query_type
    await gql.data(
        'mutation { createBudget(input: {workspaceId: "acme", name: "B", limitUsd: "1"}) { budget { id } } }'
    )
    await gql.data(TRACK, input=call("theirs", "victim"))  # another service's call
    ingest = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    track_all = every_field(mutation.fields["trackUsage"].type.of_type)
    batch_all = every_field(mutation.fields["trackUsageBatch"].type.of_type)
    session_all = every_field(mutation.fields["completeSession"].type.of_type)
    status_all = every_field(query.fields["budgetStatus"].type.of_type)
    track = selecting("mutation($input: TrackUsageInput!) { trackUsage(input: $input)", track_all)
    batch = selecting("mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs)", batch_all)
    answer = await ingest.execute(track, input=call("mine", "me"))
    # what a call said is never shown to a key without CONTENT, not even its own call's
    refused = [(e["path"], e["extensions"]["code"]) for e in answer["errors"]]
    assert refused == [(["trackUsage", "event", "conversation"], "FORBIDDEN")]
    own_event = readable(answer["data"]["trackUsage"])
    guessed = readable((await ingest.data(track, input=call("theirs", "me")))["trackUsage"])
    batched = readable((await ingest.data(batch, inputs=[call("theirs", "me")]))["trackUsageBatch"])
    complete = selecting('mutation { completeSession(workspaceId: "acme", id: "s1")', session_all)
    session = readable((await ingest.data(complete))["completeSession"])
    status = readable((await ingest.data(selecting('{ budgetStatus(workspaceId: "acme")', status_all)))["budgetStatus"])
    assert guessed == {"duplicate"}
    assert batched == {"duplicates", "insertedCount", "duplicateCount"}
    assert session == {"id", "status", "completedAt"}
    assert status == {"exceeded", "remainingUsd", "percentUsed"}
    assert own_event >= {"event.requestId", "event.userId", "event.costUsd"} and "event.workspaceId" in own_event
    assert {path for path in own_event if not path.startswith("event.")} == {"duplicate"}
