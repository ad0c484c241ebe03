"""The Python client sends what a call said: `input=` the request, the SDK's own response object kept as the
output by `track_openai`, stored by a live server when the workspace keeps content."""

from __future__ import annotations

import httpx
from llm_usage_client import UsageTracker
from openai.types.chat import ChatCompletion

from modules.core.principal import Principal, Scope
from service.context import provide
from tests.live_server import committed_container

READ = """query($w: ID!) { usageEvents(filter: {workspaceId: $w}) { edges { node { requestId promptTokens
  conversation { messages { role side text } } } } } }"""
ANSWER = ChatCompletion.model_validate(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1764590000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Tomorrow."}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
    }
)


async def test_track_openai_sends_the_request_and_keeps_the_sdk_response_as_the_output(tenant, engine):
    container = committed_container(engine)
    access = await provide(container.access.service())
    admin = await access.create(Principal.system(), workspace_ref=tenant.slug, name="admin", scopes=[Scope.ADMIN])
    support = await access.create(
        Principal.system(), workspace_ref=tenant.slug, name="support", scopes=[Scope.READ, Scope.CONTENT]
    )
    async with httpx.AsyncClient(base_url=tenant.server.url, timeout=30) as http:
        turned_on = await http.post(
            "/graphql",
            json={"query": "mutation($w: ID!) { setContentSettings(input: {workspaceId: $w, enabled: true}) "
                  "{ enabled } }", "variables": {"w": tenant.slug}},
            headers={"Authorization": f"Bearer {admin.secret}"},
        )  # fmt: skip
        assert turned_on.json() == {"data": {"setContentSettings": {"enabled": True}}}
        tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug)
        request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "When does it ship?"}]}
        assert tracker.track_openai(ANSWER, request_id="with-content", input=request)
        assert tracker.track_openai(ANSWER, request_id="numbers-only")
        assert tracker.flush(timeout=30)
        tracker.close()
        answer = await http.post(
            "/graphql",
            json={"query": READ, "variables": {"w": tenant.slug}},
            headers={"Authorization": f"Bearer {support.secret}"},
        )
    events = {e["node"]["requestId"]: e["node"] for e in answer.json()["data"]["usageEvents"]["edges"]}
    assert events["with-content"] == {
        "requestId": "with-content",
        "promptTokens": 12,
        "conversation": {
            "messages": [
                {"role": "user", "side": "INPUT", "text": "When does it ship?"},
                {"role": "assistant", "side": "OUTPUT", "text": "Tomorrow."},
            ]
        },
    }
    assert events["numbers-only"]["conversation"] is None
