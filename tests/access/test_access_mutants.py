"""Access checks at the edges the mutation run found untried: a key revoked twice keeps its first time (in two
committed transactions: inside one, now() never moves), a revocation notice heard from another process,
and a first start on a database holding exactly one key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from modules.access.keys import PrincipalCache, hash_key
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


async def test_a_watch_that_hears_nothing_ends_false_at_its_timeout():
    revocations = KeyRevocations(cache=PrincipalCache(ttl=60), notifications=None)  # type: ignore[arg-type]
    key_id = uuid.uuid4()
    started = time.monotonic()
    assert await revocations.wait(key_id, timeout=0.05) is False
    assert 0.05 <= time.monotonic() - started < 5  # the timeout, not forever (loaded machine: a wide ceiling)
    assert revocations.watchers == {}


class FlakyNotifications:
    """A LISTEN connection that cannot be opened the first time and then hears one revocation."""

    def __init__(self, payload: str) -> None:
        self.payload = payload
        self.subscribed: list[str] = []

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        self.subscribed.append(channel)
        if len(self.subscribed) == 1:
            raise OSError("connection refused")
        queue: asyncio.Queue[str] = asyncio.Queue()
        queue.put_nowait(self.payload)
        yield queue


async def test_a_lost_listen_is_logged_and_listened_again_until_a_revocation_is_heard(monkeypatch, caplog):
    from modules.access import revocations as module

    monkeypatch.setattr(module, "LISTEN_RETRY_S", 0.01)
    cache, key_id = PrincipalCache(ttl=60), uuid.uuid4()
    cache.put("hash-1", Principal.system())
    notifications = FlakyNotifications(f"{key_id} hash-1")
    revocations = KeyRevocations(cache=cache, notifications=notifications)  # type: ignore[arg-type]
    watching = asyncio.create_task(revocations.wait(key_id, timeout=10))
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="modules.access.revocations"):
        listening = asyncio.create_task(revocations.run())
        assert await watching is True  # heard on the second LISTEN
        listening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listening
    assert notifications.subscribed == [module.REVOKED_CHANNEL, module.REVOKED_CHANNEL]
    assert [(r.levelname, r.getMessage(), r.exc_info and r.exc_info[0]) for r in caplog.records] == [
        ("WARNING", "cannot LISTEN for key revocations; retrying in 0.01 s", OSError)  # with its traceback
    ]
    assert cache.get("hash-1") is None


LIST = "query($ws: ID) { apiKeys(workspaceId: $ws) { name workspaceId scopes } }"


async def test_instance_wide_keys_are_listed_apart_by_name_within_one_moment(gql, container, workspace):
    """The test's keys are made in its one transaction (one now()): the order is then by name."""
    access = await provide(container.access.service())
    for name in ("zeta", "alpha", "mid"):
        await access.create(Principal.system(), workspace_ref=None, name=f"instance-{name}", scopes=[Scope.READ])
        await access.create(Principal.system(), workspace_ref="acme", name=f"acme-{name}", scopes=[Scope.INGEST])
    listed = (await gql.data(LIST))["apiKeys"]
    assert [k["name"] for k in listed] == ["instance-alpha", "instance-mid", "instance-zeta", "tests"]
    assert {k["workspaceId"] for k in listed} == {None}
    in_acme = (await gql.data(LIST, ws="acme"))["apiKeys"]
    assert in_acme == [
        {"name": f"acme-{name}", "workspaceId": workspace["id"], "scopes": ["INGEST"]}
        for name in ("alpha", "mid", "zeta")
    ]


async def test_keys_are_listed_newest_first(engine):
    container = committed_container(engine)
    access = await provide(container.access.service())
    async with live_workspace(engine) as ws:
        for name in ("a-first", "b-second", "c-third"):  # three transactions: three moments
            await access.create(Principal.system(), workspace_ref=ws.slug, name=name, scopes=[Scope.READ])
        listed = await access.list(Principal.system(), workspace_ref=ws.slug)
    # live_workspace made "admin", then "app"; by name the order would be a-first, admin, app, b-second, c-third
    assert [k.name for k in listed] == ["c-third", "b-second", "a-first", "app", "admin"]
    assert [k.created_at for k in listed] == sorted((k.created_at for k in listed), reverse=True)


