"""Lists of scalars and enums completed in one pass.

graphql-core completes a list item by item: for each one a path entry, `complete_value` (null checks, the
type's kind looked up again), `complete_leaf_value`, and a `try` around it — ~3 µs an item, the largest part
of answering a time series as columns (720 hourly buckets by 8 providers, each selected metric). A list of a
leaf type needs none of that per item: each item is either null or its type's `coerce_output_value`. Here such
a list is completed in one loop; when any item is not a plain value that coerces (null where the type is
non-null, an awaitable, an exception, a value the scalar refuses), or the field is streamed (`@stream`), the
whole list goes to graphql-core's own completion, so every error, its message and its path are graphql-core's.
Written so it could be offered upstream as a fast path in `Executor.complete_list_value`.
tests/test_leaf_lists.py holds both to the same answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
)
from graphql.execution import Executor
from graphql.pyutils import AwaitableOrValue, Path, Undefined

# Types whose values are neither awaitable nor exceptions: asking would be a quarter of the loop's time.
PLAIN_VALUES = frozenset({int, float, str, bool, Decimal, datetime})


class LeafListCompletion(Executor[Any]):
    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: AsyncIterable[Any] | Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        item_type = return_type.of_type
        non_null = isinstance(item_type, GraphQLNonNull)
        leaf = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (
            type(result) is list
            and isinstance(leaf, GraphQLScalarType | GraphQLEnumType)
            and not self.get_stream_usage(field_details_list, path)
        ):
            completed = self.completed_leaves(leaf.coerce_output_value, non_null, result)
            if completed is not None:
                return completed
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def completed_leaves(self, coerce: Any, non_null: bool, items: list[Any]) -> list[Any] | None:
        """Each item coerced, or None when one needs graphql-core's completion (an error, or not a value)."""
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        append = completed.append
        for item in items:
            if item is None:
                if non_null:
                    return None
                append(None)
                continue
            if type(item) not in PLAIN_VALUES and (isinstance(item, Exception) or is_awaitable(item)):
                return None
            try:
                value = coerce(item)
            except Exception:  # graphql-core's completion raises it again, with its path
                return None
            if value is None or value is Undefined:
                return None
            append(value)
        return completed
