"""Custom GraphQL scalars: `Decimal` (money as a decimal string), `BigInt` (64-bit sums) and `DateTime`.

Money never passes through a float: `Decimal` serialises as a plain decimal string without
exponent or trailing zeros ("0.0035"), and accepts strings, integers and literal numbers of a sane size.
`DateTime` is strawberry's (ISO 8601) with a range: an instant whose UTC value (or a day either side of it)
leaves Python's years 1-9999 would overflow later (`0001-01-01T00:00:00+14:00` is in year 0 in UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NewType

import dateutil.parser
import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

BigInt = NewType("BigInt", int)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DECIMAL_DIGITS = 50
MAX_DECIMAL_MAGNITUDE = 30  # |exponent| of the leading digit: 1e-30 to 1e30; NUMERIC(20, 10) holds less
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)
# the form nearly every client sends (what `datetime.isoformat()` and JavaScript's `toISOString()` write), which
# the standard library reads as dateutil does, six times faster; every other ISO 8601 form goes to dateutil
COMMON_FORM = re.compile(
    r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)


def format_decimal(value: Decimal) -> str:
    """'0.0035000000' → '0.0035', '1E+2' → '100', '0E-10' → '0': the value exactly, positional, without trailing
    zeros. Cut as text (a third of the time normalize() took: an hourly series writes thousands of costs; and
    normalize() rounded to 28 digits, where the API takes 50)."""
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError('Decimal must be a decimal string such as "0.0035"')
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{str(value)[:40]!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError("Decimal must be a finite number")
    if parsed and (
        len(parsed.as_tuple().digits) > MAX_DECIMAL_DIGITS or abs(parsed.adjusted()) > MAX_DECIMAL_MAGNITUDE
    ):
        raise ValueError(
            f"Decimal must have at most {MAX_DECIMAL_DIGITS} digits and lie between "
            f"1e-{MAX_DECIMAL_MAGNITUDE} and 1e{MAX_DECIMAL_MAGNITUDE}"
        )
    return parsed


def parse_decimal_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Decimal:
    if isinstance(node, (StringValueNode, IntValueNode, FloatValueNode)):
        return parse_decimal(node.value)
    raise ValueError('Decimal must be a decimal string such as "0.0035"')


def parse_bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("BigInt must be an integer")
    try:
        parsed = int(value)
    except ValueError:
        raise ValueError(f"{str(value)[:40]!r} is not an integer") from None
    if not INT64_MIN <= parsed <= INT64_MAX:
        raise ValueError("BigInt must fit in 64 bits")
    return parsed


def parse_bigint_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    if isinstance(node, (IntValueNode, StringValueNode)):
        return parse_bigint(node.value)
    raise ValueError("BigInt must be an integer")


def instant_in_range(moment: datetime) -> bool:
    """True for a naive moment (its own check refuses it) and an aware one from EARLIEST to LATEST in UTC."""
    if moment.tzinfo is None:
        return True
    try:
        return EARLIEST <= moment.astimezone(UTC) <= LATEST
    except OverflowError:
        return False


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string such as 2026-11-20T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value) if COMMON_FORM.fullmatch(value) else dateutil.parser.isoparse(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 date and time") from None
    if not instant_in_range(moment):
        raise ValueError(f"DateTime must lie between {EARLIEST.date()} and {LATEST.date()} in UTC")
    return moment


SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time (isoformat)",
        serialize=datetime.isoformat,
        parse_value=parse_datetime,
    ),
    Decimal: strawberry.scalar(
        name="Decimal",
        description='A decimal number as a string, e.g. "0.0035". Money is never a float.',
        serialize=format_decimal,
        parse_value=parse_decimal,
        parse_literal=parse_decimal_literal,
    ),
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit integer, serialised as a JSON number (token sums overflow Int).",
        serialize=int,
        parse_value=parse_bigint,
        parse_literal=parse_bigint_literal,
    ),
}
