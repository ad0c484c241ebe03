"""GraphQL types of end users' usage: topUsers and user(workspaceId, userId)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry

from modules.usage import records
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.types import UsageDimensionGroupType
from modules.usage.types import UsageEventType, UsageMetricsType
from modules.users import UserType


@strawberry.enum
class TopUsersBy(Enum):
    COST = "COST"
    CALLS = "CALLS"
    TOKENS = "TOKENS"


@strawberry.type(name="UserUsage", description="An end user's usage.")
class UserUsageType:
    user_id: str
    metrics: UsageMetricsType
    workspace_id: strawberry.Private[UUID]

    @strawberry.field(description="The user's name and email, if registered with upsertUser (batched).")
    async def user(self, info: strawberry.Info) -> UserType | None:
        found = await info.context.user_loader.load((self.workspace_id, self.user_id))
        return UserType.from_model(found) if found else None

    @classmethod
    def from_group(cls, group: records.DimensionGroup, workspace_id: UUID) -> UserUsageType:
        return cls(
            user_id=str(group.values[0]), metrics=UsageMetricsType.from_model(group.metrics), workspace_id=workspace_id
        )


@strawberry.type(
    name="UserActivity",
    description="One end user: what they used, when, on which models, and their latest calls.",
)
class UserActivityType:
    user_id: str
    metrics: UsageMetricsType
    first_seen: datetime | None
    last_seen: datetime | None
    models: list[UsageDimensionGroupType] = strawberry.field(description="By model, most cost first.")
    recent_events: list[UsageEventType] = strawberry.field(description="Newest first.")
    workspace_id: strawberry.Private[UUID]

    @strawberry.field(description="The user's name and email, if registered with upsertUser.")
    async def user(self, info: strawberry.Info) -> UserType | None:
        found = await info.context.user_loader.load((self.workspace_id, self.user_id))
        return UserType.from_model(found) if found else None

    @classmethod
    def from_model(cls, activity: records.UserActivity) -> UserActivityType:
        model = (UsageDimension.MODEL,)
        return cls(
            user_id=activity.user_id,
            metrics=UsageMetricsType.from_model(activity.metrics),
            first_seen=activity.first_seen,
            last_seen=activity.last_seen,
            models=[UsageDimensionGroupType.from_model(g, model, activity.workspace_id) for g in activity.models],
            recent_events=[UsageEventType.from_model(e) for e in activity.recent_events],
            workspace_id=activity.workspace_id,
        )
