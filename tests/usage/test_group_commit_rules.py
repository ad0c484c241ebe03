"""The group commit's scheduling rules, each on its own, with a writer that records what it is asked to store:
calls arriving within the window share a transaction, every writer stores only its own calls, a group failing
because the database is away is not split (its halves would meet the same), and calls left waiting when the
server stops are told to retry. Storing itself, with PostgreSQL, is test_group_commit.py's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest

from modules.core.errors import Unavailable
from modules.usage.ingest.group_commit import GroupCommit, splittable
from modules.usage.ingest.storing import AcceptedInput, EventWriter
from modules.usage.records import TrackResult

STOPPING = "the server is stopping: retry (the same requestId is never stored twice)"


class RecordingWriter:
    """Stores nothing: answers each input with a result naming the input and this writer, after `delay` seconds,
    or raises `failure` (for every group, or for groups holding `poison`)."""

    def __init__(
        self, name: str, *, delay: float = 0.0, failure: Exception | None = None, poison: str | None = None
    ) -> None:
        self.name = name
        self.delay = delay
        self.failure = failure
        self.poison = poison
        self.groups: list[list[str]] = []

    async def store(self, accepted: Sequence[Any]) -> list[Any]:
        self.groups.append(list(accepted))
        await asyncio.sleep(self.delay)
        if self.failure is not None and (self.poison is None or self.poison in accepted):
            raise self.failure
        return [f"{self.name}:{item}" for item in accepted]


async def submit(commit: GroupCommit, writer: RecordingWriter, item: str) -> TrackResult:
    return await commit.submit(cast(EventWriter, writer), cast(AcceptedInput, item))


async def test_a_call_arriving_within_the_window_joins_the_waiting_one() -> None:
    commit = GroupCommit(window_s=0.2)
    writer = RecordingWriter("w")
    first = asyncio.create_task(submit(commit, writer, "a"))
    for _ in range(5):  # the first call's drain is running and waiting out its window
        await asyncio.sleep(0)
    second = asyncio.create_task(submit(commit, writer, "b"))
    assert await asyncio.gather(first, second) == ["w:a", "w:b"]
    assert writer.groups == [["a", "b"]]


async def test_each_writer_stores_only_its_own_calls() -> None:
    commit = GroupCommit(window_s=0.05)
    left, right = RecordingWriter("left"), RecordingWriter("right")
    answers = await asyncio.gather(
        submit(commit, left, "a"), submit(commit, right, "b"), submit(commit, left, "c"), submit(commit, right, "d")
    )
    assert answers == ["left:a", "right:b", "left:c", "right:d"]
    assert (left.groups, right.groups) == ([["a", "c"]], [["b", "d"]])
    assert commit.waiting == {}  # nothing is kept once the groups are stored


async def test_calls_after_a_group_form_the_next_one() -> None:
    commit = GroupCommit(window_s=0.0, max_group=2)
    writer = RecordingWriter("w")
    answers = await asyncio.gather(*(submit(commit, writer, x) for x in "abcde"))
    assert answers == ["w:a", "w:b", "w:c", "w:d", "w:e"]
    assert writer.groups == [["a", "b"], ["c", "d"], ["e"]]
    assert await submit(commit, writer, "f") == "w:f"  # a later call starts a new drain
    assert writer.groups[-1] == ["f"]


@pytest.mark.parametrize(
    "failure",
    [Unavailable("the database cannot be reached", retryable=True), ConnectionRefusedError(111, "refused")],
    ids=["unavailable", "connection refused"],
)
async def test_a_group_failing_because_the_database_is_away_is_not_split(failure: Exception) -> None:
    assert not splittable(failure)
    commit = GroupCommit(window_s=0.05)
    writer = RecordingWriter("w", failure=failure)
    answers = await asyncio.gather(*(submit(commit, writer, x) for x in "abcd"), return_exceptions=True)
    assert answers == [failure] * 4  # each caller gets the database's own error
    assert writer.groups == [["a", "b", "c", "d"]]  # tried once, not in halves


async def test_a_group_failing_for_one_input_is_split_until_that_input_fails_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = ValueError("a row the database refuses")
    assert splittable(refused)
    commit = GroupCommit(window_s=0.05)
    writer = RecordingWriter("w", failure=refused, poison="c")
    with caplog.at_level("INFO", logger="modules.usage.ingest.group_commit"):
        answers = await asyncio.gather(*(submit(commit, writer, x) for x in "abcd"), return_exceptions=True)
    assert answers == ["w:a", "w:b", refused, "w:d"]
    assert writer.groups == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["d"]]
    assert [r.getMessage() for r in caplog.records] == [
        "a group of 4 calls failed (a row the database refuses); storing its halves apart",
        "a group of 2 calls failed (a row the database refuses); storing its halves apart",
    ]


@pytest.mark.parametrize("while_", ["waiting out the window", "storing a group"])
async def test_calls_left_waiting_when_the_server_stops_are_told_to_retry(while_: str) -> None:
    storing = while_ == "storing a group"
    commit = GroupCommit(window_s=0.0 if storing else 10.0, max_group=1)
    writer = RecordingWriter("w", delay=10.0)
    calls = [asyncio.create_task(submit(commit, writer, x)) for x in "ab"]
    for _ in range(5):
        await asyncio.sleep(0)
    assert writer.groups == ([["a"]] if storing else [])
    [waiting] = commit.waiting.values()
    assert waiting.task is not None
    waiting.task.cancel()  # what the event loop does to its tasks at shutdown
    answers = await asyncio.gather(*calls, return_exceptions=True)
    for answer in answers:
        assert isinstance(answer, Unavailable)
        assert (answer.message, answer.extensions) == (STOPPING, {"code": "UNAVAILABLE", "retryable": True})
    assert commit.waiting == {}
