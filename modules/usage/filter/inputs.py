"""The GraphQL filter every usage query takes, with `to_model()` into plain data."""

from __future__ import annotations

from datetime import datetime

import strawberry

from modules.usage.records import TagCondition, UsageFilterDraft, UsageStatus


@strawberry.input(description="A tag condition: `key` equals `value`, or (value null) the tag is present.")
class TagFilter:
    key: str
    value: str | None = None


@strawberry.input(
    description="Which events to consider: one workspace, [from, to), and optional conditions that must all "
    "hold: equalities, `in` lists (providers, models, taskTypes, userIds) and tags."
)
class UsageFilter:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's id or slug.")
    user_id: str | None = None
    provider: str | None = None
    model: str | None = None
    task_type: str | None = None
    provider_instance_id: strawberry.ID | None = None
    status: UsageStatus | None = None
    error_type: str | None = None
    session_id: str | None = None
    user_ids: list[str] | None = None
    providers: list[str] | None = None
    models: list[str] | None = None
    task_types: list[str] | None = None
    tags: list[TagFilter] | None = None
    catalogue_model: str | None = strawberry.field(
        default=None, description="The catalogue's model id (usageEvents' catalogueModel): all its dated snapshots."
    )
    catalogue_models: list[str] | None = None
    from_: datetime | None = strawberry.field(default=None, name="from", description="Inclusive.")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_model(self) -> UsageFilterDraft:
        return UsageFilterDraft(
            workspace_id=str(self.workspace_id),
            user_id=self.user_id,
            provider=self.provider,
            model=self.model,
            task_type=self.task_type,
            provider_instance_id=str(self.provider_instance_id) if self.provider_instance_id else None,
            status=self.status,
            error_type=self.error_type,
            session_id=self.session_id,
            user_ids=tuple(self.user_ids) if self.user_ids is not None else None,
            providers=tuple(self.providers) if self.providers is not None else None,
            models=tuple(self.models) if self.models is not None else None,
            task_types=tuple(self.task_types) if self.task_types is not None else None,
            tags=tuple(TagCondition(t.key, t.value) for t in self.tags or ()),
            start=self.from_,
            end=self.to,
            catalogue_model=self.catalogue_model,
            catalogue_models=tuple(self.catalogue_models) if self.catalogue_models is not None else None,
        )
