"""One fake upstream and one live llm-usage server proxying to it for each test module; a committed workspace
and its keys for each test. The server's wall clock is the tests': every proxied call occurs at NOW."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.addresses import AllowList
from modules.proxy import ProxySettings
from service.container import ApplicationContainer
from tests.live_server import LiveServer, LiveWorkspace, live_workspace
from tests.proxy.fake_upstream import FakeUpstream, fake_upstream
from tests.usage.genai_reading import EVENT_FIELDS

NOW = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
PROVIDER_KEY = "sk-proj-PROVIDERSECRET0123456789abcdef"  # the caller's own: it must appear nowhere of ours
FIELDS = (
    EVENT_FIELDS
    + " provider providerInstanceId occurredAt status errorType errorMessage retryCount userId sessionId taskType tags"
)


class ProxyServer(LiveServer):
    """A LiveServer whose container also takes the tests' clock (`now`) and proxy settings."""

    def __init__(self, database_url: str, proxy: ProxySettings, **settings: Any) -> None:
        super().__init__(database_url, configure=at_now, proxy=proxy, **settings)


def at_now(container: ApplicationContainer) -> None:
    container.proxy.now.override(providers.Object(lambda: NOW))


def proxy_settings(upstream: FakeUpstream, **changes: Any) -> ProxySettings:
    return ProxySettings(
        **{
            "openai_url": f"{upstream.url}/v1",
            "anthropic_url": f"{upstream.url}/v1",
            "google_url": upstream.url,
            "instance_allow": AllowList.parse(["127.0.0.1"]),  # the fake upstream's, for the instances' tests
            **changes,
        }
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as started:
        yield started


@pytest.fixture(autouse=True)
def fresh_upstream(upstream: FakeUpstream) -> None:
    upstream.received.clear()
    upstream.failures.clear()
    upstream.stall_after_first_event = False
    upstream.stream_closed.clear()
    upstream.pause_before_content_s = 0.0
    upstream.delay_s = 0.0


@pytest.fixture(scope="module")
def proxy(engine: AsyncEngine, upstream: FakeUpstream) -> Iterator[ProxyServer]:
    server = ProxyServer(engine.url.render_as_string(hide_password=False), proxy_settings(upstream))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def ws(engine: AsyncEngine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as workspace:
        yield workspace


def stored_events(server: LiveServer, ws: LiveWorkspace, count: int, timeout_s: float = 15) -> list[dict[str, Any]]:
    """The workspace's events once there are `count` of them (the recorder stores off the response path): the
    non-streamed ones first, each in the order stored; fails if there are more, or fewer in time."""
    query = f"query($ws: ID!) {{ usageEvents(filter: {{workspaceId: $ws}}, first: 500) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
    deadline = time.monotonic() + timeout_s
    while True:
        edges = server.graphql(ws.key, query, ws=ws.slug)["usageEvents"]["edges"]
        if len(edges) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.1)  # and nothing more arrives
    edges = server.graphql(ws.key, query, ws=ws.slug)["usageEvents"]["edges"]
    assert len(edges) == count, [e["node"]["requestId"] for e in edges]
    return sorted((edge["node"] for edge in reversed(edges)), key=lambda event: bool(event["streamed"]))
