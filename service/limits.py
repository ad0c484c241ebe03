"""Protection of the server, in one place: what a request may ask, how long it may take, how big it may be.

| limit | value |
| --- | --- |
| query depth | 10 |
| aliases per document (fragments included) | 15 |
| tokens per document | 1,000 |
| literal `first` / `limit` / `recentEvents` | 500 / 1,000 / 500 (checked before any resolver runs) |
| request body | 5 MiB (413) |
| nesting of a variable's value | 32 levels |
| values an answer may hold, estimated before execution / bytes of an HTTP answer | 500,000 / 32 MiB |
| parsed and validated documents cached | 256 each |
| Postgres statement_timeout / connect timeout / pool wait | 30 s / 5 s / 5 s |
| database pool per engine and process | 10 connections, 10 more under load |
| request head / body / stalled response write | 10 s from connect or the last response / 10 s / 10 s, then closed |
| idle keep-alive connection | closed after 5 s |
| open connections per process | 1,000 (fewer if the open-files limit says so); beyond, the longest-idle is closed |
| GraphQL and export requests running per process | 10; 100 more wait up to 5 s; beyond, 503 `UNAVAILABLE` |
| graceful shutdown | 20 s for in-flight requests |
| WebSocket | `connection_init` within 10 s; messages ≤ 5 MiB; 100 operations per socket; each one a request |
| exports running | 4 per process on a pool of their own (then 503), 2 per key (then 429); Retry-After 5 s |
| events per export | 1,000,000; beyond, 400 naming `to`, with `splitAt` where to split the range |
| an export's time | 10 min in all; 10 s with the client reading nothing; idle in transaction 60 s (PostgreSQL) |
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http_errors import send_error

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 1000
PAGE_ARGUMENTS = {"first": 500, "limit": 1000, "recentEvents": 500}
MAX_NESTING = 32  # levels of lists and objects in a variable's value
MAX_ANSWER_VALUES = 500_000  # fields an answer may hold, estimated before execution (service/answer_size.py)
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # of an HTTP answer, once built
MAX_BODY_BYTES = 5 * 1024 * 1024
DOCUMENT_CACHE_SIZE = 256
STATEMENT_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 5
POOL_SIZE = 10
POOL_OVERFLOW = 10
HEAD_TIMEOUT_S = 10  # from the connection's start, or its last response, to a complete request head
BODY_TIMEOUT_S = 10  # from the head to the body's last byte: 5 MiB needs 4 Mbit/s
SEND_TIMEOUT_S = 10  # a response write stalled this long (the client reads nothing) aborts the connection
KEEP_ALIVE_S = 5
MAX_CONNECTIONS = 1000
RESERVED_FILES = 100  # open files kept for the pools, logs and the rest when capping connections
ADMISSION_SLOTS = POOL_SIZE  # requests beyond the pool would wait for a connection, then fail
ADMISSION_QUEUE = 100
ADMISSION_WAIT_S = 5
RETRY_AFTER_S = 1
GRACEFUL_SHUTDOWN_S = 20
WEBSOCKET_INIT_TIMEOUT_S = 10  # a socket must send connection_init within this
MAX_OPERATIONS_PER_SOCKET = 100  # in flight at once on one WebSocket, subscriptions included
EXPORT_POOL_SIZE = 4  # exports streaming at once per process, each holding a connection of their own pool
EXPORTS_PER_KEY = 2  # at once per key and process: one key cannot take every export connection
EXPORT_RETRY_AFTER_S = 5  # exports last seconds to minutes: a sooner retry would find the same ones running
EXPORT_MAX_ROWS = 1_000_000  # ~230 MB of CSV, ~50 s; a spreadsheet holds 1,048,576 rows
EXPORT_DEADLINE_S = 600  # a whole export: 1,000,000 rows need a client reading 0.4 MB/s
EXPORT_STALL_S = SEND_TIMEOUT_S  # the client read nothing this long: the export ends, its cursor closed
EXPORT_IDLE_IN_TRANSACTION_MS = 60_000  # PostgreSQL's own backstop: > the longest wait between two fetches


class BodySizeLimit:
    """Refuses request bodies over `limit` bytes with 413, by Content-Length or while reading."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        await send_error(
            send, f"request body larger than {self.limit} bytes", "BAD_USER_INPUT", status=413, field="body"
        )


class BodyTooLarge(Exception):
    pass
