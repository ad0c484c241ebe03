"""Which addresses the server may connect to for a URL a workspace ADMIN chose: a budget's webhook, a provider
instance's base URL (the proxy). Without this policy they could make the server send requests into its own
network (loopback, the cloud metadata service, private ranges) and read the answers back (the delivery log,
the proxied answer). Only public unicast addresses pass, judged by the stdlib's `ipaddress`, unless the operator
allow-lists a host or network (internal hooks, a self-hosted vLLM)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from string import hexdigits

IPAddress = IPv4Address | IPv6Address
ALLOW_HOSTS_VARIABLE = "LLM_USAGE_WEBHOOK_ALLOW_HOSTS"
RESOLVE_TIMEOUT_S = 5.0
# A DNS name as it goes on the wire (IDNA already applied): dot-separated labels of letters, digits, - and _.
LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}\.?$){LABEL}(?:\.{LABEL})*\.?")


class AddressRefused(Exception):
    """The server must not connect there; the message says why (it names the address, never the URL)."""


class Unresolvable(Exception):
    """The host name has no address right now (DNS failure or timeout): a delivery is retried later."""


def refusal(address: IPAddress) -> str | None:
    """What `address` is when a webhook must not connect to it; None for a public unicast address. Python's
    `is_global` alone is not enough: it counts multicast, site-local and IPv4-mapped addresses as global."""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if address.is_site_local:
            return "a site-local address"
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and (inner := refusal(embedded)) is not None:
            return f"an address embedding {embedded} ({inner})"
    if address.is_reserved:  # for IPv6 also ::/8, which holds the IPv4-compatible and NAT64 forms
        return "a reserved address"
    if address.is_private:  # 10/8, 172.16/12, 192.168/16, fc00::/7 (unique local) and documentation ranges
        return "a private address"
    if not address.is_global:  # 100.64/10 (shared, CGNAT) and the other special-purpose ranges
        return "an address that is not globally routable"
    return None


def shown(address: IPAddress) -> str:
    """The address for a message, an IPv4-mapped one in its dotted form (as every Python version writes it)."""
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return f"::ffff:{mapped}" if mapped is not None else str(address)


def literal(host: str) -> IPAddress | None:
    """The address a URL's host is by itself, or None for a DNS name. Hosts that end in a number but are no
    canonical address (0x7f000001, 2130706433, 127.1, 0177.0.0.1) are refused: resolvers read them as IPv4
    (inet_aton, WHATWG URLs) while a check might read them as names, so no reading of them is trusted."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    last = host.lower().removesuffix(".").rpartition(".")[2]
    if last.isdigit() or (last.startswith("0x") and all(c in hexdigits for c in last[2:])):
        raise AddressRefused(f"{host[:100]} is not a canonical IP address (write IPv4 as four decimal numbers)")
    return None


@dataclass(frozen=True)
class AllowList:
    """The operator's exceptions (LLM_USAGE_WEBHOOK_ALLOW_HOSTS, LLM_USAGE_PROXY_ALLOW_HOSTS; comma-separated):
    host names that may resolve to any address, and addresses or CIDR networks that may be reached by any name."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str], variable: str = ALLOW_HOSTS_VARIABLE) -> AllowList:
        """Raises ValueError naming an entry that is neither a host name, an address nor a network."""
        hosts: set[str] = set()
        networks: list[IPv4Network | IPv6Network] = []
        for entry in (e.strip().lower().removesuffix(".") for e in entries):
            if not entry:
                continue
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                if not HOST_NAME.fullmatch(entry):
                    raise ValueError(
                        f"{variable}: {entry!r} is neither a host name, an IP address nor a CIDR network"
                    ) from None
                hosts.add(entry)
        return cls(hosts=frozenset(hosts), networks=tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().removesuffix(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)  # never across IPv4 and IPv6

    def check(self, address: IPAddress, host: str, *, resolved: bool) -> None:
        """Raises AddressRefused unless the address is public or inside an allowed network; `host`: the URL's
        host, the address as written or (`resolved`) the name that resolved to it."""
        if self.allows_address(address) or (kind := refusal(address)) is None:
            return
        raise AddressRefused(f"{host[:100]} resolves to {shown(address)}, {kind}" if resolved else f"{host} is {kind}")


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, in its order. Looked up by name at each call, so a
    test can make a name resolve where it wants."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def pinned_address(host: str, port: int, allow: AllowList) -> IPAddress:
    """The one address to connect to for `host`, checked now. Every address the name resolves to must pass
    (a name mixing a public and an internal record is refused), and the caller connects to the returned one
    only (no fallback to the others), so a DNS answer changing between check and connect (rebinding) cannot
    redirect the request."""
    address = literal(host)
    if address is not None:
        allow.check(address, host, resolved=False)
        return address
    try:
        found = await asyncio.wait_for(resolve(host, port), RESOLVE_TIMEOUT_S)
    except (OSError, TimeoutError) as failure:
        raise Unresolvable(f"{host[:100]} does not resolve ({type(failure).__name__})") from None
    if not found:
        raise Unresolvable(f"{host[:100]} has no address")
    addresses = [ip_address(a) for a in found]
    if not allow.allows_host(host):
        for each in addresses:
            allow.check(each, host, resolved=True)
    return addresses[0]
