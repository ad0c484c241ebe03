"""A validated UsageFilterSpec as SQL conditions on usage_events, shared by every read."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UsageFilterSpec


def filter_conditions(spec: UsageFilterSpec) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Event.workspace_id == spec.workspace_id]
    equalities = {
        Event.user_id: spec.user_id,
        Event.provider: spec.provider,
        Event.model: spec.model,
        Event.task_type: spec.task_type,
        Event.provider_instance_id: spec.provider_instance_id,
        Event.status: spec.status.value if spec.status else None,
        Event.error_type: spec.error_type,
        Event.session_id: spec.session_id,
    }
    conditions.extend(column == value for column, value in equalities.items() if value is not None)
    memberships = {
        Event.user_id: spec.user_ids,
        Event.provider: spec.providers,
        Event.model: spec.models,
        Event.task_type: spec.task_types,
    }
    conditions.extend(column.in_(values) for column, values in memberships.items() if values is not None)
    for tag in spec.tags:
        conditions.append(
            Event.tags.has_key(tag.key) if tag.value is None else Event.tags.contains({tag.key: tag.value})
        )
    if spec.with_user:
        conditions.append(Event.user_id.is_not(None))
    if spec.start is not None:
        conditions.append(Event.occurred_at >= spec.start)
    if spec.end is not None:
        conditions.append(Event.occurred_at < spec.end)
    return conditions
