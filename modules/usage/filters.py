"""A validated UsageFilterSpec as SQL conditions on usage_events, shared by every read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UsageFilterSpec


def shared_conditions(spec: UsageFilterSpec, table: Any) -> list[ColumnElement[bool]]:
    """The conditions on columns both the events and the daily rollup hold."""
    conditions: list[ColumnElement[bool]] = [table.workspace_id == spec.workspace_id]
    equalities = {
        table.provider: spec.provider,
        table.model: spec.model,
        table.task_type: spec.task_type,
        table.provider_instance_id: spec.provider_instance_id,
        table.status: spec.status.value if spec.status else None,
    }
    conditions.extend(column == value for column, value in equalities.items() if value is not None)
    memberships = {table.provider: spec.providers, table.model: spec.models, table.task_type: spec.task_types}
    conditions.extend(column.in_(values) for column, values in memberships.items() if values is not None)
    return conditions


def filter_conditions(spec: UsageFilterSpec) -> list[ColumnElement[bool]]:
    conditions = shared_conditions(spec, Event)
    equalities = {Event.user_id: spec.user_id, Event.error_type: spec.error_type, Event.session_id: spec.session_id}
    conditions.extend(column == value for column, value in equalities.items() if value is not None)
    if spec.user_ids is not None:
        conditions.append(Event.user_id.in_(spec.user_ids))
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
