"""UsageTracker: `track()` queues and returns at once; background threads send batches, `max_in_flight` of them at
once (one batch is stored while the next is parsed). A thread survives any exception: what it could not send is
reported to on_error and counted, and it goes on with the next batch."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import Any

import httpx

from llm_usage_client.answers import read_answer
from llm_usage_client.budgets import BudgetStatus, read_status, status_request
from llm_usage_client.delivery import JSON_HEADERS, Delivery
from llm_usage_client.queueing import TrackerBase

log = logging.getLogger("llm_usage_client")


class UsageTracker(TrackerBase):
    """Thread-safe. A full queue drops the newest events (counted in `stats.dropped_queue_full`): tracking
    never blocks or raises on the caller's request path."""

    def __init__(self, url: str, api_key: str, **options: Any) -> None:
        """Options: workspace_id, batch_size=500, flush_interval=1.0, max_queue=100_000,
        max_retry_seconds=120.0, max_in_flight=2, on_error, timeout=10.0."""
        super().__init__(url, api_key, **options)
        self.condition = threading.Condition()
        self.in_flight = 0
        self.http = httpx.Client(timeout=self.settings.timeout, headers=self.settings.headers)
        self.threads = [
            threading.Thread(target=self._run, name=f"llm-usage-tracker-{number}", daemon=True)
            for number in range(self.settings.max_in_flight)
        ]
        for thread in self.threads:
            thread.start()
        atexit.register(self.close)

    def _put(self, event: dict[str, Any]) -> bool:
        with self.condition:
            if self.closing or len(self.queue) >= self.settings.max_queue:
                self.settings.stats.dropped_queue_full += 1
                return False
            self.queue.append(event)
            self.settings.stats.queued += 1
            if len(self.queue) >= self.settings.batch_size:
                self.condition.notify_all()
        return True

    def budget_status(self, **call: Any) -> BudgetStatus | None:
        """Before an expensive call: would it count against an exhausted budget? Describe it with user_id,
        provider, model, task_type, provider_instance_id. None if the server cannot say (fail open)."""
        body = status_request(self.settings.workspace_id, call)
        try:
            response, error = self.http.post(self.settings.graphql_url, json=body), None
        except httpx.HTTPError as failure:
            response, error = None, failure
        return read_status(response, error)

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
        """Flush, then stop the threads. Registered at exit."""
        if self.closing:
            return
        self.flush(timeout)
        with self.condition:
            self.closing = True
            self.condition.notify_all()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self.threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self.http.close()
        atexit.unregister(self.close)

    def _take(self) -> list[dict[str, Any]]:
        with self.condition:
            size = self.settings.batch_size
            due = time.monotonic() + self.settings.flush_interval
            while (not self.queue or (len(self.queue) < size and not self.flushing)) and not self.closing:
                left = due - time.monotonic()
                if left <= 0:
                    break
                self.condition.wait(left)
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
        """Send until stored; drop only what the server rejects; retry the rest with backoff, up to a bound.
        Whatever goes wrong, the rest of the batch is reported and the thread lives on."""
        delivery = Delivery(self.settings, batch, time.monotonic())
        try:
            while (body := delivery.next_body()) is not None:
                response, error = None, None
                try:
                    response = self.http.post(self.settings.graphql_url, content=body, headers=JSON_HEADERS)
                except httpx.HTTPError as failure:
                    error = failure
                wait = delivery.settle(read_answer(response, error), time.monotonic())
                if wait:
                    time.sleep(wait)
        except Exception as error:
            log.exception("llm-usage: the sender failed; the rest of its batch is reported failed")
            delivery.abandon(error)
