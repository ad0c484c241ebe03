"""The pass-through proxy: `/proxy/openai/v1/…`, `/proxy/anthropic/v1/…`, `/proxy/google/…` and
`/proxy/instances/<id>/…` forwarded to the provider with the caller's own key, every call with usage recorded
through the usage module's ingest."""

from modules.proxy.container import ProxyContainer
from modules.proxy.forwarding import ProxyEndpoint
from modules.proxy.instance_addresses import PROXY_ALLOW_HOSTS_VARIABLE
from modules.proxy.recorder import UsageRecorder
from modules.proxy.upstreams import ProxySettings, UpstreamClients

__all__ = [
    "PROXY_ALLOW_HOSTS_VARIABLE",
    "ProxyContainer",
    "ProxyEndpoint",
    "ProxySettings",
    "UpstreamClients",
    "UsageRecorder",
]
