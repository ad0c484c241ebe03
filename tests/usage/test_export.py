"""Export: streamed CSV and JSON Lines with every stored field; the same numbers as usageAnalytics."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from dependency_injector import providers
from sqlalchemy import text

from modules.core.principal import Scope
from modules.usage.export.formats import COLUMNS
from service.app import create_app
from service.container import ApplicationContainer
from service.database import connect
from tests.conftest import create_key
from tests.documents import TRACK_BATCH
from tests.usage import dataset
from tests.usage.dataset import Event

TOTALS = (
    """query($f: UsageFilter!) { usageAnalytics(filter: $f) { totals { calls promptTokens totalTokens costUsd } } }"""
)


@pytest.fixture
async def events(gql, workspace) -> list[Event]:
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    events = dataset.make_events(("acme", "beta"))
    await gql.data(TRACK_BATCH, inputs=[e.as_input() for e in events])
    return [e for e in events if e.workspace == "acme"]


def parse_csv(body: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(body, newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


async def test_csv_export_round_trips_to_the_same_sums(client, gql, events):
    response = await client.get("/export/usage.csv", params={"workspaceId": "acme"}, headers=gql.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="usage-acme-start-now.csv"'
    assert response.text.count("\r\n") == len(events) + 1
    header, rows = parse_csv(response.text)
    assert header == list(COLUMNS)
    assert len(rows) == len(events)
    totals = (await gql.data(TOTALS, f={"workspaceId": "acme"}))["usageAnalytics"]["totals"]
    assert sum(int(r["promptTokens"]) for r in rows) == totals["promptTokens"]
    assert sum(int(r["totalTokens"]) for r in rows) == totals["totalTokens"]
    assert sum(Decimal(r["costUsd"] or "0") for r in rows) == Decimal(totals["costUsd"])
    first = min(events, key=lambda e: (e.occurred_at, e.request_id))
    row = next(r for r in rows if r["requestId"] == first.request_id)
    assert (row["occurredAt"], row["status"], json.loads(row["tags"])) == (
        first.occurred_at.isoformat(),
        "ERROR" if first.error else "SUCCESS",
        first.tags,
    )
    assert [r["occurredAt"] for r in rows] == sorted(r["occurredAt"] for r in rows)


async def test_jsonl_export_with_a_filter(client, gql, events):
    params = [
        ("workspaceId", "acme"),
        ("from", "2025-06-02T00:00:00Z"),
        ("models", "gpt-4o"),
        ("models", "gpt-4o-mini"),
        ("tag", "env:prod"),
    ]
    response = await client.get("/export/usage.jsonl", params=params, headers=gql.headers)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="usage-acme-20250602T000000Z-now.jsonl"'
    records = [json.loads(line) for line in response.text.splitlines()]
    expected = [
        e
        for e in events
        if e.occurred_at >= dataset.DAY_TWO and e.model in ("gpt-4o", "gpt-4o-mini") and e.tags.get("env") == "prod"
    ]
    assert sorted(r["requestId"] for r in records) == sorted(e.request_id for e in expected)
    by_id = {r["requestId"]: r for r in records}
    assert {
        e.request_id: (by_id[e.request_id]["promptTokens"], Decimal(by_id[e.request_id]["costUsd"])) for e in expected
    } == {
        e.request_id: (e.prompt, e.cost) for e in expected
    }  # JSON numbers for tokens, exact decimal strings for money
    assert {type(r["costUsd"]) for r in records} == {str}


async def test_export_url_gives_the_same_download(client, gql, events):
    url = (
        await gql.data(
            '{ exportUrl(filter: {workspaceId: "acme", userIds: ["alice"], to: "2025-06-02T00:00:00Z"}, format: CSV) }'
        )
    )["exportUrl"]
    parts = urlsplit(url)
    assert parts.path == "/export/usage.csv"
    response = await client.get(f"{parts.path}?{parts.query}", headers=gql.headers)
    _, rows = parse_csv(response.text)
    assert sorted(r["requestId"] for r in rows) == sorted(
        e.request_id for e in events if e.user_id == "alice" and e.occurred_at < dataset.DAY_TWO
    )


async def test_export_refusals_are_typed(client, gql, events, container):
    cases: list[tuple[dict[str, Any], dict[str, str], int, str]] = [
        ({"workspaceId": "acme"}, {}, 401, "UNAUTHENTICATED"),
        ({"workspaceId": "acme", "from": "yesterday"}, gql.headers, 400, "BAD_USER_INPUT"),
        ({"workspaceId": "acme", "colour": "red"}, gql.headers, 400, "BAD_USER_INPUT"),
        ({}, gql.headers, 400, "BAD_USER_INPUT"),
    ]
    reader = await create_key(container, workspace="beta", scopes=(Scope.READ,))
    cases.append(({"workspaceId": "acme"}, {"Authorization": f"Bearer {reader}"}, 403, "FORBIDDEN"))
    for params, headers, status, code in cases:
        response = await client.get("/export/usage.csv", params=params, headers=headers)
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (status, code), params
    assert (
        await client.get("/export/usage.xml", params={"workspaceId": "acme"}, headers=gql.headers)
    ).status_code == 404


async def test_a_200k_row_export_streams_in_bounded_memory(container, gql, workspace, database):
    async with database.session_factory() as session:
        await session.execute(
            text(
                "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, "
                "prompt_tokens, completion_tokens, total_tokens, cost_usd, cost_source, status, tags) "
                "SELECT :w, 'r' || g, timestamptz '2025-01-01' + g * interval '1 second', now(), 'openai', 'gpt-4o', "
                "g % 1000, 10, g % 1000 + 10, 0.0001, 'CATALOG', 'SUCCESS', '{\"feature\": \"bulk\"}' "
                "FROM generate_series(1, 200000) AS g"
            ),
            {"w": workspace["id"]},
        )
        await session.commit()
    app = create_app(container)
    process = psutil.Process()
    idle_rss = process.memory_info().rss
    sent = {"bytes": 0, "lines": 0, "status": 0, "peak_rss": idle_rss}
    requested, finished = asyncio.Event(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:  # a client that reads and discards, like curl > file
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["bytes"] += len(message.get("body", b""))
            sent["lines"] += message.get("body", b"").count(b"\n")
            sent["peak_rss"] = max(sent["peak_rss"], process.memory_info().rss)
            if not message.get("more_body", False):
                finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/export/usage.csv",
        "raw_path": b"/export/usage.csv",
        "query_string": b"workspaceId=acme",
        "headers": [(b"authorization", gql.headers["Authorization"].encode()), (b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "root_path": "",
    }
    started = time.perf_counter()
    await app(scope, receive, send)
    seconds = time.perf_counter() - started
    growth = sent["peak_rss"] - idle_rss
    assert (sent["status"], sent["lines"]) == (200, 200_001)
    assert sent["bytes"] > 40_000_000  # 200K rows of ~200 bytes went through ...
    assert growth < 50_000_000, f"RSS grew {growth / 1e6:.1f} MB"  # ... without being held at once
    print(f"\n200K-row CSV export: {sent['bytes'] / 1e6:.1f} MB in {seconds:.1f} s, RSS +{growth / 1e6:.1f} MB")


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("from=0001-01-01T00:00:00%2B14:00", 400, "BAD_USER_INPUT", "from"),
        ("to=9999-12-31T23:59:59-14:00", 400, "BAD_USER_INPUT", "to"),
        ("userId=%00", 400, "BAD_USER_INPUT", "userId"),
        ("models=%ED%A0%80", 200, None, None),  # a lone surrogate's bytes arrive as U+FFFD: a name like any other
        ("bogus=1", 400, "BAD_USER_INPUT", "bogus"),
    ],
)
def test_hostile_export_parameters_get_a_status_and_json_never_a_5xx_or_a_cut_body(tenant, query, status, code, field):
    response = httpx_get(tenant, f"/export/usage.csv?workspaceId={tenant.slug}&{query}")
    assert response.status_code == status, response.text[:300]
    if code is None:
        assert response.text.count("\r\n") == 1  # the header row, whole
        return
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (code, field)


def test_a_nul_workspace_id_is_refused_naming_it(tenant):
    response = httpx_get(tenant, "/export/usage.jsonl?workspaceId=%00")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"] == "workspaceId"


async def test_a_rate_limited_export_answers_429_with_retry_after(client, gql, workspace):
    created = await gql.data(
        'mutation { createApiKey(input: {workspaceId: "acme", name: "slow", scopes: [READ], rateLimitPerSecond: 0.5})'
        " { secret } }"
    )
    headers = {"Authorization": f"Bearer {created['createApiKey']['secret']}"}
    first = await client.get("/export/usage.csv?workspaceId=acme", headers=headers)
    limited = await client.get("/export/usage.csv?workspaceId=acme", headers=headers)
    assert first.status_code == 200
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_an_export_without_a_database_answers_503_not_500(gql, tmp_path):
    dead = connect(f"postgresql+asyncpg://postgres@/postgres?host={tmp_path}")
    container = ApplicationContainer()
    container.database.override(providers.Object(dead))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(container)), base_url="http://x") as c:
        response = await c.get("/export/usage.csv?workspaceId=acme", headers=gql.headers)
    await dead.engine.dispose()
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


def httpx_get(tenant, path: str) -> httpx.Response:
    return httpx.get(f"{tenant.server.url}{path}", headers={"Authorization": f"Bearer {tenant.key}"}, timeout=30)
