"""An answer lost after the server committed: the client sends the batch again, and the event is not doubled,
because its requestId was fixed when it was queued, not when it was sent. Proven by what the server holds
once a later event has arrived, not by waiting."""

from __future__ import annotations

import json

import httpx
import pytest
from llm_usage_client.queueing import TrackerBase

from tests.client.trackers import FLAVOURS, call, run


class LoseFirstAnswer(httpx.BaseTransport):
    """Sends every request to the real server; the first answer is read in full, then lost (the connection
    drops after the server committed), as a reset between its last byte and the client would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.bodies: list[dict] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.bodies.append(json.loads(request.content))
        if len(self.bodies) == 1:
            response.close()
            raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


class AsyncLoseFirstAnswer(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bodies: list[dict] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.bodies.append(json.loads(request.content))
        if len(self.bodies) == 1:
            await response.aclose()
            raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_answer_lost_after_the_commit_does_not_double_the_event(tenant, flavour):
    transports: list[LoseFirstAnswer | AsyncLoseFirstAnswer] = []

    def work(tracker: TrackerBase) -> None:
        headers = tracker.settings.headers
        if flavour == "thread":
            transport: LoseFirstAnswer | AsyncLoseFirstAnswer = LoseFirstAnswer()
            tracker.http = httpx.Client(transport=transport, headers=headers)  # type: ignore[attr-defined]
        else:
            transport = AsyncLoseFirstAnswer()
            tracker.http = httpx.AsyncClient(transport=transport, headers=headers)  # type: ignore[attr-defined]
        transports.append(transport)
        assert tracker.track(**call(7))  # no requestId given: the tracker makes one

    first = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, flush_interval=0.05)
    assert first.flushed
    [transport] = transports
    [sent, resent] = [body["variables"]["inputs"] for body in transport.bodies]
    assert sent == resent and len(sent) == 1  # the same event, with the same requestId, both times
    request_id = sent[0]["requestId"]
    stats = first.tracker.stats
    assert (stats.queued, stats.inserted, stats.duplicates, stats.retries) == (1, 0, 1, 1)
    assert (stats.rejected, stats.failed) == (0, 0)

    # A later event from another tracker arrives after the retried one: once it is stored, the first has had
    # every chance to be doubled, and the server holds each exactly once.
    later = run(
        flavour,
        tenant.server.url,
        tenant.key,
        lambda t: t.track(**call(11, request_id="later")),
        workspace_id=tenant.slug,
    )
    assert later.flushed and later.tracker.stats.inserted == 1
    assert sorted((e["requestId"], e["promptTokens"]) for e in tenant.events()) == sorted(
        [(request_id, 7), ("later", 11)]
    )
    assert tenant.totals() == {"calls": 2, "promptTokens": 18}
