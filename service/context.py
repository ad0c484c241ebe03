"""The per-request GraphQL context: who calls, and the services resolvers may use."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from modules.access.service import AccessService
from modules.budgets.records import BudgetAlert
from modules.budgets.service import BudgetService
from modules.core.errors import Unavailable
from modules.core.principal import Principal
from modules.providers.service import ProviderService
from modules.usage.analytics.service import UsageAnalyticsService
from modules.usage.conversations.loader import ConversationLoader
from modules.usage.conversations.service import ConversationService
from modules.usage.ingest.service import UsageService
from modules.usage.live.service import UsageLive
from modules.usage.records import UsageEvent
from modules.usage.sessions.service import SessionService
from modules.users import User
from modules.users.service import UserService
from modules.workspaces.service import WorkspaceService
from service.container import ApplicationContainer
from service.errors import database_unreachable


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
    user_loader: DataLoader[tuple[UUID, str], User | None]
    sessions: SessionService
    session_events_loader: DataLoader[tuple[UUID, str], list[UsageEvent]]
    live: UsageLive
    budgets: BudgetService
    budget_alerts_loader: DataLoader[UUID, list[BudgetAlert]]
    conversations: ConversationService
    conversation_loader: ConversationLoader
    connection_params: dict[str, Any] | None = None  # WebSocket connection_init payload (strawberry sets it)
    authorization: str | None = None  # the Authorization value the principal was made from
    public_url: str | None = None  # LLM_USAGE_PUBLIC_URL: the base of URLs given to callers

    def refresh_loaders(self) -> None:
        """Forget what the DataLoaders cached: a subscription pushes each result with what is stored now."""
        for loader in (self.user_loader, self.session_events_loader, self.budget_alerts_loader):
            loader.clear_all()
        self.conversation_loader.clear_all()


async def provide(value: Any) -> Any:
    """dependency-injector returns awaitables for providers that depend on an async resource."""
    return await value if inspect.isawaitable(value) else value


async def authenticate(access: AccessService, authorization: str | None, *, count: bool = True) -> Principal:
    """The principal of an Authorization value (`count`: one request against its rate limit); when the database
    cannot be reached to check the key, a principal whose every check answers UNAVAILABLE (retryable), never
    UNAUTHENTICATED (clients treat it as final)."""
    try:
        return await (access.authenticate(authorization) if count else access.identify(authorization))
    except Unavailable:
        return Principal.unverifiable()
    except Exception as error:
        if database_unreachable(error):
            return Principal.unverifiable()
        raise


async def build_context(
    container: ApplicationContainer,
    request: Request | WebSocket,
    response: Response | WebSocket | None,
    *,
    authorization: str | None = None,
) -> Context:
    """A request's context; `authorization` stands for the request's own header (a WebSocket operation's key)."""
    access = await provide(container.access.service())
    users = await provide(container.users.service())

    async def load_users(keys: list[tuple[UUID, str]]) -> list[User | None]:
        found = await users.by_keys(keys)
        return [found.get(key) for key in keys]

    sessions = await provide(container.usage.sessions())
    budgets = await provide(container.budgets.service())
    authorization = authorization or request.headers.get("authorization")
    principal = await authenticate(access, authorization)
    conversations = await provide(container.usage.conversations())
    return Context(
        request=request,
        response=response,
        principal=principal,
        authorization=authorization,
        public_url=container.settings().public_url,
        access=access,
        workspaces=await provide(container.workspaces.service()),
        users=users,
        providers=await provide(container.llm_providers.service()),
        usage=await provide(container.usage.service()),
        analytics=await provide(container.usage.analytics()),
        user_loader=DataLoader(load_fn=load_users),
        sessions=sessions,
        session_events_loader=DataLoader(load_fn=sessions.events_of),
        live=await provide(container.usage.live()),
        budgets=budgets,
        budget_alerts_loader=DataLoader(load_fn=budgets.alerts_of),
        conversations=conversations,
        conversation_loader=ConversationLoader(conversations),
    )
