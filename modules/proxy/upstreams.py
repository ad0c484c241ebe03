"""Where each route goes, and one pooled `aiohttp.ClientSession` per upstream origin (the three providers' and
each provider instance's), opened on first use and closed with the process. aiohttp rather than httpx (the
service's other HTTP client): at 32 concurrent calls httpx spent 2.5 ms of CPU per request (its pool polls every
idle connection's socket on each request), aiohttp 0.15 ms — the proxy's own added latency is mostly this."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from modules.core.addresses import AllowList
from modules.proxy.apis import Api
from modules.proxy.instance_addresses import CheckedResolver

OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com/v1"
GOOGLE_URL = "https://generativelanguage.googleapis.com"


@dataclass(frozen=True)
class ProxySettings:
    """The upstreams' base URLs (LLM_USAGE_PROXY_*_URL) and how long the proxy waits for them."""

    openai_url: str = OPENAI_URL
    anthropic_url: str = ANTHROPIC_URL
    google_url: str = GOOGLE_URL
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 600.0  # between two bytes of an answer: a model may think minutes before its first
    max_connections: int = 1000  # per upstream origin
    instance_allow: AllowList = field(default_factory=AllowList)  # LLM_USAGE_PROXY_ALLOW_HOSTS: see instance_addresses


class UpstreamClients:
    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self.clients: dict[tuple[str, bool], aiohttp.ClientSession] = {}

    def base_url(self, api: Api) -> str:
        return {
            Api.OPENAI: self.settings.openai_url,
            Api.ANTHROPIC: self.settings.anthropic_url,
            Api.GOOGLE: self.settings.google_url,
        }[api]

    def client(self, url: str, *, checked: bool = False) -> aiohttp.ClientSession:
        """The pooled session of `url`'s origin; `checked` (a provider instance's URL): connecting only to the
        addresses instance_allow lets through. Headers are the caller's alone (no default User-Agent, Accept,
        Accept-Encoding or Content-Type added); no redirect is followed, no proxy from the environment used, no
        cookie kept, nothing decoded."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        client = self.clients.get((origin, checked))
        if client is None:
            settings = self.settings
            resolver = CheckedResolver(settings.instance_allow) if checked else None
            client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=settings.max_connections, limit_per_host=0, resolver=resolver),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=settings.connect_timeout_s, sock_read=settings.read_timeout_s
                ),
                auto_decompress=False,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=SKIPPED_DEFAULT_HEADERS,
            )
            self.clients[(origin, checked)] = client
        return client

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        self.clients.clear()


SKIPPED_DEFAULT_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")  # the caller's, or none


def joined(base_url: str, path: bytes, query: bytes) -> str:
    """The upstream URL: its base, the caller's path as sent (percent-encoding kept), the base's own query (an
    Azure OpenAI instance's `api-version`) and then the caller's."""
    base, _, base_query = base_url.partition("?")
    url = base.rstrip("/") + "/" + path.decode("latin-1").lstrip("/")
    queries = [part for part in (base_query, query.decode("latin-1")) if part]
    return f"{url}?{'&'.join(queries)}" if queries else url
