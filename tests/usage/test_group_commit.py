"""Group commit through a live server: concurrent trackUsage calls share transactions, yet each caller gets its
own answer and its own error. The first transaction is held until the process's admission slots are all taken
(service/admission.py runs 10 requests at once), so the next group is whole whatever the machine's speed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.usage.ingest.group_commit import GroupCommit
from modules.usage.ingest.storing import AcceptedInput, EventWriter
from modules.usage.records import TrackResult
from service.limits import ADMISSION_SLOTS
from tests.live_server import LiveServer, LiveWorkspace, live_workspace, serving

TRACK = (
    "mutation($input: TrackUsageInput!) { trackUsage(input: $input) "
    "{ duplicate event { requestId promptTokens costUsd costSource } } }"
)
AT = "2026-01-15T10:00:00+00:00"
STORED = (
    "SELECT count(*), sum(prompt_tokens), sum(cost_usd)::text FROM usage_events e "
    "JOIN workspaces w ON w.id = e.workspace_id WHERE w.slug = :slug"
)
ROLLED_UP = (
    "SELECT sum(calls), sum(prompt_tokens) FROM usage_daily d "
    "JOIN workspaces w ON w.id = d.workspace_id WHERE w.slug = :slug"
)
NEW = {"promptTokens": 1000, "costUsd": "0.00027", "costSource": "CATALOG"}  # 1,000 x $0.15 + 200 x $0.60
UNPRICEABLE = {  # passes validation; genai-prices refuses to price it, inside the storing transaction
    "provider": "google",
    "model": "gemini-2.5-flash",
    "promptTokens": None,
    "completionTokens": None,
    "usageKinds": {"input_tokens": 10, "output_tokens": 1, "input_audio_tokens": 8, "cache_read_tokens": 8},
}


def call(slug: str, request_id: str, **fields: Any) -> dict[str, Any]:
    given = {"workspaceId": slug, "requestId": request_id, "provider": "openai", "model": "gpt-4o-mini"}
    return given | {"promptTokens": 1000, "completionTokens": 200, "occurredAt": AT, "userId": "alice"} | fields


class HeldFirstGroup:
    """Counts the calls reaching the group commit and records every storing transaction (its size, whether it
    committed); the first one waits until `expected` calls have arrived."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, expected: int) -> None:
        self.arrived = 0
        self.first_arrived = threading.Event()  # the test's loop waits on it (another thread)
        self.all_arrived = asyncio.Event()  # the server's loop waits on it
        self.groups: list[tuple[int, bool]] = []
        submit, store = GroupCommit.submit, EventWriter.store

        async def counted_submit(commit: GroupCommit, writer: EventWriter, accepted: AcceptedInput) -> TrackResult:
            self.arrived += 1
            self.first_arrived.set()
            if self.arrived >= expected:
                self.all_arrived.set()
            return await submit(commit, writer, accepted)

        async def held_store(writer: EventWriter, accepted: Sequence[AcceptedInput]) -> list[TrackResult]:
            if not self.groups:
                await asyncio.wait_for(self.all_arrived.wait(), 20)
            try:
                results = await store(writer, accepted)
            except Exception:
                self.groups.append((len(accepted), False))
                raise
            self.groups.append((len(accepted), True))
            return results

        monkeypatch.setattr(GroupCommit, "submit", counted_submit)
        monkeypatch.setattr(EventWriter, "store", held_store)


