"""AsyncUsageTracker: the asyncio flavour. `track()` is a plain call (no await) from the event loop's thread;
`max_in_flight` tasks send batches, and survive any exception as the threads do. Call `await tracker.close()` on
shutdown (an event loop cannot be awaited at exit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from llm_usage_client.answers import read_answer
from llm_usage_client.budgets import BudgetStatus, read_status, status_request
from llm_usage_client.delivery import JSON_HEADERS, Delivery
from llm_usage_client.queueing import TrackerBase

log = logging.getLogger("llm_usage_client")


class AsyncUsageTracker(TrackerBase):
    def __init__(self, url: str, api_key: str, **options: Any) -> None:
        """The same options as UsageTracker."""
        super().__init__(url, api_key, **options)
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.senders: list[asyncio.Task[None]] = []
        self.sending = 0  # senders delivering a batch now
        self.http = httpx.AsyncClient(timeout=self.settings.timeout, headers=self.settings.headers)

    def _put(self, event: dict[str, Any]) -> bool:
        if self.closing or len(self.queue) >= self.settings.max_queue:
            self.settings.stats.dropped_queue_full += 1
            return False
        self.queue.append(event)
        self.settings.stats.queued += 1
        self.idle.clear()
        if not self.senders or all(sender.done() for sender in self.senders):
            loop = asyncio.get_running_loop()
            self.senders = [loop.create_task(self._run()) for _ in range(self.settings.max_in_flight)]
        if len(self.queue) == 1 or len(self.queue) >= self.settings.batch_size:
            self.wake.set()
        return True

    async def budget_status(self, **call: Any) -> BudgetStatus | None:
        """As UsageTracker.budget_status, awaited."""
        body = status_request(self.settings.workspace_id, call)
        try:
            response, error = await self.http.post(self.settings.graphql_url, json=body), None
        except httpx.HTTPError as failure:
            response, error = None, failure
        return read_status(response, error)

    async def flush(self, timeout: float | None = None) -> bool:
        self.flushing += 1
        self.wake.set()
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.flushing -= 1

    async def close(self, timeout: float | None = 30.0) -> None:
        await self.flush(timeout)
        self.closing = True
        self.wake.set()
        if self.senders:
            await asyncio.wait(self.senders, timeout=timeout)
        await self.http.aclose()

    async def _run(self) -> None:
        """One sender: takes the next batch when there is one, full or due, while the others deliver theirs."""
        size, loop = self.settings.batch_size, asyncio.get_running_loop()
        while True:
            if not self.queue:
                if not self.sending:
                    self.idle.set()
                if self.closing:
                    return
                self.wake.clear()
                await self.wake.wait()
                continue
            due = loop.time() + self.settings.flush_interval
            while len(self.queue) < size and not self.flushing and not self.closing:
                left = due - loop.time()
                if left <= 0:
                    break
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), left)
            batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            if not batch:
                continue  # another sender took it meanwhile
            self.sending += 1
            try:
                await self._deliver(batch)
            finally:
                self.sending -= 1

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """As UsageTracker._deliver: the same Delivery, awaited; cancellation alone stops it."""
        loop = asyncio.get_running_loop()
        delivery = Delivery(self.settings, batch, loop.time())
        try:
            while (body := delivery.next_body()) is not None:
                response, error = None, None
                try:
                    response = await self.http.post(self.settings.graphql_url, content=body, headers=JSON_HEADERS)
                except httpx.HTTPError as failure:
                    error = failure
                wait = delivery.settle(read_answer(response, error), loop.time())
                if wait:
                    await asyncio.sleep(wait)
        except Exception as error:
            log.exception("llm-usage: the sender failed; the rest of its batch is reported failed")
            delivery.abandon(error)
