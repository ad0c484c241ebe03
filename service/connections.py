"""HTTP connections with deadlines and a cap, so that idle and slow clients cannot hold the server.

uvicorn closes a keep-alive connection idle after a response, but waits for ever for the head of a first
request, for a body and for a client to read its response; and its only cap (`limit_concurrency`) counts idle
connections too, so 200 silent sockets turned every request into a plain-text 503 for as long as they stayed.
As nginx's client_header_timeout, client_body_timeout and send_timeout do, a connection is closed when
- its request head is not complete HEAD_TIMEOUT_S after the connection opened or its last response ended;
- the body is not complete BODY_TIMEOUT_S after the head;
- a response write stays stalled (the client reads nothing) for SEND_TIMEOUT_S.
Beyond `connection_cap()` open connections a new one closes the connection idle the longest (no request in
flight: waiting for, or receiving, a request head); only when every connection has a request in flight is
the new one refused.
"""

from __future__ import annotations

import asyncio
import functools
import resource
import time
from typing import Literal

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.limits import BODY_TIMEOUT_S, HEAD_TIMEOUT_S, MAX_CONNECTIONS, RESERVED_FILES, SEND_TIMEOUT_S

Awaiting = Literal["head", "body"]
READ_TIMEOUTS_S: dict[Awaiting, float] = {"head": HEAD_TIMEOUT_S, "body": BODY_TIMEOUT_S}


def allow_open_files() -> None:
    """Raise the soft limit of open files to the hard one (as Go does at start): each connection is a file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard and soft != resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    connection_cap.cache_clear()


@functools.cache
def connection_cap() -> int:
    """MAX_CONNECTIONS, or fewer when the open-files limit would make accept() fail first (asyncio then
    stops accepting anyone for a second, and the pools cannot open connections)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft - RESERVED_FILES))


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines and the cap above."""

    deadline: asyncio.TimerHandle | None = None
    awaiting: Awaiting | None = None
    stalled: asyncio.TimerHandle | None = None
    idle_since: float = 0.0

    # uvicorn's own signature: it narrows asyncio's BaseTransport to Transport (and ignores the same error).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.await_head()
        self.make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self.set_deadline(None)
        self.set_stalled(None)
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.set_deadline("body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self.awaiting == "body":
            self.set_deadline(None)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:  # no pipelined request left
            self.await_head()

    def handle_websocket_upgrade(self) -> None:
        self.set_deadline(None)  # the WebSocket protocol has its own pings and timeouts
        super().handle_websocket_upgrade()

    def pause_writing(self) -> None:
        super().pause_writing()
        self.set_stalled(self.loop.call_later(SEND_TIMEOUT_S, self.transport.abort))  # close() would wait to flush

    def resume_writing(self) -> None:
        super().resume_writing()
        self.set_stalled(None)

    @property
    def idle(self) -> bool:
        return self.awaiting == "head" and not self.transport.is_closing()

    def await_head(self) -> None:
        self.idle_since = time.monotonic()  # not loop.time(): uvloop's is cached, equal for a turn's accepts
        self.set_deadline("head")

    def set_deadline(self, awaiting: Awaiting | None) -> None:
        """One deadline at a time: the head's, then the body's; none while the app answers."""
        if self.deadline is not None:
            self.deadline.cancel()
        self.awaiting = awaiting
        self.deadline = (
            None if awaiting is None else self.loop.call_later(READ_TIMEOUTS_S[awaiting], self.transport.close)
        )

    def set_stalled(self, timer: asyncio.TimerHandle | None) -> None:
        if self.stalled is not None:
            self.stalled.cancel()
        self.stalled = timer

    def make_room(self) -> None:
        """Over the cap: close the longest-idle connection, else this new one."""
        if len(self.connections) <= connection_cap():
            return
        idle = [c for c in self.connections if isinstance(c, GuardedHttpProtocol) and c is not self and c.idle]
        victim = min(idle, key=lambda connection: connection.idle_since, default=self)
        self.connections.discard(victim)  # counted out now: its connection_lost comes on a later loop turn
        victim.transport.close()
