"""Which upstream a proxy path goes to: `/proxy/openai/v1/…`, `/proxy/anthropic/v1/…`, `/proxy/google/…`,
or `/proxy/instances/<id>/…` (a provider instance's own base URL, spoken as OpenAI's API)."""

from __future__ import annotations

from dataclasses import dataclass

from modules.proxy.apis import Api
from modules.proxy.error_shapes import ProxyRefusal, Refusal

PREFIXES = {b"/proxy/openai/v1/": Api.OPENAI, b"/proxy/anthropic/v1/": Api.ANTHROPIC, b"/proxy/google/": Api.GOOGLE}
INSTANCES = b"/proxy/instances/"


@dataclass(frozen=True)
class ProxyRoute:
    api: Api
    path: bytes  # relative to the upstream's base URL, as the caller sent it (percent-encoding kept)
    instance: str | None = None  # a provider instance's id as given

    @property
    def provider(self) -> str:
        return self.api.value


def route_of(raw_path: bytes) -> ProxyRoute:
    for prefix, api in PREFIXES.items():
        if raw_path.startswith(prefix):
            return ProxyRoute(api=api, path=raw_path[len(prefix) :])
    if raw_path.startswith(INSTANCES):
        reference, _, rest = raw_path[len(INSTANCES) :].partition(b"/")
        if reference:
            return ProxyRoute(api=Api.OPENAI, path=rest, instance=reference.decode("latin-1"))
    raise ProxyRefusal(
        Refusal.NOT_FOUND,
        "no such proxy route: /proxy/openai/v1/…, /proxy/anthropic/v1/…, /proxy/google/… or /proxy/instances/<id>/…",
    )


def api_of(raw_path: bytes) -> Api:
    """The API whose error shape a refusal of `raw_path` takes (OpenAI's when the path names none)."""
    for prefix, api in PREFIXES.items():
        if raw_path.startswith(prefix):
            return api
    return Api.OPENAI
