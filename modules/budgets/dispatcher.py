"""Drains the webhook outbox. Every server process runs one dispatcher; they share the work through
`FOR UPDATE SKIP LOCKED` claims with a lease, wake up on each new alert and poll for retries that fall due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx

from modules.budgets.accounting import ALERTS_CHANNEL
from modules.budgets.records import DeliveryStatus, WebhookDelivery
from modules.budgets.repository import BudgetRepository
from modules.budgets.webhooks import DELIVERY_HEADER, GIVE_UP_AFTER, SIGNATURE_HEADER, retry_delay, sign
from modules.core.database import Database
from modules.core.notifications import Notifications

log = logging.getLogger(__name__)
CLAIM_BATCH = 20
LEASE = timedelta(seconds=60)  # a claimed attempt not recorded within this is retried by anyone
ATTEMPT_TIMEOUT_S = 10.0
LISTEN_RETRY_S = 60.0


class WebhookDispatcher:
    def __init__(
        self,
        *,
        database: Database,
        repository: BudgetRepository,
        notifications: Notifications,
        retry_base_seconds: float,
        poll_seconds: float,
    ) -> None:
        self.database = database
        self.repository = repository
        self.notifications = notifications
        self.retry_base = timedelta(seconds=retry_base_seconds)
        self.poll_seconds = poll_seconds

    async def run(self) -> None:
        """Until cancelled. Without a LISTEN connection (database down) it polls, and tries to listen again
        a minute later; a failing attempt or database only delays deliveries."""
        async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S) as http:
            while True:
                try:
                    async with self.notifications.subscribe(ALERTS_CHANNEL) as wakeups:
                        await self._drain(http, wakeups, for_seconds=None)
                except Exception:
                    log.warning("cannot LISTEN for alerts; polling every %s s", self.poll_seconds, exc_info=True)
                    await self._drain(http, asyncio.Queue(), for_seconds=LISTEN_RETRY_S)

    async def _drain(self, http: httpx.AsyncClient, wakeups: asyncio.Queue[str], for_seconds: float | None) -> None:
        """Dispatches what is due, then waits for a new alert or the next poll; returns after `for_seconds`."""
        deadline = None if for_seconds is None else time.monotonic() + for_seconds
        while deadline is None or time.monotonic() < deadline:
            try:
                if await self.dispatch_due(http):
                    continue
            except Exception:
                log.exception("webhook dispatch failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeups.get(), self.poll_seconds)

    async def dispatch_due(self, http: httpx.AsyncClient) -> int:
        """Attempts every due delivery once; the number attempted."""
        now = datetime.now(UTC)
        async with self.database.session_factory.begin() as session:
            claimed = await self.repository.claim_due(session, now=now, lease_until=now + LEASE, limit=CLAIM_BATCH)
            secrets = await self.repository.secrets(session, {d.budget_id for d in claimed}) if claimed else {}
        await asyncio.gather(*(self.attempt(http, d, secrets[d.budget_id]) for d in claimed if d.budget_id in secrets))
        return len(claimed)

    async def attempt(self, http: httpx.AsyncClient, delivery: WebhookDelivery, secret: str) -> None:
        attempted_at = datetime.now(UTC)
        started = time.perf_counter()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, delivery.body),
            DELIVERY_HEADER: str(delivery.id),
            "User-Agent": "llm-usage-webhooks",
        }
        status_code: int | None = None
        error: str | None = None
        try:
            response = await http.post(delivery.url, content=delivery.body.encode(), headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        duration_ms = round((time.perf_counter() - started) * 1000)
        delay = retry_delay(delivery.attempts + 1, self.retry_base)
        if error is None:
            status = DeliveryStatus.DELIVERED
        elif attempted_at + delay - delivery.created_at > GIVE_UP_AFTER:
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.PENDING
        async with self.database.session_factory.begin() as session:
            await self.repository.record_attempt(
                session,
                delivery_id=delivery.id,
                attempted_at=attempted_at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                status=status,
                next_attempt_at=attempted_at + delay,
            )
        if error is not None:
            log.info("webhook delivery %s to %s failed (%s); status %s", delivery.id, delivery.url, error, status)
