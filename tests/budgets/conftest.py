"""Fixtures of the budgets tests: the operator's webhook allow-list, set through Settings as
LLM_USAGE_WEBHOOK_ALLOW_HOSTS sets it, and DNS answers chosen by the test (a name can be made to resolve
anywhere, and to change its answer between two lookups, as a rebinding attacker's would)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from dependency_injector import providers

from modules.core import addresses
from service.container import ApplicationContainer
from tests.conftest import TEST_SETTINGS

LOOPBACK = ("127.0.0.1",)  # the loopback receiver's address, as LLM_USAGE_WEBHOOK_ALLOW_HOSTS=127.0.0.1
PUBLIC = "93.184.215.14"  # a global unicast address; no test connects to it


@pytest.fixture
def webhook_allow_hosts() -> tuple[str, ...]:
    """None by default; a test that delivers to a loopback receiver parametrizes this with LOOPBACK."""
    return ()


@pytest.fixture
def container(container: ApplicationContainer, webhook_allow_hosts: tuple[str, ...]) -> ApplicationContainer:
    container.settings.override(providers.Object(replace(TEST_SETTINGS, webhook_allow_hosts=webhook_allow_hosts)))
    return container


@dataclass
class FakeDns:
    """Answers the names in `records`; other names (localhost) go to the system resolver."""

    records: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    system = addresses.resolve

    async def resolve(host: str, port: int) -> list[str]:
        fake.asked.append(host)
        if host in fake.records:
            return list(fake.records[host])
        return await system(host, port)

    monkeypatch.setattr(addresses, "resolve", resolve)
    return fake
