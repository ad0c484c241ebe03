"""Admission control through a live server on real sockets (service/admission.py): a burst far beyond the
database pool, while the database is slow, is served or refused at once with a retryable 503 (never a 500,
never a masked INTERNAL), exactly the events answered OK are stored, and the probes, WebSockets and slow
clients do not take the slots the work needs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.limits import ADMISSION_QUEUE, ADMISSION_SLOTS, RETRY_AFTER_S
from tests.live_server import LiveServer, LiveWorkspace, live_workspace, serving

TRACKS, QUERIES = 240, 80  # 320 at once: 10 run, 100 wait, the others are refused
TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { requestId } } }"
EVENT_COST = Decimal("0.000075")
ANALYTICS = """query($ws: ID!) { usageAnalytics(filter: {workspaceId: $ws}) {
  totals { calls costUsd } byModel { key metrics { calls costUsd } } } }"""


@pytest.fixture
async def server(engine) -> AsyncIterator[LiveServer]:
    # Rate limiting off: the burst comes from one key, and this is about the process, not the key.
    with serving(engine, rate_limit_per_second=None, webhooks_enabled=False) as live:
        yield live


@pytest.fixture
async def workspace_live(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


@contextlib.asynccontextmanager
async def slow_database(engine: AsyncEngine) -> AsyncIterator[None]:
    """The events table locked against writes for a while: each trackUsage waits, holding its slot and its pool
    connection, as on a database that has slowed down (when a pool runs dry)."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("LOCK TABLE usage_events IN EXCLUSIVE MODE"))  # reads go on
        try:
            yield
        finally:
            await transaction.rollback()


def track_body(workspace: LiveWorkspace, request_id: str) -> dict[str, Any]:
    fields = {"provider": "openai", "model": "gpt-4o", "promptTokens": 10, "completionTokens": 5}
    return {"query": TRACK, "variables": {"input": {"workspaceId": workspace.slug, "requestId": request_id, **fields}}}


def check_refusal(response: httpx.Response) -> None:
    """A retryable refusal in the GraphQL error shape; fails on anything else."""
    assert response.status_code in (429, 503), (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in ("UNAVAILABLE", "RATE_LIMITED"), error
    assert error["extensions"]["retryAfter"] >= 1, error
    assert int(response.headers["retry-after"]) >= 1


def check_totals(analytics: dict[str, Any]) -> None:
    """Whatever number of the burst's events it saw committed, an analytics answer counts each once, at its price
    (gpt-4o, 10 prompt tokens at $2.50 and 5 completion tokens at $10 per million: $0.000075), in one model."""
    calls = analytics["totals"]["calls"]
    assert calls in range(TRACKS + 1), analytics
    assert Decimal(analytics["totals"]["costUsd"] or 0) == EVENT_COST * calls, analytics
    by_model = [(m["key"], m["metrics"]["calls"], Decimal(m["metrics"]["costUsd"])) for m in analytics["byModel"]]
    assert by_model == ([("gpt-4o", calls, EVENT_COST * calls)] if calls else []), analytics


async def burst(
    server: LiveServer, workspace: LiveWorkspace, on_refusal: Callable[[httpx.Response], None] = lambda _: None
) -> tuple[set[str], set[str]]:
    """TRACKS trackUsage and QUERIES analytics at once, each on its own connection: the request ids of the
    events answered OK, and of those refused. Every answer is a 200 with data or a retryable refusal."""
    headers = {"Authorization": f"Bearer {workspace.key}"}
    limits = httpx.Limits(max_connections=TRACKS + QUERIES, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=60) as client:

        async def one(number: int) -> tuple[str | None, httpx.Response]:
            if number % 4 == 3:
                request_id = None
                response = await client.post("/graphql", json={"query": ANALYTICS, "variables": {"ws": workspace.slug}})
            else:
                request_id = f"burst-{number}"
                response = await client.post("/graphql", json=track_body(workspace, request_id))
            if response.status_code != 200:
                on_refusal(response)
            return request_id, response

        answers = await asyncio.gather(*(one(n) for n in range(TRACKS + QUERIES)))
    ok: set[str] = set()
    refused: set[str] = set()
    for request_id, response in answers:
        assert "INTERNAL" not in response.text, response.text
        if response.status_code != 200:
            check_refusal(response)
            if request_id is not None:
                refused.add(request_id)
            continue
        result = response.json()
        assert "errors" not in result, result
        if request_id is None:
            check_totals(result["data"]["usageAnalytics"])
        else:
            assert result["data"]["trackUsage"] == {"duplicate": False, "event": {"requestId": request_id}}
            ok.add(request_id)
    return ok, refused


async def stored_request_ids(engine: AsyncEngine, workspace: LiveWorkspace) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT request_id FROM usage_events WHERE workspace_id = :id"), {"id": workspace.id}
        )
        return [row.request_id for row in rows]


