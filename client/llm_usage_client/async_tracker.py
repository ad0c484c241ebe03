"""AsyncUsageTracker: the asyncio flavour. `track()` is a plain call (no await) from the event loop's thread;
a task sends batches. Call `await tracker.close()` on shutdown (an event loop cannot be awaited at exit)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from llm_usage_client.queueing import (
    TRACK_BATCH,
    ProviderHelpers,
    Rejected,
    Settings,
    TrackerStats,
    backoff,
    build_event,
    read_answer,
    split,
)


class AsyncUsageTracker(ProviderHelpers):
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        workspace_id: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        max_retry_seconds: float = 120.0,
        on_error: Callable[[Rejected], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.settings = Settings(
            url=url,
            api_key=api_key,
            workspace_id=workspace_id,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_queue=max_queue,
            max_retry_seconds=max_retry_seconds,
            on_error=on_error,
            timeout=timeout,
        )
        self.queue: deque[dict[str, Any]] = deque()
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.flushing = 0
        self.closing = False
        self.task: asyncio.Task[None] | None = None
        self.http = httpx.AsyncClient(timeout=timeout, headers=self.settings.headers)

    @property
    def stats(self) -> TrackerStats:
        return self.settings.stats

    def track(self, **fields: Any) -> bool:
        try:
            event = build_event(self.settings, fields)
        except TypeError as error:
            self.settings.report(Rejected(events=[dict(fields)], reason=str(error)))
            return False
        if self.closing or len(self.queue) >= self.settings.max_queue:
            self.settings.stats.dropped_queue_full += 1
            return False
        self.queue.append(event)
        self.settings.stats.queued += 1
        self.idle.clear()
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())
        if len(self.queue) == 1 or len(self.queue) >= self.settings.batch_size:
            self.wake.set()
        return True

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
        if self.task is not None:
            await asyncio.wait([self.task], timeout=timeout)
        await self.http.aclose()

    async def _run(self) -> None:
        size = self.settings.batch_size
        while True:
            if not self.queue:
                self.idle.set()
                if self.closing:
                    return
                self.wake.clear()
                await self.wake.wait()
                continue
            if len(self.queue) < size and not self.flushing and not self.closing:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.settings.flush_interval)
            batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            await self._deliver(batch)

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.max_retry_seconds
        attempt = 0
        while batch:
            response, error = None, None
            try:
                response = await self.http.post(
                    self.settings.graphql_url, json={"query": TRACK_BATCH, "variables": {"inputs": batch}}
                )
            except httpx.HTTPError as failure:
                error = failure
            answer = read_answer(response, error)
            if answer.rejected_indexes:
                batch, bad = split(batch, answer.rejected_indexes)
                self.settings.report(Rejected(events=bad, reason=answer.reason))
                continue
            if answer.permanent:
                self.settings.report(Rejected(events=batch, reason=answer.reason))
                return
            if not answer.retry:
                self.settings.stats.inserted += answer.inserted
                self.settings.stats.duplicates += answer.duplicates
                return
            if loop.time() >= deadline:
                self.settings.report(Rejected(events=batch, reason=f"gave up: {answer.reason}", permanent=False))
                return
            attempt += 1
            self.settings.stats.retries += 1
            await asyncio.sleep(min(backoff(attempt), max(0.0, deadline - loop.time())))
