"""GraphQL surface of the access module."""

from __future__ import annotations

from datetime import datetime

import strawberry

from modules.access.repository import ApiKey as ApiKeyData
from modules.core.principal import Principal, Scope

# strawberry.enum marks the class in place: fields annotate with the class itself, in types decorated after
# this (strawberry resolves a field's type when its class is decorated).
strawberry.enum(
    Scope,
    name="Scope",
    description="INGEST: track usage. READ: queries. ADMIN: everything but content, keys and prices. CONTENT: read "
    "what calls said (conversation content), never implied by ADMIN; only a key holding it can give it.",
)


@strawberry.type(name="ApiKey", description="An API key as listed: never the key itself, only its prefix.")
class ApiKeyType:
    id: strawberry.ID
    workspace_id: strawberry.ID | None = strawberry.field(description="Null: an instance-wide key.")
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    rate_limit_per_second: float | None = strawberry.field(description="Null: the server's default.")

    @classmethod
    def from_model(cls, key: ApiKeyData) -> ApiKeyType:
        return cls(
            id=strawberry.ID(str(key.id)),
            workspace_id=strawberry.ID(str(key.workspace_id)) if key.workspace_id else None,
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            rate_limit_per_second=key.rate_limit_per_second,
        )


@strawberry.type(name="Viewer", description="The key this request is made with: what it may do, and where.")
class ViewerType:
    key_id: strawberry.ID | None = strawberry.field(description="Null: the operator's own principal.")
    key_name: str
    scopes: list[Scope] = strawberry.field(description="ADMIN implies READ and INGEST; CONTENT is given by name.")
    workspace_id: strawberry.ID | None = strawberry.field(description="Null: an instance-wide key.")
    rate_limit_per_second: float | None = strawberry.field(description="Requests per second; null: unlimited.")

    @classmethod
    def from_principal(cls, principal: Principal) -> ViewerType:
        return cls(
            key_id=strawberry.ID(str(principal.key_id)) if principal.key_id else None,
            key_name=principal.name,
            scopes=sorted(principal.scopes),
            workspace_id=strawberry.ID(str(principal.workspace_id)) if principal.workspace_id else None,
            rate_limit_per_second=principal.rate_limit,
        )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKeyType
    secret: str = strawberry.field(description="The key itself. Shown once: store it now, it cannot be read again.")


@strawberry.input(description="A new key: of one workspace, or (workspaceId null) instance-wide.")
class CreateApiKeyInput:
    name: str
    scopes: list[Scope]
    workspace_id: strawberry.ID | None = None
    rate_limit_per_second: float | None = strawberry.field(
        default=None, description="Requests per second (per server process, burst x2). Default: the server's."
    )