async def test_only_an_instance_admin_lists_instance_keys_and_an_unknown_workspace_is_named(gql, container):
    reader = gql.as_key(await create_key(container, scopes=(Scope.READ,)))
    error = await reader.error(LIST)
    assert (error["message"], error["extensions"]["code"]) == ("this key lacks the ADMIN scope", "FORBIDDEN")
    unknown = await gql.error(LIST, ws="nowhere")
    assert (unknown["extensions"]["code"], unknown["extensions"]["field"]) == ("BAD_USER_INPUT", "workspaceId")


async def test_revoking_a_key_that_is_not_there_returns_nothing(database):
    from modules.access.repository import ApiKeyRepository

    async with database.session_factory() as session:
        assert await ApiKeyRepository().revoke(session, uuid.uuid4()) is None


async def test_each_key_has_its_own_rate_limit_bucket(container, workspace, monkeypatch):
    from modules.access import rate_limit

    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=Clock()))  # no token comes back meanwhile
    access = await provide(container.access.service())
    made = [
        await access.create(
            Principal.system(), workspace_ref="acme", name=n, scopes=[Scope.READ], rate_limit_per_second=1
        )
        for n in ("one", "two")
    ]
    first, second = (f"Bearer {m.secret}" for m in made)
    waits = [(await access.authenticate(first)).retry_after for _ in range(3)]
    assert waits == [0.0, 0.0, 1.0]  # a burst of two, then a whole token to wait for
    assert [(await access.authenticate(second)).retry_after for _ in range(2)] == [0.0, 0.0]  # untouched by the first


async def test_a_known_key_is_answered_from_the_cache_until_told_otherwise(container, workspace, database):
    """Within the cache's TTL a key costs no lookup: a revocation this process did not hear (the row changed by
    hand here) is not seen; one it hears is."""
    access = await provide(container.access.service())
    made = await access.create(Principal.system(), workspace_ref="acme", name="cached", scopes=[Scope.READ])
    header = f"Bearer {made.secret}"
    assert (await access.identify(header)).key_id == made.key.id
    async with database.session_factory.begin() as session:
        await session.execute(text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"), {"id": made.key.id})
    assert ((await access.identify(header)).key_id, (await access.identify(header)).name) == (made.key.id, "cached")
    access.revocations.received(f"{made.key.id} {hash_key(made.secret)}")
    revoked = await access.identify(header)
    assert (revoked.key_id, (revoked.unauthenticated or "")[:30]) == (None, "this API key was revoked at 20")


async def test_the_key_may_follow_the_scheme_after_several_spaces(container, workspace):
    access = await provide(container.access.service())
    made = await access.create(Principal.system(), workspace_ref="acme", name="spaced", scopes=[Scope.READ])
    assert (await access.identify(f"  bearer   {made.secret}  ")).key_id == made.key.id
    refused = await access.identify(f"Bearer {made.secret} trailing")
    assert (refused.key_id, refused.unauthenticated) == (
        None,
        "malformed Authorization header: expected 'Bearer llmu_…'",
    )


REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { name } }"


