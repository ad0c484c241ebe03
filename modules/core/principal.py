"""Who is calling: resolved once per request by the shell and handed to every service."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from modules.core.errors import Forbidden, RateLimited, Unauthenticated, Unavailable


class Scope(StrEnum):
    INGEST = "INGEST"
    READ = "READ"
    ADMIN = "ADMIN"
    CONTENT = "CONTENT"  # reading what calls said: never implied by ADMIN (seeing costs is not seeing content)


@dataclass(frozen=True)
class Principal:
    """A caller: its scopes, and the one workspace it may touch (None: every workspace). A caller without
    a valid key is a principal too, with the reason it is not authenticated; every check refuses it."""

    name: str
    scopes: frozenset[Scope]
    workspace_id: UUID | None = None
    key_id: UUID | None = None
    unauthenticated: str | None = None
    database_unreachable: bool = False
    rate_limit: float | None = None  # requests per second; None: unlimited
    retry_after: float = 0.0  # > 0: this key is over its rate limit

    @classmethod
    def anonymous(cls, reason: str) -> Principal:
        return cls(name="anonymous", scopes=frozenset(), unauthenticated=reason)

    @classmethod
    def system(cls) -> Principal:
        """The operator at the command line: every scope on every workspace."""
        return cls(name="system", scopes=frozenset(Scope))

    @classmethod
    def unverifiable(cls) -> Principal:
        """A caller whose key could not be checked because the database is unreachable."""
        return cls(
            name="unverified",
            scopes=frozenset(),
            unauthenticated="the database is unreachable",
            database_unreachable=True,
        )

    def require_authenticated(self) -> None:
        if self.database_unreachable:
            raise Unavailable("the database is unreachable; nothing was done. Retry later.", retryable=True)
        if self.unauthenticated is not None:
            raise Unauthenticated(self.unauthenticated)
        if self.retry_after > 0:
            raise RateLimited(
                f"too many requests for this key: retry in {self.retry_after:.2f} s",
                retryAfter=round(self.retry_after, 3),
            )

    def allows(self, scope: Scope) -> bool:
        """ADMIN implies INGEST and READ; CONTENT is only ever given by name."""
        return scope in self.scopes or (Scope.ADMIN in self.scopes and scope is not Scope.CONTENT)

    def require(self, scope: Scope, workspace_id: UUID | None = None) -> None:
        """UNAUTHENTICATED without a valid key; FORBIDDEN unless this principal holds `scope` on
        `workspace_id` (None: instance-wide, which only instance keys hold)."""
        self.require_authenticated()
        if self.workspace_id is not None and workspace_id != self.workspace_id:
            raise Forbidden("this key does not give access to that workspace")
        if not self.allows(scope):
            raise Forbidden(f"this key lacks the {scope.value} scope")