async def post(http: httpx.AsyncClient, given: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": TRACK, "variables": {"input": given}})
    assert response.status_code == 200, response.text
    return response.json()


async def send_behind_a_held_call(
    http: httpx.AsyncClient, held: HeldFirstGroup, lead: dict[str, Any], others: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`lead` first (its transaction held), then `others` all at once; the answers in the order of the inputs."""
    leading = asyncio.ensure_future(post(http, lead))
    assert await asyncio.to_thread(held.first_arrived.wait, 20)
    following = await asyncio.gather(*(post(http, given) for given in others))
    return [await leading, *following]


async def stored_in(engine: AsyncEngine, slug: str) -> tuple[Any, ...]:
    async with engine.connect() as connection:
        stored = (await connection.execute(text(STORED), {"slug": slug})).one()
        rolled_up = (await connection.execute(text(ROLLED_UP), {"slug": slug})).one()
    return (stored[0], stored[1], Decimal(stored[2]), *rolled_up)


def error_of(answer: dict[str, Any]) -> tuple[str, str, str]:
    assert answer["data"] is None, answer
    [error] = answer["errors"]
    return error["extensions"]["code"], error["extensions"]["field"], error["message"]


def twins_of(inputs: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers to the two calls sharing the request id 'twin', each checked to show the one stored event."""
    twins = [a["data"]["trackUsage"] for g, a in zip(inputs, answers, strict=True) if g["requestId"] == "twin"]
    assert sorted(t["duplicate"] for t in twins) == [False, True]
    assert twins[0]["event"] == twins[1]["event"]  # the first to arrive wrote it (its tokens, whichever it was)
    return twins


@pytest.fixture
async def live(engine: AsyncEngine) -> Any:
    async with live_workspace(engine) as workspace:
        with serving(engine) as server:
            yield workspace, server


def client(workspace: LiveWorkspace, server: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {workspace.key}"}, timeout=60)


async def test_a_group_with_a_bad_input_is_split_until_it_fails_alone(engine, live, monkeypatch):
    workspace, server = live
    slug = workspace.slug
    async with client(workspace, server) as http:
        assert (await post(http, call(slug, "earlier")))["data"]["trackUsage"]["duplicate"] is False
        held = HeldFirstGroup(monkeypatch, expected=ADMISSION_SLOTS)
        others = [call(slug, f"r-{n}") for n in range(5)]
        others[1:1] = [call(slug, "twin"), call(slug, "unpriceable") | UNPRICEABLE]
        others[4:4] = [call(slug, "twin", promptTokens=5), call(slug, "earlier")]
        inputs = [call(slug, "lead"), *others]
        assert len(inputs) == ADMISSION_SLOTS
        answers = await send_behind_a_held_call(http, held, inputs[0], others)

    by_request = {given["requestId"]: answer for given, answer in zip(inputs, answers, strict=True)}
    for request_id in ["lead", *(f"r-{n}" for n in range(5))]:
        expected = {"duplicate": False, "event": {"requestId": request_id, **NEW}}
        assert by_request[request_id] == {"data": {"trackUsage": expected}}
    assert by_request["earlier"] == {
        "data": {"trackUsage": {"duplicate": True, "event": {"requestId": "earlier", **NEW}}}
    }
    code, field, message = error_of(by_request["unpriceable"])
    assert (code, field) == ("BAD_USER_INPUT", "usageKinds") and "cache_audio_read_tokens" in message
    twin_tokens = twins_of(inputs, answers)[0]["event"]["promptTokens"]

    # the lead alone (held), then the 9 others in one transaction that failed, split in halves until the unpriceable
    # input stood alone: its 8 neighbours were each stored once
    assert held.groups[:2] == [(1, True), (ADMISSION_SLOTS - 1, False)], held.groups
    assert sum(size for size, committed in held.groups if committed) == ADMISSION_SLOTS - 1, held.groups
    assert [(size, committed) for size, committed in held.groups if not committed][-1] == (1, False), held.groups
    assert len(held.groups) <= 2 + 2 * 4, held.groups  # at most two halves per level of 9
    twin_cost = Decimal("0.00027") if twin_tokens == 1000 else Decimal("0.00012075")  # 5 x $0.15 + 200 x $0.60
    tokens = 7 * 1000 + twin_tokens  # earlier, lead, r-0…r-4, and the twin
    assert await stored_in(engine, slug) == (8, tokens, 7 * Decimal("0.00027") + twin_cost, 8, tokens)


async def test_fifty_concurrent_calls_each_get_their_own_answer_and_error(engine, live, monkeypatch):
    workspace, server = live
    slug = workspace.slug
    async with client(workspace, server) as http:
        assert (await post(http, call(slug, "earlier")))["data"]["trackUsage"]["duplicate"] is False
        held = HeldFirstGroup(monkeypatch, expected=ADMISSION_SLOTS)
        others = [call(slug, f"r-{n}") for n in range(44)]
        others.insert(7, call(slug, "twin"))
        others.insert(20, call(slug, "twin", promptTokens=5))  # the same request id: a duplicate
        others.insert(30, call(slug, "earlier"))  # stored before: a duplicate
        others.insert(33, call(slug, "negative", promptTokens=-1))  # refused before it joins a group
        others.insert(40, call(slug, "unpriceable") | UNPRICEABLE)  # refused inside a group
        inputs = [call(slug, "lead"), *others]
        assert len(inputs) == 50
        answers = await send_behind_a_held_call(http, held, inputs[0], others)

    by_request = {given["requestId"]: answer for given, answer in zip(inputs, answers, strict=True)}
    for request_id in ["lead", *(f"r-{n}" for n in range(44))]:
        expected = {"duplicate": False, "event": {"requestId": request_id, **NEW}}
        assert by_request[request_id] == {"data": {"trackUsage": expected}}
    assert by_request["earlier"] == {
        "data": {"trackUsage": {"duplicate": True, "event": {"requestId": "earlier", **NEW}}}
    }
    assert error_of(by_request["negative"])[:2] == ("BAD_USER_INPUT", "promptTokens")
    code, field, message = error_of(by_request["unpriceable"])
    assert (code, field) == ("BAD_USER_INPUT", "usageKinds") and "cache_audio_read_tokens" in message
    twin_tokens = twins_of(inputs, answers)[0]["event"]["promptTokens"]

    # 49 calls reached the group commit (the negative one was refused before): they shared transactions, at most
    # ADMISSION_SLOTS - 1 waiting at a time behind the one in flight (more wait at the admission gate)
    committed = [size for size, ok in held.groups if ok]
    assert sum(committed) == 48, held.groups  # every call but the unpriceable one, stored once
    assert held.groups[1][0] >= ADMISSION_SLOTS - 1, held.groups
    assert len(committed) <= 49 // 2, held.groups
    twin_cost = Decimal("0.00027") if twin_tokens == 1000 else Decimal("0.00012075")
    tokens = 46 * 1000 + twin_tokens  # earlier, lead, r-0…r-43, and the twin
    assert await stored_in(engine, slug) == (47, tokens, 46 * Decimal("0.00027") + twin_cost, 47, tokens)


async def test_a_duplicate_within_one_group_is_reported_as_duplicate(engine, live, monkeypatch):
    workspace, server = live
    slug = workspace.slug
    async with client(workspace, server) as http:
        assert (await post(http, call(slug, "earlier")))["data"]["trackUsage"]["duplicate"] is False
        held = HeldFirstGroup(monkeypatch, expected=ADMISSION_SLOTS)
        others = [call(slug, f"r-{n}") for n in range(6)]
        others[2:2] = [call(slug, "twin"), call(slug, "twin", promptTokens=5), call(slug, "earlier")]
        inputs = [call(slug, "lead"), *others]
        answers = await send_behind_a_held_call(http, held, inputs[0], others)

    assert held.groups == [(1, True), (ADMISSION_SLOTS - 1, True)]  # the 9 behind the lead: one transaction
    by_request = {given["requestId"]: answer for given, answer in zip(inputs, answers, strict=True)}
    for request_id in ["lead", *(f"r-{n}" for n in range(6))]:
        expected = {"duplicate": False, "event": {"requestId": request_id, **NEW}}
        assert by_request[request_id] == {"data": {"trackUsage": expected}}
    assert by_request["earlier"] == {
        "data": {"trackUsage": {"duplicate": True, "event": {"requestId": "earlier", **NEW}}}
    }
    twin_tokens = twins_of(inputs, answers)[0]["event"]["promptTokens"]
    twin_cost = Decimal("0.00027") if twin_tokens == 1000 else Decimal("0.00012075")
    tokens = 8 * 1000 + twin_tokens  # earlier, lead, r-0…r-5, and the twin
    assert await stored_in(engine, slug) == (9, tokens, 8 * Decimal("0.00027") + twin_cost, 9, tokens)
