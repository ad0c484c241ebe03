"""An export whose client reads nothing, or too slowly, ends at its deadline (live server, raw sockets): the
cursor and the transaction closed, the connection back in the exports' pool, the download visibly cut (no
last chunk); and PostgreSQL itself ends an export transaction left idle, should the deadlines not act."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from service.export_limits import ExportLimits
from tests.live_server import LiveServer, LiveWorkspace, live_workspace
from tests.usage.export_sockets import (
    LAST_CHUNK,
    Download,
    downloads,
    eventually,
    export_backends,
    export_transactions,
    fill,
    held,
)


@pytest.fixture
async def exported(engine) -> AsyncIterator[LiveWorkspace]:
    """5,000 events of 4 KB: 20 MB of CSV."""
    async with live_workspace(engine) as created:
        await fill(engine, created.id, 5000)
        yield created


@pytest.fixture
def limited(engine):
    """A live server with some export limits of the test's (shorter than service/limits.py's)."""
    started: list[LiveServer] = []

    def start(**limits: float) -> LiveServer:
        url = engine.url.render_as_string(hide_password=False)
        server = LiveServer(url, webhooks_enabled=False, export_limits=ExportLimits(**limits))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def ended_within(engine, seconds: float) -> float:
    """How long until no export transaction is open; fails after `seconds`."""
    started = time.monotonic()
    while await export_transactions(engine):
        assert time.monotonic() - started < seconds, "the export still holds its transaction"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_a_stalled_export_ends_at_its_stall_deadline_and_gives_its_connection_back(engine, limited, exported):
    server = limited(stall_s=2)
    with downloads() as opened:
        silent = Download(server.port, exported.key, f"workspaceId={exported.slug}")
        opened.append(silent)
        [pid] = await held(engine, 1)  # its cursor open, blocked on a write: held for 0.5 s already
        took = await ended_within(engine, 3)
        assert await export_backends(engine) == {pid: "idle"}  # the same connection, back in the pool
        status, _ = silent.head()
        body = silent.read_to_end()
    assert status == 200 and not body.endswith(LAST_CHUNK)  # cut: an incomplete download, not a short file
    assert body.count(b"\r\nr") < 5000
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        again = await client.get(
            "/export/usage.csv",
            params={"workspaceId": exported.slug, "to": "2025-01-01T00:01:41Z"},  # r1 to r100
            headers={"Authorization": f"Bearer {exported.key}"},
        )
    assert (again.status_code, again.text.count("\r\n")) == (200, 101)  # its slot came free too
    print(f"\nstalled export ended {took + 0.5:.1f} s after its last write (stall deadline 2 s)")


async def test_an_export_read_too_slowly_ends_at_its_whole_deadline(engine, limited, exported):
    server = limited(deadline_s=2, stall_s=10)
    with downloads() as opened:
        slow = Download(server.port, exported.key, f"workspaceId={exported.slug}")
        opened.append(slow)
        started = time.monotonic()
        slow.head()
        await eventually(lambda: export_transactions(engine), 5, "the export started")
        while await export_transactions(engine):  # 64 KB every 0.1 s: 20 MB would take 30 s; it never stalls
            assert time.monotonic() - started < 4, "the export outlived its 2 s deadline"
            slow.read(1 << 16)
            await asyncio.sleep(0.1)
        took = time.monotonic() - started
        body = slow.read_to_end()
    assert not body.endswith(LAST_CHUNK)
    assert 1.5 < took < 4, took
    print(f"\nslow download cut after {took:.1f} s (deadline 2 s), {len(body) / 1e6:.1f} MB of 20 received")


async def test_postgres_ends_an_export_transaction_left_idle_if_the_deadlines_do_not(engine, limited, exported):
    server = limited(stall_s=60, idle_in_transaction_ms=1000)  # the stall deadline would come far too late
    with downloads() as opened:
        opened.append(Download(server.port, exported.key, f"workspaceId={exported.slug}"))
        [pid] = await eventually(lambda: export_backends(engine), 5, "the export started")
        started = time.monotonic()
        while pid in await export_backends(engine):
            assert time.monotonic() - started < 4, "PostgreSQL did not end the idle export transaction"
            await asyncio.sleep(0.1)
    assert await export_transactions(engine) == {}


async def test_a_client_that_leaves_ends_its_export_at_once(engine, limited):
    """uvicorn's send returns without a word once the client is gone: the export must not read on."""
    server = limited()
    async with live_workspace(engine) as created:
        await fill(engine, created.id, 40_000, message=None)  # 10 MB: ~17,000 rows fill the buffers
        with downloads() as opened:
            leaving = Download(server.port, created.key, f"workspaceId={created.slug}")
            opened.append(leaving)
            await held(engine, 1)
            leaving.close()  # 23,000 rows left: ~3 s of formatting for no one, were they read
            took = await ended_within(engine, 1)
    print(f"\nexport of a client that left ended {took:.2f} s later")
