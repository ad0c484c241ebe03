"""How `track()` checks each value before queueing: the GraphQL types of `TrackUsageInput` (an Int is a 32-bit
integer, not a bool nor a fraction; a status is SUCCESS or ERROR; a time has a UTC offset; an amount is a finite
decimal) and what can neither travel as UTF-8 JSON (lone surrogates) nor be stored (NUL). An event failing one
of these could never be sent, and the server refuses a batch holding it without always saying which event it
was: it must not be queued. The service's own rules (non-negative counts, lengths, sums) stay on the server,
which names the event, so only that event is dropped. Each check returns the value to send, or raises
ValueError with the reason."""

from __future__ import annotations

import math
import numbers
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from llm_usage_client.responses import as_json  # the one place SDK objects become JSON

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # GraphQL's Int
STATUSES = ("SUCCESS", "ERROR")  # the UsageStatus enum


def kind(value: Any) -> str:
    return type(value).__name__


def text(value: Any) -> str:
    """A String: a str without NUL characters or lone surrogates (a subclass is sent as a plain str)."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {kind(value)}")
    plain = str.__str__(value)
    if "\x00" in plain:
        raise ValueError(f"must not contain NUL characters (at position {plain.index(chr(0))})")
    try:
        plain.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"holds a lone surrogate at position {error.start}: UTF-8 cannot carry it") from None
    return plain


def identifier(value: Any) -> str:
    """An ID: a string (a workspace slug, a UUID) or a uuid.UUID."""
    return str(value) if isinstance(value, uuid.UUID) else text(value)


def integer(value: Any) -> int:
    """An Int: an integer, or a Decimal or float with an integral value; never a bool, a fraction or a string."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, Decimal, float)):
        raise ValueError(f"must be an integer, got {kind(value)}")
    if not isinstance(value, numbers.Integral) and not whole(value):
        raise ValueError(f"must be a whole number, got {value!r}")
    number = int(value)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"must fit in 32 bits (GraphQL's Int), got {number}")
    return number


def whole(value: Decimal | float) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return math.isfinite(value) and value.is_integer()


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be a bool, got {kind(value)}")
    return value


def status(value: Any) -> str:
    if value not in STATUSES:
        raise ValueError(f"must be one of {', '.join(STATUSES)}, got {value!r}")
    return STATUSES[STATUSES.index(value)]


def moment(value: Any) -> str:
    """A DateTime: a timezone-aware datetime, or an ISO 8601 string with a UTC offset (sent normalised)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(text(value))
        except ValueError:
            raise ValueError(f"must be an ISO 8601 date and time, got {value!r}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"must be a datetime, got {kind(value)}")
    if value.utcoffset() is None:
        raise ValueError("must include a UTC offset (a timezone-aware datetime)")
    return value.isoformat()


def amount(value: Any) -> str:
    """A Decimal: a finite number, sent as a decimal string (money never passes through a float here)."""
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Real, Decimal)):
        raise ValueError(f"must be a decimal number or string, got {kind(value)}")
    try:
        parsed = Decimal(text(value).strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise ValueError(f"must be a decimal number, got {value!r}") from None
    if not parsed.is_finite():
        raise ValueError(f"must be a finite number, got {value!r}")
    return str(parsed)


def tags(value: Any) -> dict[str, str]:
    """JSON, by the schema; by the service, a flat object of strings. Sent as a plain dict copied now, so a
    mapping changed after track() cannot change what is sent."""
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a mapping of strings to strings, got {kind(value)}")
    checked: dict[str, str] = {}
    for key, item in value.items():
        try:
            checked[text(key)] = text(item)
        except ValueError as error:
            raise ValueError(f"{key!r}: {error}") from None
    return checked


def json_object(value: Any) -> dict[str, Any]:
    """JSON: an object (a mapping, or an SDK's pydantic model, dumped as its wire JSON) of JSON values — strings
    as `text`, finite numbers, bools, nulls, lists and objects — copied now."""
    plain = as_json(value)
    if not isinstance(plain, dict):
        raise ValueError(f"must be a mapping (a JSON object), got {kind(value)}")
    checked: dict[str, Any] = json_value(plain)
    return checked


def json_content(value: Any) -> Any:
    """A call's content (its request or its answer): any JSON value, or an SDK's pydantic model as its wire JSON."""
    return json_value(as_json(value))


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"holds a number JSON cannot carry: {value!r}")
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {text(key) if isinstance(key, str) else text(str(key)): json_value(item) for key, item in value.items()}
    raise ValueError(f"holds a {kind(value)}, which is not JSON")


def kinds(value: Any) -> dict[str, int | float]:
    """genai-prices usage kinds: a mapping of kind names to numbers (the server knows the kinds)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a mapping of usage kinds to counts, got {kind(value)}")
    checked: dict[str, int | float] = {}
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, (int, float, Decimal)):
            raise ValueError(f"{key!r}: must be a number, got {kind(count)}")
        checked[text(key)] = int(count) if isinstance(count, int) or whole(count) else float(count)
    return checked
