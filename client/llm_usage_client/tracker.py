"""UsageTracker: `track()` queues and returns at once; a background thread sends batches."""

from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from llm_usage_client.timing import TimedCall


class UsageTracker(ProviderHelpers):
    """Thread-safe. A full queue drops the newest events (counted in `stats.dropped_queue_full`): tracking
    never blocks or raises on the caller's request path."""

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
        self.condition = threading.Condition()
        self.in_flight = 0
        self.flushing = 0
        self.closing = False
        self.http = httpx.Client(timeout=timeout, headers=self.settings.headers)
        self.thread = threading.Thread(target=self._run, name="llm-usage-tracker", daemon=True)
        self.thread.start()
        atexit.register(self.close)

    @property
    def stats(self) -> TrackerStats:
        return self.settings.stats

    def track(self, **fields: Any) -> bool:
        """Queue one call (the fields of TrackUsageInput, in snake_case). False if it was not queued."""
        try:
            event = build_event(self.settings, fields)
        except TypeError as error:
            self.settings.report(Rejected(events=[dict(fields)], reason=str(error)))
            return False
        with self.condition:
            if self.closing or len(self.queue) >= self.settings.max_queue:
                self.settings.stats.dropped_queue_full += 1
                return False
            self.queue.append(event)
            self.settings.stats.queued += 1
            if len(self.queue) >= self.settings.batch_size:
                self.condition.notify_all()
        return True

    @contextmanager
    def timed(self, **fields: Any) -> Iterator[TimedCall]:
        """`with tracker.timed(provider=…, model=…) as call:` times the call (call.first_token() marks the
        first streamed token), and tracks it on exit with the usage given to call.record_*()."""
        call = TimedCall(fields)
        try:
            yield call
        except BaseException as error:
            call.failed(error)
            raise
        finally:
            self.track(**call.finish())

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued event was sent (or given up on). False if `timeout` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.condition:
            self.flushing += 1
            self.condition.notify_all()
            try:
                while self.queue or self.in_flight:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self.condition.wait(left)
                return True
            finally:
                self.flushing -= 1

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush, then stop the thread. Registered at exit."""
        if self.closing:
            return
        self.flush(timeout)
        with self.condition:
            self.closing = True
            self.condition.notify_all()
        self.thread.join(timeout)
        self.http.close()
        atexit.unregister(self.close)

    def _take(self) -> list[dict[str, Any]]:
        with self.condition:
            size = self.settings.batch_size
            waiting = not self.queue or (len(self.queue) < size and not self.flushing)
            if waiting and not self.closing:
                self.condition.wait(self.settings.flush_interval)
            batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            self.in_flight += len(batch)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch:
                try:
                    self._deliver(batch)
                finally:
                    with self.condition:
                        self.in_flight -= len(batch)
                        self.condition.notify_all()
            elif self.closing:
                return

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """Send until stored; drop only what the server rejects; retry the rest with backoff, up to a bound."""
        deadline = time.monotonic() + self.settings.max_retry_seconds
        attempt = 0
        while batch:
            response, error = None, None
            try:
                response = self.http.post(
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
            if time.monotonic() >= deadline:
                self.settings.report(Rejected(events=batch, reason=f"gave up: {answer.reason}", permanent=False))
                return
            attempt += 1
            self.settings.stats.retries += 1
            time.sleep(min(backoff(attempt), max(0.0, deadline - time.monotonic())))
