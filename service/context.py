"""The per-request GraphQL context: who calls, and the services resolvers may use."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from modules.access.service import AccessService
from modules.core.principal import Principal
from modules.providers.service import ProviderService
from modules.usage.analytics import UsageAnalyticsService
from modules.usage.service import UsageService
from modules.users.service import UserService
from modules.workspaces.service import WorkspaceService
from service.container import ApplicationContainer


@dataclass
class Context:
    """Satisfies each module's own context Protocol (WorkspacesContext, UsageContext, …)."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    principal: Principal
    access: AccessService
    workspaces: WorkspaceService
    users: UserService
    providers: ProviderService
    usage: UsageService
    analytics: UsageAnalyticsService


async def provide(value: Any) -> Any:
    """dependency-injector returns awaitables for providers that depend on an async resource."""
    return await value if inspect.isawaitable(value) else value


async def build_context(
    container: ApplicationContainer, request: Request | WebSocket, response: Response | WebSocket | None
) -> Context:
    access = await provide(container.access.service())
    return Context(
        request=request,
        response=response,
        principal=await access.authenticate(request.headers.get("authorization")),
        access=access,
        workspaces=await provide(container.workspaces.service()),
        users=await provide(container.users.service()),
        providers=await provide(container.llm_providers.service()),
        usage=await provide(container.usage.service()),
        analytics=await provide(container.usage.analytics()),
    )
