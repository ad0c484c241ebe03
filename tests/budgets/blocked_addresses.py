"""Every form of address a webhook must not reach, with the exact reason it is refused: literals, numeric forms
resolvers read as IPv4, and DNS names resolving to them (`records`: the test's DNS answers for the host)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.budgets.conftest import PUBLIC


@dataclass(frozen=True)
class Blocked:
    host: str  # as written in the URL
    reason: str
    records: dict[str, list[str]] = field(default_factory=dict)


def canonical(host: str) -> Blocked:
    return Blocked(host, f"{host} is not a canonical IP address (write IPv4 as four decimal numbers)")


BLOCKED: dict[str, Blocked] = {
    "loopback": Blocked("127.0.0.1", "127.0.0.1 is a loopback address"),
    "loopback /8": Blocked("127.8.9.10", "127.8.9.10 is a loopback address"),
    "private 10/8": Blocked("10.0.0.1", "10.0.0.1 is a private address"),
    "private 172.16/12": Blocked("172.16.0.1", "172.16.0.1 is a private address"),
    "private 192.168/16": Blocked("192.168.1.1", "192.168.1.1 is a private address"),
    "cloud metadata": Blocked("169.254.169.254", "169.254.169.254 is a link-local address"),
    "CGNAT 100.64/10": Blocked("100.64.0.1", "100.64.0.1 is an address that is not globally routable"),
    "unspecified": Blocked("0.0.0.0", "0.0.0.0 is the unspecified address"),
    "multicast": Blocked("224.0.0.1", "224.0.0.1 is a multicast address"),
    "reserved 240/4": Blocked("240.0.0.1", "240.0.0.1 is a reserved address"),
    "broadcast": Blocked("255.255.255.255", "255.255.255.255 is a reserved address"),
    "IPv6 loopback": Blocked("[::1]", "::1 is a loopback address"),
    "IPv6 unspecified": Blocked("[::]", ":: is the unspecified address"),
    "unique local fc00::/7": Blocked("[fc00::1]", "fc00::1 is a private address"),
    "unique local fd00::/8": Blocked("[fd12:3456::1]", "fd12:3456::1 is a private address"),
    "IPv6 link-local": Blocked("[fe80::1]", "fe80::1 is a link-local address"),
    "IPv6 site-local": Blocked("[fec0::1]", "fec0::1 is a site-local address"),
    "IPv6 multicast": Blocked("[ff02::1]", "ff02::1 is a multicast address"),
    "IPv4-mapped loopback": Blocked("[::ffff:127.0.0.1]", "::ffff:127.0.0.1 is an IPv4-mapped IPv6 address"),
    "IPv4-mapped metadata": Blocked(
        "[::ffff:169.254.169.254]", "::ffff:169.254.169.254 is an IPv4-mapped IPv6 address"
    ),
    "IPv4-compatible": Blocked("[::127.0.0.1]", "::127.0.0.1 is a reserved address"),
    "NAT64 of loopback": Blocked("[64:ff9b::7f00:1]", "64:ff9b::7f00:1 is a reserved address"),
    "6to4 of loopback": Blocked(
        "[2002:7f00:1::]", "2002:7f00:1:: is an address embedding 127.0.0.1 (a loopback address)"
    ),
    "hexadecimal": canonical("0x7f000001"),
    "decimal": canonical("2130706433"),
    "short dotted": canonical("127.1"),
    "hexadecimal part": canonical("0x7f.0.0.1"),
    "trailing dot": canonical("127.0.0.1."),
    "octal": Blocked("0177.0.0.1", "is not a valid URL"),  # httpx refuses it before we look
    "localhost": Blocked("localhost", "localhost resolves to 127.0.0.1, a loopback address"),  # /etc/hosts
    "name to metadata": Blocked(
        "metadata.attacker.test",
        "metadata.attacker.test resolves to 169.254.169.254, a link-local address",
        {"metadata.attacker.test": ["169.254.169.254"]},
    ),
    "name to private": Blocked(
        "intranet.attacker.test",
        "intranet.attacker.test resolves to 10.0.0.7, a private address",
        {"intranet.attacker.test": ["10.0.0.7"]},
    ),
    "name to CGNAT": Blocked(
        "cgnat.attacker.test",
        "cgnat.attacker.test resolves to 100.64.1.1, an address that is not globally routable",
        {"cgnat.attacker.test": ["100.64.1.1"]},
    ),
    "name to IPv6 loopback": Blocked(
        "six.attacker.test", "six.attacker.test resolves to ::1, a loopback address", {"six.attacker.test": ["::1"]}
    ),
    "name to unique local": Blocked(
        "ula.attacker.test",
        "ula.attacker.test resolves to fd00::5, a private address",
        {"ula.attacker.test": ["fd00::5"]},
    ),
    "name to IPv4-mapped": Blocked(
        "mapped.attacker.test",
        "mapped.attacker.test resolves to ::ffff:127.0.0.1, an IPv4-mapped IPv6 address",
        {"mapped.attacker.test": ["::ffff:127.0.0.1"]},
    ),
    "name with a public and a loopback record": Blocked(
        "mixed.attacker.test",
        "mixed.attacker.test resolves to 127.0.0.1, a loopback address",
        {"mixed.attacker.test": [PUBLIC, "127.0.0.1"]},
    ),
}
