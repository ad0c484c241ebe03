"""Who is calling: resolved once per request by the shell and handed to every service."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from modules.core.errors import Forbidden


class Scope(StrEnum):
    INGEST = "INGEST"
    READ = "READ"
    ADMIN = "ADMIN"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its scopes, and the one workspace it may touch (None: every workspace)."""

    name: str
    scopes: frozenset[Scope]
    workspace_id: UUID | None = None

    @classmethod
    def local_development(cls) -> Principal:
        """The caller of a local, unauthenticated instance: every scope on every workspace."""
        return cls(name="local-development", scopes=frozenset(Scope))

    def require(self, scope: Scope, workspace_id: UUID | None = None) -> None:
        """Raise FORBIDDEN unless this principal holds `scope` on `workspace_id` (None: instance-wide)."""
        if scope not in self.scopes and Scope.ADMIN not in self.scopes:
            raise Forbidden(f"this key lacks the {scope.value} scope")
        if self.workspace_id is not None and workspace_id != self.workspace_id:
            raise Forbidden("this key does not give access to that workspace")
