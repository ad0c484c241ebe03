"""Idle and slow connections against a live server on real sockets (service/connections.py): hundreds of them
deny service to no one, each is closed at its deadline, and at the connection cap the longest-idle makes way."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from service.connections import connection_cap
from service.limits import BODY_TIMEOUT_S, HEAD_TIMEOUT_S, KEEP_ALIVE_S, SEND_TIMEOUT_S
from service.server import server_config
from tests.live_server import LiveServer, LiveWorkspace, free_port, live_workspace

TRACK = """mutation($ws: ID!) { trackUsage(input: {workspaceId: $ws, provider: "openai", model: "gpt-4o",
  promptTokens: 1, completionTokens: 1}) { duplicate } }"""


@pytest.fixture
async def workspace_live(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


class Attack:
    """Connections that send nothing, a head a header at a time (slow loris), or a body a byte at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[socket.socket] = []
        self.loris: list[socket.socket] = []
        self.slow_bodies: list[socket.socket] = []
        self.trickling: asyncio.Task[None] | None = None

    def open(self, idle: int, loris: int, slow_bodies: int) -> None:
        self.idle = [self.connect() for _ in range(idle)]
        self.loris = [self.connect(b"GET /healthz HTTP/1.1\r\nHost: x\r\n") for _ in range(loris)]
        head = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        self.slow_bodies = [self.connect(head + b'{"query": "') for _ in range(slow_bodies)]
        self.trickling = asyncio.create_task(self.trickle())

    def connect(self, first: bytes = b"") -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port))
        if first:
            connection.sendall(first)
        return connection

    async def trickle(self) -> None:
        """Every second a header line to each loris and a byte of body to each slow body: never idle."""
        while True:
            await asyncio.sleep(1)
            for group, data in ((self.loris, b"X-Loris: 1\r\n"), (self.slow_bodies, b" ")):
                for connection in group:
                    with contextlib.suppress(OSError):
                        connection.send(data)

    def close(self) -> None:
        if self.trickling is not None:
            self.trickling.cancel()
        for connection in self.idle + self.loris + self.slow_bodies:
            connection.close()


@pytest.fixture
async def attack(live_server: LiveServer) -> AsyncIterator[Attack]:
    attack = Attack(live_server.port)
    yield attack
    attack.close()


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closed it (end of stream or reset); whatever it sent before is read and dropped."""
    connection.setblocking(False)
    try:
        while data := connection.recv(65536):
            del data
        return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=30)
    return response.status_code, time.monotonic() - started


async def test_hundreds_of_idle_and_slow_connections_deny_service_to_no_one(live_server, attack, workspace_live):
    attack.open(idle=500, loris=100, slow_bodies=50)
    await asyncio.sleep(0.3)  # all accepted
    status, seconds = await asyncio.to_thread(timed_get, f"{live_server.url}/healthz")
    assert (status, seconds < 1) == (200, True), (status, seconds)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        response = await client.post(
            "/graphql",
            json={"query": TRACK, "variables": {"ws": workspace_live.slug}},
            headers={"Authorization": f"Bearer {workspace_live.key}"},
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"trackUsage": {"duplicate": False}}}
    assert time.monotonic() - started < 1


async def test_idle_and_slow_connections_are_closed_at_their_deadlines(live_server, attack):
    """Idle and slow-loris connections at HEAD_TIMEOUT_S, a body that never ends at BODY_TIMEOUT_S, a
    keep-alive connection idle after its response at KEEP_ALIVE_S."""
    kept_alive = socket.create_connection(("127.0.0.1", live_server.port))
    kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert kept_alive.recv(65536).startswith(b"HTTP/1.1 200")
    attack.open(idle=300, loris=100, slow_bodies=50)
    opened = time.monotonic()

    await asyncio.sleep(KEEP_ALIVE_S + 1 - (time.monotonic() - opened))
    assert closed_by_server(kept_alive)
    kept_alive.close()
    assert not any(closed_by_server(c) for c in attack.idle[:10]), "closed before the head deadline"

    deadline = opened + max(HEAD_TIMEOUT_S, BODY_TIMEOUT_S) + 2
    groups = {"idle": attack.idle, "slow loris": attack.loris, "slow body": attack.slow_bodies}
    while True:
        still_open = {name: sum(not closed_by_server(c) for c in group) for name, group in groups.items()}
        if not any(still_open.values()) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    assert still_open == {"idle": 0, "slow loris": 0, "slow body": 0}


async def test_at_the_connection_cap_the_longest_idle_connection_makes_way(live_server, workspace_live):
    cap = connection_cap()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * cap + 200:  # this process holds both ends of every connection
        pytest.skip(f"{soft} open files allowed; {2 * cap + 200} needed")
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {workspace_live.key}\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    busy = [socket.create_connection(("127.0.0.1", live_server.port)) for _ in range(5)]  # the oldest
    idle: list[socket.socket] = []
    try:
        for connection in busy:
            connection.sendall(head + b'{"query": "')  # a request in flight: its body is on its way
        await asyncio.sleep(0.1)
        idle = [socket.create_connection(("127.0.0.1", live_server.port)) for _ in range(cap - len(busy))]
        await asyncio.sleep(0.3)
        assert not any(closed_by_server(c) for c in busy + idle), "closed before the cap was passed"

        status, _ = await asyncio.to_thread(timed_get, f"{live_server.url}/healthz")
        await asyncio.sleep(0.1)  # the evicted connection's end of stream on its way
        assert status == 200
        assert [closed_by_server(c) for c in busy] == [False] * len(busy)  # requests in flight are kept
        assert closed_by_server(idle[0])  # the longest idle made way
        assert not any(closed_by_server(c) for c in idle[1:])
    finally:
        for connection in busy + idle:
            connection.close()


class BigResponse:
    """An app that answers 64 MiB and notes when its last write returned (the server gave up on the client)."""

    def __init__(self) -> None:
        self.finished = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"67108864")]})
        chunk = b"\0" * (1024 * 1024)
        for _ in range(63):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": chunk})
        self.finished.set()


@pytest.fixture
def big_response_server() -> Iterator[tuple[int, BigResponse]]:
    """The real server settings around an app of the test's own: only it can answer a response that big."""
    app, port = BigResponse(), free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield port, app
    server.should_exit = True
    thread.join(10)


async def test_a_client_that_stops_reading_is_cut_off_at_the_send_deadline(big_response_server):
    port, app = big_response_server
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(("127.0.0.1", port))
    try:
        reader.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not await asyncio.to_thread(app.finished.wait, 1), "the response did not stall"
        assert await asyncio.to_thread(app.finished.wait, SEND_TIMEOUT_S + 2), "the stalled write never ended"
    finally:
        reader.close()
