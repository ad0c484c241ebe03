"""How a Decimal is written in answers and exports (format_decimal): the value exactly, in positional form,
without trailing zeros, and 0 unsigned, for every finite decimal (the API takes up to 50 digits)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from modules.core.scalars import format_decimal

STORED_COSTS = st.decimals(places=10, min_value=-(10**10), max_value=10**10)  # NUMERIC(20, 10)


@given(st.decimals(allow_nan=False, allow_infinity=False) | STORED_COSTS)
def test_it_writes_the_exact_value_in_its_shortest_positional_form(value: Decimal) -> None:
    text = format_decimal(value)
    assert Decimal(text) == value
    assert set(text) <= set("-0123456789.")
    assert not ("." in text and text.endswith(("0", "."))) and text != "-0"


def test_stored_costs_and_their_edges() -> None:
    cases = {
        "0.0035000000": "0.0035", "1E+2": "100", "0E-10": "0", "-0.0000000000": "0", "100.0000000000": "100",
        "100": "100", "-0": "0", "1.2345678901": "1.2345678901", "0.0000001000": "0.0000001", "-12.50": "-12.5",
        "1.50E-8": "0.000000015", "10000000000000000000000000000000000000000000000001": "1" + "0" * 48 + "1",
    }  # fmt: skip
    assert {given: format_decimal(Decimal(given)) for given in cases} == cases
