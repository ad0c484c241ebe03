"""A webhook URL as a delivery uses it: parsed once, by httpx (the client that sends it, so the check and
the request cannot read the URL differently), its host checked and pinned to the address it was checked at;
and the client deliveries are sent with."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from modules.core.addresses import (
    HOST_NAME,
    AddressRefused,
    AllowList,
    IPAddress,
    Unresolvable,
    literal,
    pinned_address,
)

MAX_URL = 2000
ATTEMPT_TIMEOUT_S = 10.0
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WebhookTarget:
    """Where one attempt goes: the request names the checked address, and carries the URL's own host in the
    Host header and in TLS SNI, so the certificate is verified for that name."""

    url: httpx.URL
    address: IPAddress

    @property
    def request_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.address))

    @property
    def headers(self) -> dict[str, str]:
        return {"Host": self.url.netloc.decode("ascii")}

    @property
    def extensions(self) -> dict[str, str]:
        host = self.url.raw_host.decode("ascii")
        return {} if literal(host) is not None else {"sni_hostname": host}


def parsed(url: str) -> httpx.URL:
    """The URL, or AddressRefused saying why it cannot be a webhook: not http(s), no host, a bad port or a
    host that is neither a DNS name nor a canonical address."""
    try:
        parts = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise AddressRefused("is not a valid URL") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.raw_host:
        raise AddressRefused("is not an http(s) URL")
    if parts.port is not None and not 1 <= parts.port <= 65535:
        raise AddressRefused("has a port outside 1 to 65535")
    host = parts.raw_host.decode("ascii")
    if literal(host) is None and not HOST_NAME.fullmatch(host):
        raise AddressRefused("has a host that is neither a DNS name nor an IP address")
    return parts


def input_problem(url: str) -> str | None:
    """The rules of a URL a caller gives, before any DNS: its length, and no credentials (stored in the URL,
    they would travel into logs and error texts; the signature already tells the receiver who is calling)."""
    if len(url) > MAX_URL:
        return f"is longer than {MAX_URL} characters"
    try:
        parts = parsed(url)
    except AddressRefused as refused:
        return str(refused)
    if parts.userinfo:
        return "must not hold credentials (user:password@): the receiver checks the signature instead"
    return None


class WebhookTargets:
    """Checks webhook URLs against the address policy: when a caller sets them, and again at every attempt
    (a name that was public may resolve to 127.0.0.1 by then)."""

    def __init__(self, *, allow: AllowList) -> None:
        self.allow = allow

    async def pin(self, url: str) -> WebhookTarget:
        """Raises AddressRefused (never to be sent) or Unresolvable (DNS has no answer now)."""
        parts = parsed(url)
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        address = await pinned_address(parts.raw_host.decode("ascii"), port, self.allow)
        return WebhookTarget(url=parts, address=address)

    async def problem(self, url: str) -> str | None:
        """Why a caller may not set this URL now, DNS included; None when it may."""
        if (reason := input_problem(url)) is not None:
            return reason
        try:
            await self.pin(url)
        except (AddressRefused, Unresolvable) as refused:
            return str(refused)
        return None


def shown_host(url: str) -> str:
    """`scheme://host` of a URL, for logs and callers without ADMIN: no credentials, port, path or query."""
    try:
        parts = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "(invalid URL)"
    host = parts.raw_host.decode("ascii")
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}"


def webhook_client() -> httpx.AsyncClient:
    """The client deliveries go out with. No proxy or certificate settings from the environment (a proxy
    would connect to the name, not to the checked address); no redirects (one could point anywhere); no
    connection reuse (a connection belongs to the address checked for its delivery). httpx logs each
    request's full URL at INFO, and a webhook's path or query is often its secret: its logger stays at
    WARNING."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=ATTEMPT_TIMEOUT_S,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
