"""Custom GraphQL scalars: `Decimal` (money as a decimal string) and `BigInt` (64-bit sums).

Money never passes through a float: `Decimal` serialises as a plain decimal string without
exponent or trailing zeros ("0.0035"), and accepts strings, integers and literal numbers.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, NewType

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

BigInt = NewType("BigInt", int)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def format_decimal(value: Decimal) -> str:
    """'0.0035000000' → '0.0035', '1E+2' → '100', '0E-10' → '0'."""
    text = format(value.normalize(), "f")
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


SCALAR_MAP: dict[object, ScalarDefinition] = {
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