async def test_a_burst_beyond_the_pool_is_served_or_refused_at_once_and_each_answered_event_stored_once(
    engine, server, workspace_live
):
    refusing = asyncio.Event()
    reasons: list[str] = []

    def refused_one(response: httpx.Response) -> None:
        reasons.append(response.json()["errors"][0]["message"])
        refusing.set()

    async with slow_database(engine):
        answering = asyncio.create_task(burst(server, workspace_live, refused_one))
        try:  # refused while the database stalls (a loaded machine takes seconds to open 320 connections)
            await asyncio.wait_for(refusing.wait(), 30)
        except TimeoutError:
            pytest.fail("nothing refused within 30 s of a stalled database")
    ok, refused = await answering
    # at once, by the full queue, not after a pool timeout ("no database connection was free")
    assert reasons[0] == f"The server is busy; nothing was done. Retry in {RETRY_AFTER_S} s.", reasons[:3]
    assert len(ok) + len(refused) == TRACKS
    assert len(ok) >= ADMISSION_SLOTS // 2 and refused, (len(ok), len(refused))
    stored = await stored_request_ids(engine, workspace_live)
    assert sorted(stored) == sorted(ok)  # each event answered OK stored exactly once, none refused stored


async def test_the_probes_answer_at_once_while_the_queue_is_full(engine, server, workspace_live):
    refusing = threading.Event()
    probes: dict[str, tuple[int, float]] = {}

    def probe() -> None:
        """From a thread of its own: this test's event loop is too busy with the burst to time anything."""
        if not refusing.wait(30):
            return
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for path in ("/healthz", "/readyz", "/metrics"):
                started = time.monotonic()
                probes[path] = (client.get(path).status_code, time.monotonic() - started)

    prober = threading.Thread(target=probe)
    prober.start()
    async with slow_database(engine):
        answering = asyncio.create_task(burst(server, workspace_live, lambda _: refusing.set()))
        await asyncio.to_thread(prober.join)  # the probes go while the queue stays full
    await answering
    assert {path: status for path, (status, _) in probes.items()} == {"/healthz": 200, "/readyz": 200, "/metrics": 200}
    assert max(seconds for _, seconds in probes.values()) < 2, probes


async def test_open_websockets_hold_no_slot(server, workspace_live):
    """More subscription sockets than slots stay open; a query still runs at once."""
    init = json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {workspace_live.key}"}})
    sockets = []
    try:
        for _ in range(ADMISSION_SLOTS + 5):
            ws = await websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"])
            sockets.append(ws)
            await ws.send(init)
            assert json.loads(await ws.recv())["type"] == "connection_ack"
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            started = time.monotonic()
            response = await client.post(
                "/graphql",
                json={"query": ANALYTICS, "variables": {"ws": workspace_live.slug}},
                headers={"Authorization": f"Bearer {workspace_live.key}"},
            )
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < 3  # not queued behind them (a queued request waits up to 5 s)
    finally:
        for ws in sockets:
            await ws.close()


async def test_slow_bodies_hold_no_slot(server, workspace_live):
    """Clients that send a head and never their whole body wait outside the gate; a real request runs at once."""
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {workspace_live.key}\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(ADMISSION_SLOTS + ADMISSION_QUEUE + 5)]
    try:
        for connection in slow:
            connection.sendall(head + b'{"query": "')
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            started = time.monotonic()
            response = await client.post(
                "/graphql",
                json=track_body(workspace_live, "after-slow-bodies"),
                headers={"Authorization": f"Bearer {workspace_live.key}"},
            )
            assert response.json()["data"]["trackUsage"]["duplicate"] is False, response.text
            assert time.monotonic() - started < 3  # not queued behind them (a queued request waits up to 5 s)
    finally:
        for connection in slow:
            connection.close()
