"""Access checks at the edges the mutation run found untried: a key revoked twice keeps its first time (in two
committed transactions: inside one, now() never moves), a revocation notice heard from another process,
and a first start on a database holding exactly one key."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from modules.access.keys import PrincipalCache
from modules.access.revocations import KeyRevocations
from modules.core.principal import Principal, Scope
from service.bootstrap import first_start
from service.context import provide
from tests.conftest import create_key
from tests.live_server import committed_container, live_workspace


async def test_revoking_a_key_twice_keeps_the_first_time(engine):
    container = committed_container(engine)
    access = await provide(container.access.service())
    async with live_workspace(engine) as ws:
        made = await access.create(Principal.system(), workspace_ref=ws.slug, name="twice", scopes=[Scope.READ])
        before = datetime.now(UTC)
        first = await access.revoke(Principal.system(), str(made.key.id))
        between = datetime.now(UTC)
        second = await access.revoke(Principal.system(), str(made.key.id))  # a later transaction: a later now()
    assert first.revoked_at is not None and before <= first.revoked_at <= between
    assert second.revoked_at == first.revoked_at


async def test_a_revocation_notice_evicts_the_key_and_wakes_its_watchers():
    cache = PrincipalCache(ttl=60)
    principal = Principal.system()
    cache.put("hash-1", principal)
    cache.put("hash-2", principal)
    revocations = KeyRevocations(cache=cache, notifications=None)  # type: ignore[arg-type]
    key_id = uuid.uuid4()
    watching = asyncio.create_task(revocations.wait(key_id, timeout=5))
    await asyncio.sleep(0)  # the watcher is registered
    revocations.received(f"{key_id} hash-1")
    assert await watching is True
    assert (cache.get("hash-1"), cache.get("hash-2")) == (None, principal)
    assert revocations.watchers == {}


def test_a_malformed_revocation_notice_is_logged_and_ignored(caplog):
    cache = PrincipalCache(ttl=60)
    cache.put("hash-1", Principal.system())
    revocations = KeyRevocations(cache=cache, notifications=None)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="modules.access.revocations"):
        revocations.received("not-a-uuid hash-1")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "ignoring a malformed revocation notice")
    ]
    assert cache.get("hash-1") == Principal.system()


async def test_a_database_with_a_single_key_gets_no_new_keys(container):
    await create_key(container)
    message = await first_start(
        access=await provide(container.access.service()),
        workspaces=await provide(container.workspaces.service()),
        graphql_url="http://127.0.0.1:8000/graphql",
    )
    assert message is None


class Clock:
    """time.monotonic as the rate limiter reads it, moved by the test. It starts an hour ahead of the real one
    (a new bucket's first reading), so every bucket starts full."""

    def __init__(self) -> None:
        self.now = time.monotonic() + 3600

    def __call__(self) -> float:
        return self.now


def test_a_key_bursts_to_twice_its_rate_then_waits_exactly_for_the_next_token(monkeypatch):
    from modules.access import rate_limit

    clock = Clock()
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=clock))
    limiter, key, other = rate_limit.RateLimiter(), uuid.uuid4(), uuid.uuid4()
    assert [limiter.retry_after(key, 2.0) for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, 0.5]  # a burst of 4
    assert limiter.retry_after(other, 2.0) == 0.0  # a bucket per key
    clock.now += 0.25  # half a token back
    assert limiter.retry_after(key, 2.0) == 0.25
    clock.now += 0.25
    assert [limiter.retry_after(key, 2.0), limiter.retry_after(key, 2.0)] == [0.0, 0.5]
    clock.now += 100  # idle: the bucket refills to the burst, no further
    assert [limiter.retry_after(key, 2.0) for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, 0.5]
    assert [limiter.retry_after(key, 8.0) for _ in range(17)][-2:] == [0.0, 0.125]  # a new rate: a new bucket of 16
    assert [limiter.retry_after(key, None) for _ in range(3)] == [0.0, 0.0, 0.0]  # no rate: unlimited


def test_a_slow_key_still_makes_one_request_and_waits_ten_seconds(monkeypatch):
    from modules.access import rate_limit

    clock = Clock()
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=clock))
    limiter, key = rate_limit.RateLimiter(), uuid.uuid4()
    assert (rate_limit.burst(0.1), rate_limit.burst(0.5), rate_limit.burst(0.75), rate_limit.burst(3)) == (1, 1, 1.5, 6)
    assert [limiter.retry_after(key, 0.1), limiter.retry_after(key, 0.1)] == [0.0, 10.0]
    clock.now += 4
    assert limiter.retry_after(key, 0.1) == pytest.approx(6.0)
