"""The export's streamed body at the ASGI level, with a fake client the test drives: every message sent, in
order, for a whole export, a HEAD, a client that leaves, one that stops reading and one past the deadline;
the pieces the chunks are joined into; the connection handed back each time. The HTTP tests hold the same
through uvicorn, but slowly (seconds of waiting each), so they are not in the mutation run."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import pytest

from service.export import moment_label
from service.export_response import SEND_CHARS, ExportResponse, coalesced

HEADERS = [
    (b"content-disposition", b'attachment; filename="usage.csv"'),
    (b"content-type", b"text/csv; charset=utf-8"),
]


class Body:
    """The rows' chunks, counting how many were read and whether the generator was closed."""

    def __init__(self, chunks: list[str], *, close_fails: bool = False) -> None:
        self.chunks, self.close_fails = chunks, close_fails
        self.read = 0
        self.closed = False

    async def generate(self):
        try:
            for chunk in self.chunks:
                self.read += 1
                yield chunk
        finally:
            self.closed = True
            if self.close_fails:
                raise RuntimeError("connection already closed")


class Client:
    """ASGI receive/send: records what is sent; may leave after the n-th body message, or stop reading."""

    def __init__(self, *, leave_after: int | None = None, stall_after: int | None = None) -> None:
        self.sent: list[dict] = []
        self.leave_after, self.stall_after = leave_after, stall_after
        self.left = asyncio.Event()

    async def receive(self) -> dict:
        await self.left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        bodies = sum(m["type"] == "http.response.body" for m in self.sent)
        if self.stall_after is not None and bodies >= self.stall_after:
            await asyncio.Event().wait()  # its buffers are full: this write never completes
        self.sent.append(message)
        is_body = message["type"] == "http.response.body"
        if is_body and self.leave_after is not None and bodies + 1 >= self.leave_after:
            self.left.set()


async def export(body: Body, client: Client, *, method: str = "GET", deadline_in: float = 60, stall_s: float = 60):
    closed: list[bool] = []
    response = ExportResponse(
        body.generate(),
        deadline=asyncio.get_running_loop().time() + deadline_in,
        stall_s=stall_s,
        on_close=lambda: closed.append(True),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
    )
    await response({"type": "http", "method": method}, client.receive, client.send)
    return closed


def start(sent: list[dict]) -> dict:
    first = sent[0]
    return {**first, "headers": sorted((k, v) for k, v in first["headers"] if k != b"content-length")}


def bodies(sent: list[dict]) -> list[tuple[bytes, bool]]:
    return [(m["body"], m["more_body"]) for m in sent[1:]]


def big(letter: str) -> str:
    return letter * (SEND_CHARS // 2 + 1)  # two of them fill a piece


async def test_a_whole_export_is_sent_in_pieces_and_ended_then_the_connection_given_back():
    body, client = Body([big("a"), big("b"), big("c"), "tail"]), Client()
    closed = await export(body, client)
    assert start(client.sent) == {"type": "http.response.start", "status": 200, "headers": HEADERS}
    assert bodies(client.sent) == [
        ((big("a") + big("b")).encode(), True),
        ((big("c") + "tail").encode(), True),
        (b"", False),  # the last chunk of HTTP: the download is complete
    ]
    assert (body.read, body.closed, closed) == (4, True, [True])


async def test_a_head_request_reads_no_row():
    body, client = Body(["a", "b"]), Client()
    closed = await export(body, client, method="HEAD")
    assert start(client.sent)["status"] == 200
    assert bodies(client.sent) == [(b"", False)]
    assert (body.read, closed) == (0, [True])


async def test_a_departed_client_ends_the_export_between_two_pieces_without_the_last_chunk():
    body, client = Body([big(c) for c in "abcdefgh"]), Client(leave_after=1)
    closed = await export(body, client)
    # the first piece is sent, the client leaves; the piece already on its way is the last one sent
    assert bodies(client.sent) == [((big("a") + big("b")).encode(), True), ((big("c") + big("d")).encode(), True)]
    assert (body.read, body.closed, closed) == (4, True, [True])


async def test_a_client_that_stops_reading_is_cut_at_the_stall_deadline(caplog):
    body, client = Body([big(c) for c in "abcd"], close_fails=True), Client(stall_after=1)
    with caplog.at_level(logging.WARNING, logger="service.export_response"):
        closed = await export(body, client, stall_s=0.05)
    assert bodies(client.sent) == [((big("a") + big("b")).encode(), True)]  # no last chunk: a cut download
    assert [r.getMessage() for r in caplog.records] == [
        "export cut: its client read nothing for 0.05 s",
        "closing a cut export failed: RuntimeError('connection already closed')",
    ]
    assert (body.closed, closed) == (True, [True])  # handed back even when closing fails


async def test_an_export_past_its_whole_deadline_is_cut(caplog):
    body, client = Body(["a", "b"]), Client()
    with caplog.at_level(logging.WARNING, logger="service.export_response"):
        closed = await export(body, client, deadline_in=0)
    assert (bodies(client.sent), closed) == ([], [True])
    assert [r.getMessage() for r in caplog.records] == ["export cut at its deadline: the whole export took too long"]


@pytest.mark.parametrize(
    ("chunks", "pieces"),
    [
        (["abc", "def", "g"], ["abcdef", "g"]),  # a piece is sent once it reaches the size
        (["ab", "cde", "f"], ["abcdef"]),
        (["ab", "cd", "ef", "gh"], ["abcdef", "gh"]),  # lengths add up
        (["abcdef", "ab", "cde", "f"], ["abcdef", "abcdef"]),  # and start again from 0
        (["abcdefghij"], ["abcdefghij"]),
        ([], []),
    ],
)
async def test_chunks_are_joined_into_pieces_of_the_size(chunks, pieces):
    async def given():
        for chunk in chunks:
            yield chunk

    assert [piece async for piece in coalesced(given(), 6)] == pieces


def test_the_file_name_gives_times_in_utc_whatever_the_host_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        labels = (moment_label(datetime(2026, 3, 1, tzinfo=UTC), "start"), moment_label(None, "now"))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert labels == ("20260301T000000Z", "now")


def test_export_slots_per_key_and_per_process_each_freed_once():
    from modules.core.errors import RateLimited, Unavailable
    from service.export_limits import ExportLimits
    from service.export_slots import ExportSlots

    slots = ExportSlots(ExportLimits(pool_size=3, per_key=2, retry_after_s=7))
    a1, a2 = slots.claim("a"), slots.claim("a")
    with pytest.raises(RateLimited) as limited:
        slots.claim("a")
    assert (limited.value.message, limited.value.extensions["retryAfter"]) == (
        "this key already runs 2 exports, the most it may at once: retry when one ends",
        7,
    )
    b1 = slots.claim("b")
    with pytest.raises(Unavailable) as full:
        slots.claim("c")
    assert (full.value.extensions["retryable"], full.value.extensions["retryAfter"]) == (True, 7)
    assert (slots.running, dict(slots.by_key)) == (3, {"a": 2, "b": 1})
    a1()
    a1()  # freeing twice frees once
    assert (slots.running, dict(slots.by_key)) == (2, {"a": 1, "b": 1})
    c1 = slots.claim("c")
    for free in (a2, b1, c1):
        free()
    assert (slots.running, dict(slots.by_key)) == (0, {})
