"""Drains the webhook outbox. Every server process runs one dispatcher; they share the work through
`FOR UPDATE SKIP LOCKED` claims with a lease, wake up on each new alert and poll for retries that fall due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from modules.budgets.accounting import ALERTS_CHANNEL
from modules.budgets.records import DeliveryStatus, WebhookDelivery
from modules.budgets.repository import BudgetRepository
from modules.budgets.targets import ATTEMPT_TIMEOUT_S, WebhookTargets, shown_host, webhook_client
from modules.budgets.webhooks import (
    DELIVERY_HEADER,
    GIVE_UP_AFTER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    retry_delay,
    sign,
)
from modules.core.addresses import AddressRefused, Unresolvable
from modules.core.database import Database
from modules.core.notifications import Notifications

log = logging.getLogger(__name__)
CLAIM_BATCH = 20
LEASE = timedelta(seconds=60)  # a claimed attempt not recorded within this is retried by anyone
LISTEN_RETRY_S = 60.0


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the receiver's status, or the error that stopped it (`kind`: a word for the log,
    which never holds a URL); `final`: never retry."""

    status_code: int | None = None
    error: str | None = None
    kind: str = "delivered"
    final: bool = False


class WebhookDispatcher:
    def __init__(
        self,
        *,
        database: Database,
        repository: BudgetRepository,
        notifications: Notifications,
        targets: WebhookTargets,
        retry_base_seconds: float,
        poll_seconds: float,
    ) -> None:
        self.database = database
        self.repository = repository
        self.notifications = notifications
        self.targets = targets
        self.retry_base = timedelta(seconds=retry_base_seconds)
        self.poll_seconds = poll_seconds

    async def run(self) -> None:
        """Until cancelled. Without a LISTEN connection (database down) it polls, and tries to listen again
        a minute later; a failing attempt or database only delays deliveries."""
        while True:
            try:
                async with self.notifications.subscribe(ALERTS_CHANNEL) as wakeups:
                    await self._drain(wakeups, for_seconds=None)
            except Exception:
                log.warning("cannot LISTEN for alerts; polling every %s s", self.poll_seconds, exc_info=True)
                await self._drain(asyncio.Queue(), for_seconds=LISTEN_RETRY_S)

    async def _drain(self, wakeups: asyncio.Queue[str], for_seconds: float | None) -> None:
        """Dispatches what is due, then waits for a new alert or the next poll; returns after `for_seconds`."""
        deadline = None if for_seconds is None else time.monotonic() + for_seconds
        while deadline is None or time.monotonic() < deadline:
            try:
                if await self.dispatch_due():
                    continue
            except Exception:
                log.exception("webhook dispatch failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeups.get(), self.poll_seconds)

    async def dispatch_due(self) -> int:
        """Attempts every due delivery once; the number attempted. A client per batch: alerts are rare, and
        no connection outlives the address it was checked for."""
        now = datetime.now(UTC)
        async with self.database.session_factory.begin() as session:
            claimed = await self.repository.claim_due(session, now=now, lease_until=now + LEASE, limit=CLAIM_BATCH)
            secrets = await self.repository.secrets(session, {d.budget_id for d in claimed}) if claimed else {}
        if claimed:
            async with webhook_client() as http:
                await asyncio.gather(
                    *(self.attempt(http, d, secrets[d.budget_id]) for d in claimed if d.budget_id in secrets)
                )
        return len(claimed)

    async def attempt(self, http: httpx.AsyncClient, delivery: WebhookDelivery, secret: str) -> None:
        attempted_at = datetime.now(UTC)
        started = time.perf_counter()
        outcome = await self.send(http, delivery, secret)
        duration_ms = round((time.perf_counter() - started) * 1000)
        delay = retry_delay(delivery.attempts + 1, self.retry_base)
        if outcome.error is None:
            status = DeliveryStatus.DELIVERED
        elif outcome.final or attempted_at + delay - delivery.created_at > GIVE_UP_AFTER:
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.PENDING
        async with self.database.session_factory.begin() as session:
            await self.repository.record_attempt(
                session,
                delivery_id=delivery.id,
                attempted_at=attempted_at,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=duration_ms,
                status=status,
                next_attempt_at=attempted_at + delay,
            )
        if outcome.error is not None:  # the URL's path and query may be its secret: the host only
            log.info(
                "webhook delivery %s to %s failed (%s); status %s",
                delivery.id,
                shown_host(delivery.url),
                outcome.kind,
                status,
            )

    async def send(self, http: httpx.AsyncClient, delivery: WebhookDelivery, secret: str) -> Outcome:
        """One POST to the address the URL's host is checked at now, or none: a host that resolves to an
        address the policy refuses ends the delivery without a connection being made."""
        try:
            target = await self.targets.pin(delivery.url)
        except AddressRefused as refused:
            return Outcome(error=f"refused: {refused}", kind="refused by the address policy", final=True)
        except Unresolvable as failure:
            return Outcome(error=str(failure), kind="host does not resolve")
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, timestamp, delivery.body),
            TIMESTAMP_HEADER: str(timestamp),
            DELIVERY_HEADER: str(delivery.id),
            "User-Agent": "llm-usage-webhooks",
            **target.headers,
        }
        try:
            async with asyncio.timeout(ATTEMPT_TIMEOUT_S):  # in all: httpx's timeouts are per read
                request = http.stream(
                    "POST",
                    target.request_url,
                    content=delivery.body.encode(),
                    headers=headers,
                    extensions=target.extensions,
                )
                async with request as response:  # the body is never read: the status is the answer
                    status_code = response.status_code
        except TimeoutError:
            return Outcome(error=f"no answer within {ATTEMPT_TIMEOUT_S:g} s", kind="timeout")
        except httpx.HTTPError as failure:
            return Outcome(error=f"{type(failure).__name__}: {failure}"[:500], kind=type(failure).__name__)
        if 200 <= status_code < 300:
            return Outcome(status_code=status_code)
        return Outcome(status_code=status_code, error=f"HTTP {status_code}", kind=f"HTTP {status_code}")
