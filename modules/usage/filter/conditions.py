"""A validated UsageFilterSpec as SQL conditions on usage_events (or a rollup), shared by every read."""

from __future__ import annotations

from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement

from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UsageFilterSpec

# The filter's fields that a column of the same name must equal, and those that list the values a column may hold.
EQUALITY_FIELDS = (
    "provider",
    "model",
    "task_type",
    "provider_instance_id",
    "status",
    "user_id",
    "error_type",
    "session_id",
    "catalogue_model",
)
MEMBERSHIP_COLUMNS = {
    "providers": "provider",
    "models": "model",
    "task_types": "task_type",
    "user_ids": "user_id",
    "catalogue_models": "catalogue_model",
}


def filtered_columns(spec: UsageFilterSpec) -> set[str]:
    """The columns the filter puts an equality or membership condition on."""
    found = {field for field in EQUALITY_FIELDS if getattr(spec, field) is not None}
    return found | {column for field, column in MEMBERSHIP_COLUMNS.items() if getattr(spec, field) is not None}


def column_conditions(spec: UsageFilterSpec, table: Any) -> list[ColumnElement[bool]]:
    """The workspace and every equality or membership the filter sets, on `table`'s columns of those names
    (a rollup is only asked when it holds them all)."""
    conditions: list[ColumnElement[bool]] = [table.workspace_id == spec.workspace_id]
    for field in EQUALITY_FIELDS:
        value = getattr(spec, field)
        if value is not None:
            conditions.append(getattr(table, field) == (value.value if isinstance(value, Enum) else value))
    for field, column in MEMBERSHIP_COLUMNS.items():
        values = getattr(spec, field)
        if values is not None:
            conditions.append(getattr(table, column).in_(values))
    return conditions


def filter_conditions(spec: UsageFilterSpec) -> list[ColumnElement[bool]]:
    conditions = column_conditions(spec, Event)
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
