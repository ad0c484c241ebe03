"""Access: API keys (created, listed, revoked) and turning an Authorization header into a Principal."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from modules.access.keys import KEY_PATTERN, SHOWN_PREFIX_LENGTH, PrincipalCache, hash_key, new_key
from modules.access.rate_limit import RateLimiter
from modules.access.repository import ApiKey, ApiKeyRepository
from modules.access.revocations import KeyRevocations, announce_revocation
from modules.core.database import Database
from modules.core.errors import BadUserInput, Forbidden, NotFound, Problem
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.workspaces import WorkspaceService

MAX_KEY_NAME_LENGTH = 100
MIN_RATE_LIMIT = 0.1  # one request every 10 s


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str  # shown once, never stored


class AccessService:
    def __init__(
        self,
        *,
        database: Database,
        repository: ApiKeyRepository,
        workspaces: WorkspaceService,
        cache: PrincipalCache,
        limiter: RateLimiter,
        revocations: KeyRevocations,
        default_rate_limit: float | None = None,
        max_rate_limit: float = 1000.0,
    ) -> None:
        self.max_rate_limit = max_rate_limit
        self.revocations = revocations
        self.limiter = limiter
        self.default_rate_limit = default_rate_limit
        self.database = database
        self.repository = repository
        self.workspaces = workspaces
        self.cache = cache

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization: Bearer <key>` header, counted against its rate limit (one
        request); an anonymous one saying why not."""
        principal = await self.identify(authorization)
        if principal.key_id is None:
            return principal
        wait = self.limiter.retry_after(principal.key_id, principal.rate_limit)
        return replace(principal, retry_after=wait) if wait else principal

    async def identify(self, authorization: str | None) -> Principal:
        """Who an Authorization value is, now (the cache, else the database), without counting a request."""
        if not authorization:
            return Principal.anonymous("send an API key: 'Authorization: Bearer llmu_…'")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not KEY_PATTERN.match(token):
            return Principal.anonymous("malformed Authorization header: expected 'Bearer llmu_…'")
        key_hash = hash_key(token)
        principal = self.cache.get(key_hash)
        if principal is None:
            async with self.database.session_factory.begin() as session:
                key = await self.repository.use(session, key_hash)
                # Only who holds the secret learns it was revoked: 32 random bytes are not guessed.
                revoked_at = None if key else await self.repository.revoked_at(session, key_hash)
            if revoked_at is not None:
                return Principal.anonymous(f"this API key was revoked at {revoked_at.isoformat()}")
            if key is None:
                return Principal.anonymous("unknown API key")
            rate = self.default_rate_limit
            if key.rate_limit_per_second is not None:  # the cap may have been lowered since the key was made
                rate = min(key.rate_limit_per_second, self.max_rate_limit)
            principal = Principal(
                name=key.name, scopes=key.scopes, workspace_id=key.workspace_id, key_id=key.id, rate_limit=rate
            )
            self.cache.put(key_hash, principal)
        return principal

    async def create(
        self,
        principal: Principal,
        *,
        workspace_ref: str | None,
        name: str,
        scopes: Collection[Scope],
        rate_limit_per_second: float | None = None,
    ) -> CreatedKey:
        """A key of one workspace (its ADMIN may create it) or, without a workspace, an instance-wide key
        (only an instance ADMIN may)."""
        workspace_id = None
        if workspace_ref is None:
            principal.require(Scope.ADMIN)
        else:
            workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
            workspace_id = workspace.id
        problems = []
        if not 1 <= len(name.strip()) <= MAX_KEY_NAME_LENGTH or "\x00" in name:
            problems.append(Problem("name", f"must be 1 to {MAX_KEY_NAME_LENGTH} characters"))
        if not scopes:
            problems.append(Problem("scopes", "must name at least one of INGEST, READ, ADMIN, CONTENT"))
        if Scope.CONTENT in scopes and not principal.allows(Scope.CONTENT):
            # ADMIN manages keys but does not read content: it cannot give itself the scope through a new key.
            problems.append(Problem("scopes", "only a key that holds CONTENT can give CONTENT"))
        if rate_limit_per_second is not None and not MIN_RATE_LIMIT <= rate_limit_per_second <= self.max_rate_limit:
            problems.append(
                Problem(
                    "rateLimitPerSecond",
                    f"must be between {MIN_RATE_LIMIT} and {self.max_rate_limit:g} requests per second "
                    "(LLM_USAGE_MAX_RATE_LIMIT)",
                )
            )
        if problems:
            raise BadUserInput(problems)
        secret = new_key()
        async with self.database.session_factory.begin() as session:
            key = await self.repository.insert(
                session,
                workspace_id=workspace_id,
                name=name.strip(),
                prefix=secret[:SHOWN_PREFIX_LENGTH],
                key_hash=hash_key(secret),
                scopes=sorted(set(scopes)),
                rate_limit_per_second=rate_limit_per_second,
            )
        return CreatedKey(key=key, secret=secret)

    async def revoke(self, principal: Principal, key_id: str) -> ApiKey:
        """Revoke a key; it stops working at once in every process that hears the NOTIFY (within the key cache's
        TTL in one whose LISTEN connection is down), open WebSockets included."""
        principal.require_authenticated()
        parsed = parse_uuid(key_id)
        async with self.database.session_factory() as session:
            key = await self.repository.get(session, parsed) if parsed else None
        if key is None or (principal.workspace_id is not None and key.workspace_id != principal.workspace_id):
            if principal.workspace_id is not None:
                raise Forbidden("this key does not give access to that workspace")
            principal.require(Scope.ADMIN)
            raise NotFound(f"no API key {key_id!r}")
        principal.require(Scope.ADMIN, key.workspace_id)
        async with self.database.session_factory.begin() as session:
            revoked = await self.repository.revoke(session, key.id)
            assert revoked is not None
            await announce_revocation(session, key.id, revoked[1])
        self.revocations.revoked(key.id, revoked[1])
        return revoked[0]

    async def list(self, principal: Principal, *, workspace_ref: str | None) -> list[ApiKey]:
        """A workspace's keys, or without a workspace the instance-wide keys."""
        workspace_id = None
        if workspace_ref is None:
            principal.require(Scope.ADMIN)
        else:
            workspace_id = (
                await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
            ).id
        async with self.database.session_factory() as session:
            return await self.repository.list(session, workspace_id=workspace_id)

    async def has_keys(self) -> bool:
        async with self.database.session_factory() as session:
            return await self.repository.count(session) > 0
