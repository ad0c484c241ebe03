"""Admission control: how many GraphQL and export requests a process runs at once, so that load ends in
quick, retryable refusals instead of pool timeouts (a masked INTERNAL, a plain-text 500).

A request runs when one of ADMISSION_SLOTS is free (about the database pool: each running request holds a
connection of it); up to ADMISSION_QUEUE more wait for one, each at most ADMISSION_WAIT_S; the others are
answered at once, and those that waited too long then: 503 UNAVAILABLE with Retry-After, nothing done. A
request's body is read before it waits, so a slow client holds no slot (BODY_TIMEOUT_S bounds its reading).
The probes and /metrics pass, so does GraphiQL's static code, and so do WebSockets: a subscription lives for
hours and would hold its slot all that time; so does the proxy (/proxy/…): a stream holds no connection to the
database, and may last minutes.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modules.core.asgi import read_body
from service.http_errors import send_error
from service.limits import ADMISSION_QUEUE, ADMISSION_SLOTS, ADMISSION_WAIT_S, RETRY_AFTER_S

UNGATED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNGATED_PREFIXES = ("/graphiql-assets/", "/proxy/")  # the proxy holds no database connection while it waits


class AdmissionGate:
    def __init__(
        self,
        app: ASGIApp,
        slots: int = ADMISSION_SLOTS,
        queue: int = ADMISSION_QUEUE,
        wait_s: float = ADMISSION_WAIT_S,
    ) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(slots)
        self.queue = queue
        self.wait_s = wait_s
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path in UNGATED_PATHS or path.startswith(UNGATED_PREFIXES):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client left before sending its whole request
        if not await self.admit():
            await send_error(
                send,
                f"The server is busy; nothing was done. Retry in {RETRY_AFTER_S} s.",
                "UNAVAILABLE",
                retryable=True,
                retryAfter=RETRY_AFTER_S,
            )
            return
        try:
            await self.app(scope, replay(body, receive), send)
        finally:
            self.slots.release()

    async def admit(self) -> bool:
        """A slot taken (release it), or False: the queue is full, or no slot came free in time."""
        if self.slots.locked() and self.waiting >= self.queue:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await self.slots.acquire()
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        return True


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever comes next (a disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
