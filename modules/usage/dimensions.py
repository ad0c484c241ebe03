"""The dimensions usage can be grouped by, as SQL expressions over usage_events (all as text)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Text, cast

from modules.core.errors import BadUserInput, Problem
from modules.usage.models import UsageEventRow as Event

MAX_DIMENSIONS = 4


class UsageDimension(StrEnum):
    PROVIDER = "PROVIDER"
    PROVIDER_INSTANCE = "PROVIDER_INSTANCE"
    MODEL = "MODEL"
    TASK_TYPE = "TASK_TYPE"
    USER = "USER"
    SESSION = "SESSION"
    STATUS = "STATUS"
    ERROR_TYPE = "ERROR_TYPE"
    TAG = "TAG"


@dataclass(frozen=True)
class Grouping:
    """Checked dimensions to group by, in order; `tag_key` names the tag TAG groups by."""

    dimensions: tuple[UsageDimension, ...]
    tag_key: str | None = None

    @classmethod
    def check(cls, dimensions: list[UsageDimension], tag_key: str | None, *, field: str = "groupBy") -> Grouping:
        problems = []
        if len(dimensions) > MAX_DIMENSIONS:
            problems.append(Problem(field, f"may name at most {MAX_DIMENSIONS} dimensions"))
        if len(set(dimensions)) != len(dimensions):
            problems.append(Problem(field, "names a dimension twice"))
        if UsageDimension.TAG in dimensions and not tag_key:
            problems.append(Problem("tagKey", "is required to group by TAG"))
        if problems:
            raise BadUserInput(problems)
        return cls(tuple(dimensions), tag_key if UsageDimension.TAG in dimensions else None)

    def columns(self, table: Any = Event) -> list[ColumnElement[Any]]:
        """One text expression per dimension, labelled d0, d1, … (over the events, or a rollup table that
        holds the dimensions grouped by)."""
        return [self.expression(d, table).label(f"d{i}") for i, d in enumerate(self.dimensions)]

    def expression(self, dimension: UsageDimension, table: Any = Event) -> ColumnElement[Any]:
        if table is not Event:
            if dimension is UsageDimension.PROVIDER_INSTANCE:
                return cast(table.provider_instance_id, Text)
            return getattr(table, dimension.value.lower())
        if dimension is UsageDimension.TAG:
            return Event.tags[self.tag_key].astext
        return {
            UsageDimension.PROVIDER: Event.provider,
            UsageDimension.PROVIDER_INSTANCE: cast(Event.provider_instance_id, Text),
            UsageDimension.MODEL: Event.model,
            UsageDimension.TASK_TYPE: Event.task_type,
            UsageDimension.USER: Event.user_id,
            UsageDimension.SESSION: Event.session_id,
            UsageDimension.STATUS: Event.status,
            UsageDimension.ERROR_TYPE: Event.error_type,
        }[dimension]
