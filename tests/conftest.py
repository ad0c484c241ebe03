"""One migrated PostgreSQL per test session (embedded, or a fresh database on DATABASE_URL's server);
each test runs in a transaction rolled back at its end, through the real GraphQL endpoint."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from modules.core.database import Database
from modules.core.principal import Principal, Scope
from service.app import create_app
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import asyncpg_url, start_embedded_postgres
from service.migrations import upgrade_to_head

# The fixtures' events are from 2025: accept events up to ten years old.
TEST_SETTINGS = Settings(max_event_age_days=3650)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    given = os.environ.get("DATABASE_URL")
    if not given:
        yield start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-tests-")), temporary=True)
        return
    # Never touch the data behind DATABASE_URL: tests get a database of their own on that server.
    server = make_url(asyncpg_url(given))
    name = f"llm_usage_test_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def database(engine: AsyncEngine) -> AsyncIterator[Database]:
    """A Database whose every session joins one outer transaction, rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        factory = async_sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        yield Database(engine=engine, session_factory=factory)
        await transaction.rollback()


@pytest.fixture
def container(database: Database) -> ApplicationContainer:
    container = ApplicationContainer()
    container.settings.override(providers.Object(TEST_SETTINGS))
    container.database.override(providers.Object(database))
    container.export_database.override(providers.Object(database))  # exports see the test's rows too
    return container


@pytest.fixture
async def client(container: ApplicationContainer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://llm-usage.test") as client:
        yield client


@contextmanager
def swapped(container: ApplicationContainer, provider: providers.Provider[Any], replacement: Any) -> Iterator[None]:
    """`provider` gives `replacement` inside the block; the services, built once per process, are built again
    around it on the way in and out."""
    provider.override(providers.Object(replacement))
    container.reset_singletons()
    try:
        yield
    finally:
        provider.reset_last_overriding()
        container.reset_singletons()


class GraphQLClient:
    """Posts operations to /graphql like any caller would, with its API key if it has one."""

    def __init__(self, http: httpx.AsyncClient, key: str | None = None) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def as_key(self, key: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, key)

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of a result that must have no errors."""
        result = await self.execute(query, **variables)
        assert "errors" not in result, result["errors"]
        return result["data"]

    async def error(self, query: str, **variables: Any) -> dict[str, Any]:
        """The single error of a result that must fail."""
        result = await self.execute(query, **variables)
        assert result.get("errors"), result
        assert len(result["errors"]) == 1, result["errors"]
        return result["errors"][0]


async def create_key(
    container: ApplicationContainer, *, workspace: str | None = None, scopes: tuple[Scope, ...] = (Scope.ADMIN,)
) -> str:
    """A new API key, made by the operator (the CLI's way)."""
    access = await provide(container.access.service())
    created = await access.create(Principal.system(), workspace_ref=workspace, name="tests", scopes=scopes)
    return created.secret


@pytest.fixture
async def admin_key(container: ApplicationContainer) -> str:
    return await create_key(container)


@pytest.fixture
def gql(client: httpx.AsyncClient, admin_key: str) -> GraphQLClient:
    """A client with an instance-wide ADMIN key."""
    return GraphQLClient(client, admin_key)


@pytest.fixture
async def workspace(gql: GraphQLClient) -> dict[str, str]:
    data = await gql.data('mutation { createWorkspace(input: {name: "Acme", slug: "acme"}) { id slug name } }')
    return data["createWorkspace"]


from tests.live_server import live_server, tenant  # noqa: E402, F401  (fixtures: a real server on a loopback port)
from tests.webhook_receiver import receiver  # noqa: E402, F401  (fixture: a loopback webhook receiver)
