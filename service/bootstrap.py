"""First start: an empty database gets a `default` workspace, an admin key and an ingest key, shown once."""

from __future__ import annotations

from modules.access.service import AccessService
from modules.core.principal import Principal, Scope
from modules.workspaces.service import WorkspaceService


async def first_start(*, access: AccessService, workspaces: WorkspaceService, graphql_url: str) -> str | None:
    """What to print: the new keys on an empty database; a hint if workspaces exist but no key; else None."""
    if await access.has_keys():
        return None
    system = Principal.system()
    if await workspaces.list(system):
        return "llm-usage: no API key exists. Create one: .venv/bin/llm-usage create-api-key --admin --name admin"
    workspace = await workspaces.create(system, name="Default", slug="default")
    admin = await access.create(system, workspace_ref=None, name="admin (first start)", scopes=[Scope.ADMIN])
    ingest = await access.create(
        system, workspace_ref=str(workspace.id), name="ingest (first start)", scopes=[Scope.INGEST]
    )
    return f"""
llm-usage: first start. Created the workspace "default" and two API keys. They are shown this once only:

  admin key  (every scope, every workspace): {admin.secret}
  ingest key (trackUsage into "default"):    {ingest.secret}

Open {graphql_url}, and paste into GraphiQL's Headers tab:

  {{"Authorization": "Bearer {admin.secret}"}}

More keys: the createApiKey mutation, or .venv/bin/llm-usage create-api-key --workspace default --scopes READ
"""
