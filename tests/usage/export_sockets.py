"""What the export limit tests share: downloads on raw sockets whose client reads little or nothing, rows to
export, and what PostgreSQL says of the export connections (pg_stat_activity)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.principal import Principal, Scope
from service.context import provide
from service.database import EXPORT_APPLICATION_NAME
from tests.live_server import committed_container

WIDE = "x" * 4000  # an errorMessage of 4 KB: a silent client's socket buffers (~4 MB) are full after ~1,000 rows
LAST_CHUNK = b"\r\n0\r\n\r\n"  # what ends a whole chunked HTTP body
T = TypeVar("T")


class Download:
    """GET /export/usage.<format> on a raw socket with a 4 KB receive buffer; it reads only what a test asks."""

    def __init__(self, port: int, key: str, query: str, extension: str = "csv") -> None:
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.connect(("127.0.0.1", port))
        request = f"GET /export/usage.{extension}?{query} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\n\r\n"
        self.socket.sendall(request.encode())
        self.received = b""

    def head(self) -> tuple[int, dict[str, str]]:
        """The status and headers, reading a little more than them."""
        self.socket.settimeout(10)
        while b"\r\n\r\n" not in self.received:
            self.received += self.socket.recv(1024)
        head = self.received.split(b"\r\n\r\n", 1)[0].decode()
        lines = head.split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), headers

    def error(self) -> dict[str, Any]:
        """The JSON error of a refusal (after head())."""
        _, headers = self.head()
        body_start = self.received.index(b"\r\n\r\n") + 4
        while len(self.received) - body_start < int(headers["content-length"]):
            self.received += self.socket.recv(4096)
        [error] = json.loads(self.received[body_start:])["errors"]
        return error

    def read(self, size: int) -> bytes:
        chunk = self.socket.recv(size)
        self.received += chunk
        return chunk

    def read_to_end(self, timeout: float = 10) -> bytes:
        """Everything until the server closes the connection."""
        self.socket.settimeout(timeout)
        while self.read(1 << 16):
            pass
        return self.received

    def close(self) -> None:
        self.socket.close()


async def fill(
    engine: AsyncEngine, workspace_id: str, rows: int, *, message: str | None = WIDE, step_s: int = 1
) -> None:
    """`rows` events, 'r1' to 'r<rows>', at 2025-01-01 + n * step_s seconds."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, "
                "prompt_tokens, completion_tokens, total_tokens, cost_usd, cost_source, status, error_message) "
                "SELECT :w, 'r' || g, timestamptz '2025-01-01 00:00:00+00' + g * :step * interval '1 second', now(), "
                "'openai', 'gpt-4o', 10, 5, 15, 0.0001, 'CATALOG', 'SUCCESS', :message FROM generate_series(1, :n) g"
            ),
            {"w": workspace_id, "n": rows, "message": message, "step": step_s},
        )


async def read_keys(engine: AsyncEngine, workspace: str, count: int) -> list[str]:
    access = await provide(committed_container(engine).access.service())
    return [
        (
            await access.create(Principal.system(), workspace_ref=workspace, name=f"reader-{n}", scopes=[Scope.READ])
        ).secret
        for n in range(count)
    ]


async def export_transactions(engine: AsyncEngine) -> dict[int, datetime]:
    """The export connections in a transaction (a cursor open): pid → when their state last changed."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT pid, state_change FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = :name AND xact_start IS NOT NULL"
            ),
            {"name": EXPORT_APPLICATION_NAME},
        )
        return {pid: changed for pid, changed in rows.all()}


async def other_transactions(engine: AsyncEngine, settle_s: float = 5) -> int:
    """Connections of the main pools (not exports', not this one) in a transaction, once the requests just
    answered have settled: on a loaded machine a request's transaction may still be closing after its answer
    was read, while a stalled export would hold one for good."""
    deadline = time.monotonic() + settle_s
    while True:
        async with engine.connect() as connection:
            count: int = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name <> :name AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
                    ),
                    {"name": EXPORT_APPLICATION_NAME},
                )
            ).scalar_one()
        if count == 0 or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.1)


async def export_backends(engine: AsyncEngine) -> dict[int, str]:
    """Every connection of the exports' pools: pid → state ('idle' once back in the pool)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() AND application_name = :n"
            ),
            {"n": EXPORT_APPLICATION_NAME},
        )
        return {pid: state for pid, state in rows.all()}


async def transactions(engine: AsyncEngine) -> dict[int, datetime]:
    """Every connection in a transaction but this one, exports' or not: pid → when its state last changed."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT pid, state_change FROM pg_stat_activity WHERE datname = current_database() "
                "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
            )
        )
        return {pid: changed for pid, changed in rows.all()}


async def still(engine: AsyncEngine, within_s: float = 10) -> dict[int, datetime]:
    """Waits until some transactions are open and none has moved for 0.5 s (whichever pool they are on)."""
    deadline = time.monotonic() + within_s
    previous: dict[int, datetime] | None = None
    while True:
        now = await transactions(engine)
        if now and now == previous:
            return now
        assert time.monotonic() < deadline, f"{len(now)} transactions open, still moving"
        previous = now
        await asyncio.sleep(0.5)


async def held(engine: AsyncEngine, count: int, within_s: float = 10) -> dict[int, datetime]:
    """Waits until exactly `count` export transactions are open and none has moved for 0.5 s: their clients'
    buffers are full, each export waits on a blocked write with its cursor open."""
    deadline = time.monotonic() + within_s
    previous: dict[int, datetime] | None = None
    while True:
        now = await export_transactions(engine)
        if len(now) == count and now == previous:
            return now
        assert time.monotonic() < deadline, f"{len(now)} export transactions, not {count} held still"
        previous = now
        await asyncio.sleep(0.5)


async def eventually(probe: Callable[[], Awaitable[T]], within_s: float, what: str) -> T:
    """The first truthy answer of `probe`, asked every 50 ms; fails naming `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    while not (answer := await probe()):
        assert time.monotonic() < deadline, f"not within {within_s} s: {what}"
        await asyncio.sleep(0.05)
    return answer


@contextmanager
def downloads() -> Iterator[list[Download]]:
    """Downloads closed at the end (before the server stops: it would wait for them)."""
    opened: list[Download] = []
    try:
        yield opened
    finally:
        for download in opened:
            download.close()
