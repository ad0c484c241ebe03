"""Who a proxied call is for: our key (X-LLM-Usage-Key, INGEST scope) checked before anything goes upstream;
the workspace it records into; a provider instance it names. While the database is unreachable, a key this
process verified within the last hour and an instance it looked up still work: the calls go through and
their usage is kept until the database returns (never an open relay: an unknown key is refused)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Protocol
from uuid import UUID

from modules.core.cache import TtlCache
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.proxy.error_shapes import ProxyRefusal, Refusal
from modules.proxy.headers import KEY, WORKSPACE

REMEMBERED_S = 3600.0  # how long a verified key works while the database is away
INSTANCE_TTL_S = 30.0  # a provider instance's base URL, re-read this often


class KeyCheck(Protocol):
    """AccessService: an Authorization value → its principal, counted against the key's rate limit."""

    async def authenticate(self, authorization: str | None) -> Principal: ...


class Instance(Protocol):
    @property
    def id(self) -> UUID: ...
    @property
    def workspace_id(self) -> UUID: ...
    @property
    def provider(self) -> str: ...
    @property
    def base_url(self) -> str | None: ...


class WorkspaceLookup(Protocol):
    """WorkspaceService: the workspaces some references (slugs or ids) name; unknown ones left out."""

    async def resolve(self, references: Collection[str]) -> Mapping[str, object]: ...


class InstanceLookup(Protocol):
    async def instances_by_id(self, ids: Collection[UUID]) -> Mapping[UUID, Instance]: ...


class ProxyAccess:
    def __init__(self, keys: KeyCheck, instances: InstanceLookup, workspaces: WorkspaceLookup | None = None) -> None:
        self.keys = keys
        self.instances = instances
        self.workspaces = workspaces
        self.verified: TtlCache[str, Principal] = TtlCache(ttl=REMEMBERED_S)
        self.known_instances: TtlCache[UUID, Instance] = TtlCache(ttl=INSTANCE_TTL_S)
        self.stale_instances: dict[UUID, Instance] = {}

    async def principal(self, key: str | None) -> Principal:
        """The principal of our key; refused (in the provider's error shape) unless it may INGEST."""
        if not key:
            raise ProxyRefusal(Refusal.UNAUTHENTICATED, f"send your llm-usage key in the {KEY} header")
        token = key.removeprefix("Bearer ").strip()
        digest = hashlib.sha256(token.encode()).hexdigest()
        try:
            principal = await self.keys.authenticate(f"Bearer {token}")
        except Exception:  # the database cannot be reached to check it (UNAVAILABLE, a driver's error)
            principal = Principal.unverifiable()
        if principal.database_unreachable:
            remembered = self.verified.get(digest)
            if remembered is None:
                raise ProxyRefusal(
                    Refusal.UNAVAILABLE, "llm-usage cannot check this key now; retry later", retry_after=1
                )
            return remembered
        if principal.unauthenticated is not None:
            raise ProxyRefusal(Refusal.UNAUTHENTICATED, f"llm-usage key refused: {principal.unauthenticated}")
        if principal.retry_after > 0:
            raise ProxyRefusal(
                Refusal.RATE_LIMITED,
                f"too many requests for this llm-usage key: retry in {principal.retry_after:.2f} s",
                retry_after=principal.retry_after,
            )
        if not principal.allows(Scope.INGEST):
            raise ProxyRefusal(Refusal.FORBIDDEN, "this llm-usage key lacks the INGEST scope")
        self.verified.put(digest, principal)
        return principal

    async def workspace(self, principal: Principal, named: str | None) -> str:
        """The workspace the calls are recorded into: the key's own, or (instance-wide key) the one named — which
        must exist, or the call would go upstream and its usage be refused afterwards. While the database is away
        the name is taken as given (the call goes through; a wrong name is dropped and counted when stored)."""
        if principal.workspace_id is not None:
            return str(principal.workspace_id)
        if not named:
            raise ProxyRefusal(Refusal.BAD_REQUEST, f"an instance-wide llm-usage key needs the {WORKSPACE} header")
        if self.workspaces is not None:
            try:
                found = await self.workspaces.resolve({named})
            except Exception:  # the database is away: checked when the usage is stored
                return named
            if named not in found:
                raise ProxyRefusal(Refusal.NOT_FOUND, f"no workspace {named[:100]!r} (the {WORKSPACE} header)")
        return named

    async def instance(self, principal: Principal, reference: str) -> Instance:
        """A provider instance the key may record into, with a base URL to forward to."""
        instance_id = parse_uuid(reference)
        found = self.known_instances.get(instance_id) if instance_id else None
        if instance_id is not None and found is None:
            try:
                found = (await self.instances.instances_by_id({instance_id})).get(instance_id)
            except Exception:  # the database is away: the last known base URL still serves
                found = self.stale_instances.get(instance_id)
                if found is None:
                    raise ProxyRefusal(
                        Refusal.UNAVAILABLE, "llm-usage cannot look this instance up now; retry later", retry_after=1
                    ) from None
            if found is not None:
                self.known_instances.put(instance_id, found)
                if len(self.stale_instances) >= self.known_instances.max_entries:
                    self.stale_instances.clear()
                self.stale_instances[instance_id] = found
        if found is None or (principal.workspace_id is not None and found.workspace_id != principal.workspace_id):
            raise ProxyRefusal(Refusal.NOT_FOUND, f"no provider instance {reference!r} for this llm-usage key")
        if not found.base_url:
            raise ProxyRefusal(Refusal.BAD_REQUEST, f"provider instance {reference!r} has no base URL to proxy to")
        return found
