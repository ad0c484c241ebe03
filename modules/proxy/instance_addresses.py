"""Where a provider instance's base URL may take the proxy. A workspace ADMIN sets that URL, so without a check
the proxy would fetch the server's own network for them (the cloud metadata service, an internal admin page)
and hand back the answer. The same policy as webhooks (modules/core/addresses.py): public addresses only,
unless the operator allow-lists hosts or networks (LLM_USAGE_PROXY_ALLOW_HOSTS: a self-hosted vLLM or Ollama).
The providers' own base URLs (LLM_USAGE_PROXY_*_URL) are the operator's and are not checked."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from modules.core.addresses import AddressRefused, AllowList, literal, pinned_address

PROXY_ALLOW_HOSTS_VARIABLE = "LLM_USAGE_PROXY_ALLOW_HOSTS"


def check_literal_host(base_url: str, allow: AllowList) -> None:
    """Raises AddressRefused for a base URL whose host is an address the proxy may not reach (names are checked
    when they are resolved: aiohttp resolves only names, so an address written in the URL is checked here)."""
    host = urlsplit(base_url).hostname or ""
    if not host:
        raise AddressRefused("the base URL names no host")
    address = literal(host)
    if address is not None:
        allow.check(address, host, resolved=False)


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver for instance upstreams: every address of the name is checked and the connection goes
    to the one checked (pinned_address), so a DNS answer that changes after the check cannot redirect it."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = await pinned_address(host, port, self.allow)
        kind = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        return [
            ResolveResult(
                hostname=host, host=str(address), port=port, family=kind, proto=0, flags=socket.AI_NUMERICHOST
            )
        ]

    async def close(self) -> None:
        return None
