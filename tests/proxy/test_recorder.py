"""The recorder alone, over a stand-in for UsageService.track_batch: batches per principal, bounded while the
database is away (the calls beyond are dropped and counted), one refused call costs only itself, and stop()
stores what is left."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from modules.core.errors import BadUserInput, Problem, Unavailable
from modules.core.principal import Principal, Scope
from modules.proxy import UsageRecorder
from modules.usage import TrackResult, UsageDraft

ALICE = Principal(name="alice", scopes=frozenset({Scope.INGEST}))
BOB = Principal(name="bob", scopes=frozenset({Scope.INGEST}))


class StandIn:
    """Stores what it is given, unless `away` (UNAVAILABLE); refuses drafts whose model is 'bad'."""

    def __init__(self) -> None:
        self.away = False
        self.batches: list[tuple[str, list[str | None]]] = []

    async def track_batch(self, principal: Principal, items: Sequence[UsageDraft]) -> list[TrackResult]:
        if self.away:
            raise Unavailable("the database is unreachable", retryable=True)
        if any(item.model == "bad" for item in items):
            raise BadUserInput([Problem("model", "bad", 0)])
        self.batches.append((principal.name, [item.request_id for item in items]))
        return [SimpleNamespace(duplicate=False) for _ in items]  # type: ignore[misc]


def draft(request_id: str, model: str = "gpt-4o") -> UsageDraft:
    return UsageDraft(workspace_id="w", provider="openai", model=model, request_id=request_id)


def recorder(usage: StandIn, counts: dict[str, int], **options: Any) -> UsageRecorder:
    def observe(outcome: str, count: int) -> None:
        counts[outcome] = count if outcome == "pending" else counts.get(outcome, 0) + count

    return UsageRecorder(usage, linger_s=0.001, retry_s=(0.01,), observe=observe, **options)


async def until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - the counts are plain numbers the observer sets
            await asyncio.sleep(0.005)


async def test_batches_per_principal_in_order() -> None:
    usage, counts = StandIn(), {}
    made = recorder(usage, counts, batch_size=2)
    for name in ("a1", "a2", "a3"):
        made.record(ALICE, draft(name))
    made.record(BOB, draft("b1"))
    made.start()
    await until(lambda: counts.get("stored") == 4)
    await made.stop()
    assert usage.batches == [("alice", ["a1", "a2"]), ("alice", ["a3"]), ("bob", ["b1"])]


async def test_while_the_database_is_away_calls_wait_up_to_the_capacity_and_the_rest_are_dropped_and_counted() -> None:
    usage, counts = StandIn(), {}
    usage.away = True
    made = recorder(usage, counts, capacity=3)
    made.start()
    for number in range(5):
        made.record(ALICE, draft(f"c{number}"))
    await asyncio.sleep(0.05)
    assert (counts["pending"], counts["dropped"], usage.batches) == (3, 2, [])
    usage.away = False
    await until(lambda: counts.get("stored") == 3)
    assert usage.batches == [("alice", ["c0", "c1", "c2"])] and counts["pending"] == 0
    await made.stop()


async def test_a_refused_call_costs_only_itself() -> None:
    usage, counts = StandIn(), {}
    made = recorder(usage, counts)
    for name, model in (("ok1", "gpt-4o"), ("no", "bad"), ("ok2", "gpt-4o")):
        made.record(ALICE, draft(name, model))
    made.start()
    await until(lambda: counts.get("stored") == 2)
    await made.stop()
    assert usage.batches == [("alice", ["ok1"]), ("alice", ["ok2"])] and counts["refused"] == 1


async def test_stop_stores_what_is_left() -> None:
    usage, counts = StandIn(), {}
    made = recorder(usage, counts)
    made.record(ALICE, draft("left"))  # never started: only stop() can store it
    await made.stop()
    assert usage.batches == [("alice", ["left"])]


async def test_while_the_database_is_away_only_so_many_calls_keep_their_content() -> None:
    usage, counts = StandIn(), {}
    usage.away = True
    made = recorder(usage, counts, content_capacity=2)
    made.start()
    said = {"messages": [{"role": "user", "content": "hi"}]}
    for number in range(4):
        made.record(ALICE, UsageDraft(workspace_id="w", provider="openai", model="gpt-4o", request_id=f"c{number}",
                                      content_input=said))  # fmt: skip
    made.record(ALICE, draft("plain"))
    kept = [d.content_input is not None for _, d in made.pending]
    assert (kept, counts["content_dropped"], counts["pending"]) == ([True, True, False, False, False], 2, 5)
    usage.away = False
    await until(lambda: counts.get("stored") == 5)
    assert made.with_content == 0  # the count follows the queue: later calls keep their content again
    made.record(ALICE, UsageDraft(workspace_id="w", provider="openai", model="gpt-4o", content_input=said))
    assert made.pending[-1][1].content_input == said
    await made.stop()
