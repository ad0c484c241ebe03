"""Exports cannot take the server from other tenants (live server, raw sockets): they run on a pool of their
own, a few at once per process and two per key, and one export gives at most EXPORT_MAX_ROWS events, saying
where to split a range that holds more."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.export_limits import ExportLimits
from service.limits import EXPORT_POOL_SIZE, EXPORT_RETRY_AFTER_S, EXPORTS_PER_KEY
from tests.live_server import LiveServer, LiveWorkspace, live_workspace
from tests.usage.export_sockets import Download, downloads, fill, held, other_transactions, read_keys, still

TRACK = """mutation($ws: ID!, $id: String!) { trackUsage(input: {workspaceId: $ws, requestId: $id,
  provider: "openai", model: "gpt-4o", promptTokens: 7, completionTokens: 3}) { duplicate } }"""
TOTALS = "query($ws: ID!) { usageAnalytics(filter: {workspaceId: $ws}) { totals { calls promptTokens } } }"


def serve(engine: AsyncEngine, **limits: float) -> LiveServer:
    url = engine.url.render_as_string(hide_password=False)
    server = LiveServer(url, rate_limit_per_second=None, webhooks_enabled=False, export_limits=ExportLimits(**limits))
    server.start()
    return server


@pytest.fixture
async def server(engine) -> AsyncIterator[LiveServer]:
    live = serve(engine)
    yield live
    live.stop()


@pytest.fixture
async def exported(engine) -> AsyncIterator[LiveWorkspace]:
    """A workspace of 5,000 events of 4 KB each: 20 MB of CSV, far more than a silent client's buffers."""
    async with live_workspace(engine) as created:
        await fill(engine, created.id, 5000)
        yield created


async def timed(client: httpx.AsyncClient, query: str, **variables: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    return time.perf_counter() - started, response


async def test_exports_that_never_read_leave_other_workspaces_their_queries(engine, server, exported):
    keys = await read_keys(engine, exported.slug, 25)  # one key each: the per-key limit is not what saves us
    async with live_workspace(engine) as first, live_workspace(engine) as second, live_workspace(engine) as third:
        with downloads() as silent:
            silent += [Download(server.port, key, f"workspaceId={exported.slug}") for key in keys]
            await still(engine)  # the exports that got a connection hold it, blocked on a write
            latencies: list[float] = []
            for tenant in (first, second, third):
                headers = {"Authorization": f"Bearer {tenant.key}"}
                async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
                    took, tracked = await timed(client, TRACK, ws=tenant.slug, id="while-exports-stall")
                    assert tracked.status_code == 200 and tracked.json() == {
                        "data": {"trackUsage": {"duplicate": False}}
                    }
                    latencies.append(took)
                    took, totals = await timed(client, TOTALS, ws=tenant.slug)
                    assert totals.status_code == 200, totals.text
                    assert totals.json()["data"]["usageAnalytics"]["totals"] == {"calls": 1, "promptTokens": 7}
                    latencies.append(took)
            assert len(await held(engine, EXPORT_POOL_SIZE)) == EXPORT_POOL_SIZE  # 4 held all along, 21 refused
            assert await other_transactions(engine) == 0  # none of them on the pool queries use
            heads = [download.head() for download in silent]
            refusals = [download.error() for download, (status, _) in zip(silent, heads, strict=True) if status != 200]
    print(f"\n6 queries with 25 silent exports: slowest {max(latencies):.3f} s")
    assert max(latencies) < 2, latencies
    assert Counter(status for status, _ in heads) == {200: EXPORT_POOL_SIZE, 503: 25 - EXPORT_POOL_SIZE}
    assert {headers.get("retry-after") for status, headers in heads if status == 503} == {str(EXPORT_RETRY_AFTER_S)}
    assert {(e["extensions"]["code"], e["extensions"]["retryAfter"]) for e in refusals} == {
        ("UNAVAILABLE", EXPORT_RETRY_AFTER_S)
    }


async def test_a_key_runs_two_exports_at_once_and_the_third_is_refused_429(engine, server, exported):
    key, other_key = await read_keys(engine, exported.slug, 2)
    empty = f"workspaceId={exported.slug}&to=2024-01-01T00:00:00Z"  # no events: an export of a header row
    with downloads() as silent:
        silent += [Download(server.port, key, f"workspaceId={exported.slug}") for _ in range(EXPORTS_PER_KEY)]
        await held(engine, EXPORTS_PER_KEY)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            third = await client.get(f"/export/usage.csv?{empty}", headers={"Authorization": f"Bearer {key}"})
            other = await client.get(f"/export/usage.csv?{empty}", headers={"Authorization": f"Bearer {other_key}"})
            assert third.status_code == 429, third.text
            assert third.headers["retry-after"] == str(EXPORT_RETRY_AFTER_S)
            [error] = third.json()["errors"]
            assert (error["extensions"]["code"], error["extensions"]["retryAfter"]) == ("RATE_LIMITED", 5)
            assert (other.status_code, other.text.count("\r\n")) == (200, 1)
            for download in silent:
                download.close()  # the client leaves: its exports end, their slots come free
            await held(engine, 0)
            again = await client.get(f"/export/usage.csv?{empty}", headers={"Authorization": f"Bearer {key}"})
            assert again.status_code == 200, again.text


async def test_an_export_over_the_row_limit_is_refused_naming_where_to_split(engine):
    server = serve(engine, max_rows=1000)
    try:
        async with live_workspace(engine) as created:
            await fill(engine, created.id, 1500, message="ok")  # r<n> at 2025-01-01 00:00:00 + n s
            headers = {"Authorization": f"Bearer {created.key}"}
            async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
                for extension in ("csv", "jsonl"):
                    refused = await client.get(f"/export/usage.{extension}", params={"workspaceId": created.slug})
                    assert refused.status_code == 400
                    [error] = refused.json()["errors"]
                    found = {name: error["extensions"][name] for name in ("code", "field", "splitAt", "maxRows")}
                    # r1001's time: r1 to r1000 come before it
                    assert found == {
                        "code": "BAD_USER_INPUT",
                        "field": "to",
                        "splitAt": "2025-01-01T00:16:41Z",
                        "maxRows": 1000,
                    }
                split = error["extensions"]["splitAt"]
                before = await client.get("/export/usage.csv", params={"workspaceId": created.slug, "to": split})
                after = await client.get("/export/usage.csv", params={"workspaceId": created.slug, "from": split})
        assert (before.status_code, after.status_code) == (200, 200)
        ids = [[row["requestId"] for row in csv.DictReader(io.StringIO(r.text, newline=""))] for r in (before, after)]
        assert (len(ids[0]), len(ids[1])) == (1000, 500)  # exactly the limit passes
        assert ids[0] + ids[1] == [f"r{n}" for n in range(1, 1501)]
    finally:
        server.stop()


async def test_more_events_than_the_limit_at_one_instant_are_refused_without_a_split(engine):
    server = serve(engine, max_rows=1000)
    try:
        async with live_workspace(engine) as created:
            await fill(engine, created.id, 1001, message=None, step_s=0)
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                response = await client.get(
                    "/export/usage.jsonl",
                    params={"workspaceId": created.slug},
                    headers={"Authorization": f"Bearer {created.key}"},
                )
        [error] = response.json()["errors"]
        assert (response.status_code, error["extensions"]["field"], "splitAt" in error["extensions"]) == (
            400,
            "to",
            False,
        )
    finally:
        server.stop()
