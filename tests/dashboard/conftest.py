"""A real server on a loopback port with a committed workspace of seeded events, and one headless
Chromium for the whole package. Its tests are skipped, saying why, where Chromium or selenium is missing."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.dashboard.browser import Browser, missing_browser
from tests.dashboard.seed import EVENTS, RECOST_EVENT, batch
from tests.live_server import LiveServer, LiveWorkspace, live_workspace

REASON = missing_browser()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without the browser, the tests that drive it are skipped, saying why; the others still run."""
    if REASON is None:
        return
    skip = pytest.mark.skip(reason=f"dashboard browser tests skipped: {REASON}")
    for item in items:
        if "browser_session" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@dataclass
class Dashboard:
    server: LiveServer
    workspace: LiveWorkspace
    read_key: str
    ingest_key: str

    def graphql(self, query: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key or self.workspace.admin_key}"},
            timeout=30,
        )
        return response.json()

    def data(self, query: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        body = self.graphql(query, key, **variables)
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="package")
def dashboard_server(engine: AsyncEngine) -> Iterator[LiveServer]:
    server = LiveServer(engine.url.render_as_string(hide_password=False))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
async def dashboard(engine: AsyncEngine, dashboard_server: LiveServer) -> AsyncIterator[Dashboard]:
    async with live_workspace(engine) as workspace:
        admin = {"Authorization": f"Bearer {workspace.admin_key}"}
        async with httpx.AsyncClient(base_url=dashboard_server.url, headers=admin, timeout=30) as http:
            stored = (await http.post("/graphql", json=batch(workspace.slug, [*EVENTS, RECOST_EVENT]))).json()
            assert stored["data"]["trackUsageBatch"]["insertedCount"] == len(EVENTS) + 1, stored
            keys = {}
            for name, scopes in (("read", ["READ"]), ("ingest", ["INGEST"])):
                created = await http.post(
                    "/graphql",
                    json={
                        "query": "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
                        "variables": {"i": {"workspaceId": workspace.slug, "name": name, "scopes": scopes}},
                    },
                )
                keys[name] = created.json()["data"]["createApiKey"]["secret"]
        yield Dashboard(dashboard_server, workspace, keys["read"], keys["ingest"])


@pytest.fixture(scope="package")
def browser_session(dashboard_server: LiveServer) -> Iterator[Browser]:
    browser = Browser(dashboard_server.url, Path(tempfile.mkdtemp(prefix="dashboard-downloads-")))
    yield browser
    browser.quit()


@pytest.fixture
def browser(browser_session: Browser, request: pytest.FixtureRequest) -> Iterator[Browser]:
    """The package's browser; after each test, a screenshot, and no console error may have been logged."""
    browser_session.console_errors()  # drop what earlier tests left
    yield browser_session
    browser_session.screenshot(request.node.name)
    errors = browser_session.console_errors()
    assert not errors, f"console errors: {errors}"
