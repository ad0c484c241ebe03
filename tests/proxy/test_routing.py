"""Where a proxied path goes: the caller's path and query kept as sent, after the upstream's base URL (and an
instance base URL's own query, e.g. Azure's api-version); which calls carry usage."""

from __future__ import annotations

import pytest

from modules.proxy.apis import Api, Reader, usage_endpoint
from modules.proxy.error_shapes import ProxyRefusal
from modules.proxy.routes import route_of
from modules.proxy.upstreams import joined
from service.config import Settings


def test_the_upstream_url_keeps_the_callers_path_and_query_as_sent() -> None:
    assert joined("https://api.openai.com/v1", b"files/file%2Fx", b"purpose=batch") == (
        "https://api.openai.com/v1/files/file%2Fx?purpose=batch"
    )
    assert joined(
        "https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21", b"chat/completions", b""
    ) == ("https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21")
    assert joined("https://h/v1/", b"/models", b"a=1") == "https://h/v1/models?a=1"


def test_routes() -> None:
    assert route_of(b"/proxy/openai/v1/chat/completions").api is Api.OPENAI
    assert route_of(b"/proxy/anthropic/v1/messages").path == b"messages"
    assert route_of(b"/proxy/google/v1beta/models/m:generateContent").path == b"v1beta/models/m:generateContent"
    instance = route_of(b"/proxy/instances/5a3c/chat/completions")
    assert (instance.api, instance.instance, instance.path) == (Api.OPENAI, "5a3c", b"chat/completions")
    with pytest.raises(ProxyRefusal) as refused:
        route_of(b"/proxy/mistral/v1/chat")
    assert refused.value.status == 404


def test_which_calls_carry_usage() -> None:
    assert usage_endpoint(Api.OPENAI, "POST", "chat/completions").reader is Reader.CHAT  # type: ignore[union-attr]
    assert usage_endpoint(Api.OPENAI, "GET", "chat/completions") is None
    assert usage_endpoint(Api.OPENAI, "POST", "files") is None
    assert usage_endpoint(Api.ANTHROPIC, "POST", "messages/count_tokens") is None
    gemini = usage_endpoint(Api.GOOGLE, "POST", "v1beta/models/gemini-2.5-flash:streamGenerateContent")
    assert gemini is not None and (gemini.model_in_path, gemini.streamed_by_path) == ("gemini-2.5-flash", True)


def test_the_upstreams_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "LLM_USAGE_PROXY_OPENAI_URL": "http://vllm.internal:8000/v1",
            "LLM_USAGE_PROXY_TIMEOUT_S": "30",
        }
    ).proxy
    assert (settings.openai_url, settings.anthropic_url, settings.google_url) == (
        "http://vllm.internal:8000/v1",
        "https://api.anthropic.com/v1",
        "https://generativelanguage.googleapis.com",
    )
    assert (settings.read_timeout_s, settings.connect_timeout_s) == (30.0, 10.0)
