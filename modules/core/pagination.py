"""Relay connection pieces shared by every paginated list: opaque cursors and `PageInfo`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import strawberry

from modules.core.errors import BadUserInput
from modules.core.scalars import INT64_MAX, INT64_MIN, instant_in_range
from modules.core.text import text_problem

T = TypeVar("T")


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps(parts, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, size: int, field: str = "after") -> list[Any]:
    """The parts of a cursor made by `encode_cursor`; BAD_USER_INPUT if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput.of(field, "is not a cursor returned by this API") from None
    if not isinstance(parts, list) or len(parts) != size or not all(map(plain_part, parts)):
        raise BadUserInput.of(field, "is not a cursor returned by this API")
    return parts


def plain_part(part: Any) -> bool:
    """A part this API could have written: text it can store, or a 64-bit integer."""
    if isinstance(part, str):
        return text_problem(part) is None
    return isinstance(part, int) and not isinstance(part, bool) and INT64_MIN <= part <= INT64_MAX


def decode_time_cursor(
    cursor: str | None, key: Callable[[Any], T], *, field: str = "after"
) -> tuple[datetime, T] | None:
    """A (moment, key) keyset position from a cursor made by encode_cursor(moment.isoformat(), key)."""
    if cursor is None:
        return None
    moment, position = decode_cursor(cursor, size=2, field=field)
    try:
        parsed = datetime.fromisoformat(moment), key(position)
    except (TypeError, ValueError, OverflowError):
        raise BadUserInput.of(field, "is not a cursor returned by this API") from None
    if parsed[0].tzinfo is None or not instant_in_range(parsed[0]) or not plain_part(parsed[1]):
        raise BadUserInput.of(field, "is not a cursor returned by this API")
    return parsed


def check_page_size(first: int, *, maximum: int, field: str = "first") -> None:
    if not 1 <= first <= maximum:
        raise BadUserInput.of(field, f"must be between 1 and {maximum} (got {first})")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: Sequence[str], *, has_next: bool, after: str | None) -> PageInfo:
        """A keyset page's info: the page's cursors in order, whether more follow, the cursor it came after."""
        return cls(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
