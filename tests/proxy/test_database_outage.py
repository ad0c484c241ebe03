"""PostgreSQL stopped while 100 calls go through the proxy: all 100 are answered (the key was verified before),
their usage waits in the recorder (`llm_usage_proxy_events_pending` says how many), and all 100 are stored,
once each, after PostgreSQL is back — with no restart of the server."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from dependency_injector import providers
from openai import OpenAI

from modules.core.principal import Principal, Scope
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.migrations import upgrade_to_head
from tests.proxy.conftest import PROVIDER_KEY, ProxyServer, proxy_settings
from tests.proxy.fake_upstream import FakeUpstream
from tests.test_database_restart import own_postgres

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
EVENTS = '{ usageEvents(filter: {workspaceId: "outage"}, first: 500) { totalCount edges { node { requestId promptTokens } } } }'


def metric(server: ProxyServer, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", httpx.get(f"{server.url}/metrics").text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_calls_go_through_while_postgres_is_down_and_are_all_stored_once_it_is_back(
    upstream: FakeUpstream,
) -> None:
    url, stop, start = own_postgres()
    container = ApplicationContainer()
    container.settings.override(providers.Object(Settings(database_url=url)))
    database = await provide(container.database())
    await upgrade_to_head(database.engine)
    await (await provide(container.workspaces.service())).create(Principal.system(), name="O", slug="outage")
    access = await provide(container.access.service())
    key = (
        await access.create(Principal.system(), workspace_ref="outage", name="k", scopes=[Scope.INGEST, Scope.READ])
    ).secret
    server = ProxyServer(url, proxy_settings(upstream))
    server.start()
    client = OpenAI(
        base_url=f"{server.url}/proxy/openai/v1",
        api_key=PROVIDER_KEY,
        default_headers={"X-LLM-Usage-Key": key},
        max_retries=0,
    )

    def stored() -> dict[str, Any]:
        answer = httpx.post(f"{server.url}/graphql", json={"query": EVENTS}, headers={"Authorization": f"Bearer {key}"})
        return answer.json()["data"]["usageEvents"]  # type: ignore[no-any-return]

    def wait_for(count: int) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        # the edges, not totalCount: the two are separate reads, and a batch may commit between them
        while len((found := stored())["edges"]) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return found

    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # the key, verified
        assert wait_for(1)["totalCount"] == 1
        stop()
        answered = [
            client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, extra_headers={"X-LLM-Usage-Request-Id": f"outage-{i}"}
            ).usage
            for i in range(100)
        ]
        assert [u.prompt_tokens if u else None for u in answered] == [2006] * 100
        assert metric(server, "llm_usage_proxy_events_pending") == 100
        start()
        events = wait_for(101)
        assert events["totalCount"] == 101
        ids = {e["node"]["requestId"] for e in events["edges"]}
        assert {f"outage-{i}" for i in range(100)} <= ids
        assert sum(e["node"]["promptTokens"] for e in events["edges"]) == 101 * 2006
        assert metric(server, "llm_usage_proxy_events_pending") == 0
        assert metric(server, 'llm_usage_proxy_events_total{result="stored"}') == 101
    finally:
        server.stop()
        await provide(container.shutdown_resources())