async def test_revoking_says_why_not(gql, container, workspace):
    access = await provide(container.access.service())
    other = await access.create(Principal.system(), workspace_ref=None, name="instance", scopes=[Scope.READ])
    in_acme = await access.create(Principal.system(), workspace_ref="acme", name="acme-key", scopes=[Scope.READ])
    acme_admin = gql.as_key(await create_key(container, workspace="acme"))
    reader = gql.as_key(await create_key(container, scopes=(Scope.READ,)))

    def said(error: dict) -> tuple[str, str]:
        return error["message"], error["extensions"]["code"]

    assert said(await acme_admin.error(REVOKE, id=str(other.key.id))) == (
        "this key does not give access to that workspace",
        "FORBIDDEN",
    )
    assert said(await reader.error(REVOKE, id="not-a-key")) == ("this key lacks the ADMIN scope", "FORBIDDEN")
    assert said(await reader.error(REVOKE, id=str(in_acme.key.id))) == ("this key lacks the ADMIN scope", "FORBIDDEN")
    assert said(await gql.error(REVOKE, id="not-a-key")) == ("no API key 'not-a-key'", "NOT_FOUND")
    missing = "00000000-0000-0000-0000-000000000000"
    assert said(await gql.error(REVOKE, id=missing)) == (f"no API key '{missing}'", "NOT_FOUND")


async def test_a_revocation_wakes_what_watches_the_key_in_this_process(container, workspace):
    access = await provide(container.access.service())
    made = await access.create(Principal.system(), workspace_ref="acme", name="watched", scopes=[Scope.READ])
    watching = asyncio.create_task(access.revocations.wait(made.key.id, timeout=10))
    await asyncio.sleep(0)
    revoked = await access.revoke(Principal.system(), str(made.key.id))
    assert (await watching, revoked.name) == (True, "watched")


CREATE = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { name } } }"


async def test_creating_a_key_says_why_not(gql, container, workspace):
    reader = gql.as_key(await create_key(container, scopes=(Scope.READ,)))
    error = await reader.error(CREATE, input={"name": "mine", "scopes": ["READ"]})
    assert (error["message"], error["extensions"]["code"]) == ("this key lacks the ADMIN scope", "FORBIDDEN")
    unknown = await gql.error(CREATE, input={"workspaceId": "nowhere", "name": "k", "scopes": ["READ"]})
    assert (unknown["extensions"]["code"], unknown["extensions"]["field"]) == ("BAD_USER_INPUT", "workspaceId")
    bad = await gql.error(
        CREATE, input={"workspaceId": "acme", "name": "x" * 101, "scopes": [], "rateLimitPerSecond": 0.05}
    )
    assert [(p["field"], p["reason"]) for p in bad["extensions"]["problems"]] == [
        ("name", "must be 1 to 100 characters"),
        ("scopes", "must name at least one of INGEST, READ, ADMIN, CONTENT"),
        ("rateLimitPerSecond", "must be between 0.1 and 1000 requests per second (LLM_USAGE_MAX_RATE_LIMIT)"),
    ]


async def test_a_key_without_its_own_rate_gets_the_default_and_none_exceeds_the_cap(container, database, workspace):
    """The cap may have been lowered since a key was made with a higher rate."""
    from modules.access.rate_limit import RateLimiter
    from modules.access.repository import ApiKeyRepository
    from modules.access.service import AccessService

    made = await provide(container.access.service())
    own = await made.create(
        Principal.system(), workspace_ref="acme", name="own", scopes=[Scope.READ], rate_limit_per_second=10
    )
    default = await made.create(Principal.system(), workspace_ref="acme", name="default", scopes=[Scope.READ])
    access = AccessService(
        database=database,
        repository=ApiKeyRepository(),
        workspaces=await provide(container.workspaces.service()),
        cache=PrincipalCache(ttl=60),
        limiter=RateLimiter(),
        revocations=KeyRevocations(cache=PrincipalCache(ttl=60), notifications=None),  # type: ignore[arg-type]
        default_rate_limit=5.0,
        max_rate_limit=3.0,
    )
    identified = [await access.identify(f"Bearer {k.secret}") for k in (own, default)]
    assert [(p.name, p.rate_limit, p.key_id) for p in identified] == [
        ("own", 3.0, own.key.id),
        ("default", 5.0, default.key.id),
    ]


def test_the_operators_own_principal_is_a_viewer_without_key_or_workspace():
    from modules.access.types import ViewerType

    viewer = ViewerType.from_principal(Principal.system())
    assert (viewer.key_id, viewer.key_name, viewer.workspace_id) == (None, "system", None)
    assert viewer.scopes == sorted(Scope)
