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
    CATALOGUE_MODEL = "CATALOGUE_MODEL"  # one value for a model's dated snapshots; null for unknown models
    TASK_TYPE = "TASK_TYPE"
    USER = "USER"
    SESSION = "SESSION"
    STATUS = "STATUS"
    ERROR_TYPE = "ERROR_TYPE"
    TAG = "TAG"


# The column each dimension groups by (TAG groups by a key inside the tags).
DIMENSION_COLUMNS = {
    UsageDimension.PROVIDER: "provider",
    UsageDimension.PROVIDER_INSTANCE: "provider_instance_id",
    UsageDimension.MODEL: "model",
    UsageDimension.CATALOGUE_MODEL: "catalogue_model",  # in no rollup: read from the events
    UsageDimension.TASK_TYPE: "task_type",
    UsageDimension.USER: "user_id",
    UsageDimension.SESSION: "session_id",
    UsageDimension.STATUS: "status",
    UsageDimension.ERROR_TYPE: "error_type",
}


@dataclass(frozen=True)
class GroupBy:
    """Checked dimensions to group by, in order; `tag_key` names the tag TAG groups by."""

    dimensions: tuple[UsageDimension, ...]
    tag_key: str | None = None

    @classmethod
    def check(cls, dimensions: list[UsageDimension], tag_key: str | None, *, field: str = "groupBy") -> GroupBy:
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
        if dimension is UsageDimension.TAG:
            tag: ColumnElement[str] = Event.tags[self.tag_key].astext
            return tag
        column = getattr(table, DIMENSION_COLUMNS[dimension])
        return cast(column, Text) if dimension is UsageDimension.PROVIDER_INSTANCE else column
