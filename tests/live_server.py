"""A real llm-usage server on a loopback port, in a thread, over the test database (committed data: each
test gets a workspace of its own, deleted afterwards), and keys for it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from modules.core.database import Database
from modules.core.principal import Principal, Scope
from service.app import create_app
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.server import server_config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """uvicorn serving the real app with the real server settings (service/server.py); stop() and start()
    again on the same port, as a restart would."""

    def __init__(
        self, database_url: str, configure: Callable[[ApplicationContainer], None] | None = None, **settings: Any
    ) -> None:
        self.database_url = database_url
        self.configure = configure  # more overrides of the container (a test's clock), after the settings'
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        container = ApplicationContainer()
        container.settings.override(
            providers.Object(Settings(database_url=self.database_url, max_event_age_days=3650, **self.settings))
        )
        if self.configure is not None:
            self.configure(container)
        config = server_config(create_app(container), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def graphql(self, key: str, query: str, **variables: Any) -> dict[str, Any]:
        """The answer's data over HTTP with `key`; fails on errors or a status other than 200."""
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(20)


@dataclass
class Tenant:
    slug: str
    key: str
    server: LiveServer

    def totals(self) -> dict[str, Any]:
        query = f'{{ usageAnalytics(filter: {{workspaceId: "{self.slug}"}}) {{ totals {{ calls promptTokens }} }} }}'
        response = httpx.post(
            f"{self.server.url}/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )
        return response.json()["data"]["usageAnalytics"]["totals"]

    def events(self) -> list[dict[str, Any]]:
        query = (
            f'{{ usageEvents(filter: {{workspaceId: "{self.slug}"}}, first: 500) '
            "{ edges { node { requestId promptTokens status errorType durationMs timeToFirstTokenMs model "
            "cachedPromptTokens cacheWriteTokens } } } }"
        )
        response = httpx.post(
            f"{self.server.url}/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )
        return [e["node"] for e in response.json()["data"]["usageEvents"]["edges"]]


@contextlib.contextmanager
def serving(engine: AsyncEngine, **settings: Any) -> Iterator[LiveServer]:
    """A live server over the test database, with `settings`, for the `with` block (or a fixture's life)."""
    server = LiveServer(engine.url.render_as_string(hide_password=False), **settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server(engine: AsyncEngine) -> Iterator[LiveServer]:
    with serving(engine) as server:
        yield server


@dataclass
class LiveWorkspace:
    """A committed workspace with an ADMIN key and an INGEST + READ key."""

    slug: str
    id: str
    admin_key: str
    key: str


def committed_container(engine: AsyncEngine) -> ApplicationContainer:
    """A container whose writes commit (for data a live server must see)."""
    container = ApplicationContainer()
    container.database.override(providers.Object(Database(engine=engine, session_factory=async_sessionmaker(engine))))
    return container


@contextlib.asynccontextmanager
async def live_workspace(engine: AsyncEngine) -> AsyncIterator[LiveWorkspace]:
    container = committed_container(engine)
    slug = f"live-{uuid.uuid4().hex[:8]}"
    workspace = await (await provide(container.workspaces.service())).create(Principal.system(), name=slug, slug=slug)
    access = await provide(container.access.service())
    admin = await access.create(Principal.system(), workspace_ref=slug, name="admin", scopes=[Scope.ADMIN])
    caller = await access.create(Principal.system(), workspace_ref=slug, name="app", scopes=[Scope.INGEST, Scope.READ])
    try:
        yield LiveWorkspace(slug=slug, id=str(workspace.id), admin_key=admin.secret, key=caller.secret)
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM workspaces WHERE slug = :slug"), {"slug": slug})


@pytest.fixture
async def tenant(engine: AsyncEngine, live_server: LiveServer) -> AsyncIterator[Tenant]:
    container = ApplicationContainer()
    container.database.override(providers.Object(Database(engine=engine, session_factory=async_sessionmaker(engine))))
    slug = f"client-{uuid.uuid4().hex[:8]}"
    workspaces = await provide(container.workspaces.service())
    await workspaces.create(Principal.system(), name="Client tests", slug=slug)
    access = await provide(container.access.service())
    created = await access.create(
        Principal.system(), workspace_ref=slug, name="client", scopes=[Scope.INGEST, Scope.READ]
    )
    yield Tenant(slug=slug, key=created.secret, server=live_server)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM workspaces WHERE slug = :slug"), {"slug": slug})
