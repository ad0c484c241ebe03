"""The one place the modules' root types are merged into the schema, with its scalars and extensions."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from modules.access.resolvers import AccessMutation, AccessQuery
from modules.budgets.resolvers import BudgetMutation, BudgetQuery, BudgetSubscription
from modules.core.scalars import SCALAR_MAP
from modules.providers.resolvers import ProviderMutation, ProviderQuery
from modules.usage.analytics.resolvers import UsageQuery
from modules.usage.conversations.resolvers import ConversationMutation, ConversationQuery
from modules.usage.ingest.resolvers import UsageMutation
from modules.usage.live.resolvers import UsageSubscription
from modules.usage.sessions.resolvers import SessionMutation, SessionQuery
from modules.users.resolvers import UserMutation, UserQuery
from modules.workspaces.resolvers import WorkspaceMutation, WorkspaceQuery
from service import variable_coercion
from service.acyclic_executor import AcyclicExecutor
from service.documents import query_protection
from service.errors import ErrorCodes, classify
from service.leaf_lists import LeafListCompletion
from service.observability import PrometheusMetrics
from service.server_info import ServerQuery
from service.variable_diagnosis import VariableDiagnosis

Query = merge_types(
    "Query",
    (
        UsageQuery,
        SessionQuery,
        ConversationQuery,
        WorkspaceQuery,
        UserQuery,
        ProviderQuery,
        AccessQuery,
        BudgetQuery,
        ServerQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        UsageMutation,
        SessionMutation,
        ConversationMutation,
        WorkspaceMutation,
        UserMutation,
        ProviderMutation,
        AccessMutation,
        BudgetMutation,
    ),
)
Subscription = merge_types("Subscription", (UsageSubscription, BudgetSubscription))


class LlmUsageExecutor(AcyclicExecutor, LeafListCompletion, VariableDiagnosis):
    """graphql-core's executor with this service's variable diagnosis and its one-pass lists of scalars, freed
    when its operation ends."""


class LlmUsageSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Every error strawberry reports passes here, those raised by an extension's hook too (which skip the
        extensions' own exit): each gets its code, unexpected ones are logged once and masked."""
        for error in errors:
            classify(error)


def build_schema(*, production: bool = False, metrics: PrometheusMetrics | None = None) -> strawberry.Schema:
    """Extensions exit in reverse order: metrics (listed first) see the codes ErrorCodes gave. In production,
    no "Did you mean …" suggestions (with introspection off, they would still disclose the schema)."""
    observed = [metrics.extension()] if metrics else []
    variable_coercion.install()  # graphql-core's variable coercion, compiled per input type
    return LlmUsageSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
        extensions=[*observed, *query_protection(production=production), ErrorCodes],
        execution_context_class=LlmUsageExecutor,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
