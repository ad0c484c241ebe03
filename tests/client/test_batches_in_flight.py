"""`max_in_flight` batches on their way at once, against the real server: while one batch is stored the next is
already sent (the server parses one while PostgreSQL stores the other), and nothing is lost or doubled. Each
request is held until `max_in_flight` are in flight (or 5 s pass), so the overlap is seen, not hoped for."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import httpx
import pytest
from llm_usage_client import UsageTracker
from llm_usage_client.queueing import TrackerBase

from tests.client.trackers import FLAVOURS, call, run

HOLD_S = 5.0


class Overlap:
    """The most requests seen in flight at once, each held until `expected` are."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.now = 0
        self.most = 0


class HeldTransport(httpx.BaseTransport):
    def __init__(self, overlap: Overlap) -> None:
        self.inner = httpx.HTTPTransport()
        self.overlap = overlap
        self.changed = threading.Condition()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.changed:
            self.overlap.now += 1
            self.overlap.most = max(self.overlap.most, self.overlap.now)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.overlap.now >= self.overlap.expected, HOLD_S)
        try:
            response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            with self.changed:
                self.overlap.now -= 1


class AsyncHeldTransport(httpx.AsyncBaseTransport):
    def __init__(self, overlap: Overlap) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.overlap = overlap
        self.changed = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.overlap.now += 1
        self.overlap.most = max(self.overlap.most, self.overlap.now)
        if self.overlap.now >= self.overlap.expected:
            self.changed.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), HOLD_S)
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.overlap.now -= 1


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("in_flight", [2, 3])
def test_batches_travel_side_by_side_and_arrive_once(tenant, flavour, in_flight):
    overlap = Overlap(in_flight)

    def work(tracker: TrackerBase) -> None:
        headers = tracker.settings.headers
        if flavour == "thread":
            tracker.http = httpx.Client(transport=HeldTransport(overlap), headers=headers)  # type: ignore[attr-defined]
        else:
            transport = AsyncHeldTransport(overlap)
            tracker.http = httpx.AsyncClient(transport=transport, headers=headers)  # type: ignore[attr-defined]
        for number in range(30):
            assert tracker.track(**call(number + 1))

    done = run(
        flavour,
        tenant.server.url,
        tenant.key,
        work,
        workspace_id=tenant.slug,
        batch_size=10,
        flush_interval=10,
        max_in_flight=in_flight,
    )
    assert done.flushed
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.duplicates, stats.failed) == (30, 30, 0, 0)
    assert overlap.most == in_flight
    assert tenant.totals() == {"calls": 30, "promptTokens": sum(range(1, 31))}


def test_max_in_flight_is_checked():
    for wrong in (0, 17):
        with pytest.raises(ValueError, match="max_in_flight must be between 1 and 16"):
            UsageTracker("http://llm-usage.test", "llmu_key", max_in_flight=wrong)
