"""make serve on an empty database creates the default workspace and two keys, shown once."""

from __future__ import annotations

import re

from modules.core.principal import Principal
from service.bootstrap import first_start
from service.context import provide

TRACK = """mutation { trackUsage(input: {workspaceId: "default", provider: "openai", model: "gpt-4o",
  promptTokens: 10, completionTokens: 1}) { duplicate } }"""


async def run_first_start(container) -> str | None:
    return await first_start(
        access=await provide(container.access.service()),
        workspaces=await provide(container.workspaces.service()),
        graphql_url="http://127.0.0.1:8000/graphql",
    )


async def test_keys_are_printed_on_the_first_start_only(client, container):
    from tests.conftest import GraphQLClient

    message = await run_first_start(container)
    assert message is not None
    admin, ingest = re.findall(r"llmu_[A-Za-z0-9_-]{43}", message)[:2]
    assert f'{{"Authorization": "Bearer {admin}"}}' in message
    assert await run_first_start(container) is None

    admin_client, ingest_client = GraphQLClient(client, admin), GraphQLClient(client, ingest)
    assert (await admin_client.data("{ workspaces { slug } }"))["workspaces"] == [{"slug": "default"}]
    assert (await ingest_client.data(TRACK))["trackUsage"]["duplicate"] is False
    assert (await ingest_client.error("{ workspaces { slug } }"))["extensions"]["code"] == "FORBIDDEN"


async def test_workspaces_without_any_key_get_a_hint_not_new_keys(container):
    workspaces = await provide(container.workspaces.service())
    await workspaces.create(Principal.system(), name="Old", slug="old")
    message = await run_first_start(container)
    assert message is not None and "create-api-key --admin" in message and "llmu_" not in message
