"""Every string, JSON, date-time, decimal and integer leaf of every argument of every query and mutation, set in
turn to a value nobody should send (NUL, a lone surrogate, year 1 or 9999 with a ±14:00 offset, a decimal of a
billion digits of exponent, an integer past 64 bits): each is refused before anything runs, BAD_USER_INPUT
naming that field, never INTERNAL. The cases come from walking the schema, so a new argument is covered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.graphql import build_schema
from tests.schema_inputs import Case, cases

SCHEMA = build_schema()._schema
TEXT = ["a\x00b", "\ud800", "x\udfffy"]
HOSTILE: dict[str, list[Any]] = {
    "String": TEXT,
    "ID": TEXT,
    "JSON": [{"k": "a\x00b"}, {"a\x00": "v"}, {"k": ["\ud800"]}],
    "DateTime": ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z", "10000-01-01"],
    "Decimal": ["1e-999999999", "1e999999999", "NaN", "9" * 60],
    "Int": [2**31, 10**30],
}


def cases_of(scalar: str) -> list[tuple[Case, Any]]:
    return [(case, hostile) for hostile in HOSTILE[scalar] for case in cases(SCHEMA, scalar, hostile)]


def named(case: Case, error: dict[str, Any]) -> bool:
    """The refusal names the poisoned field (its last name), with the batch index when it is in a list."""
    fields = [p["field"] for p in error["extensions"].get("problems", [])] or [error["extensions"].get("field", "")]
    return any(case.leaf_name in field for field in fields)


@pytest.mark.parametrize("scalar", sorted(HOSTILE))
async def test_a_hostile_value_in_any_leaf_is_refused_naming_it(client, admin_key, scalar):
    found = cases_of(scalar)
    assert len(found) >= (10 if scalar in ("String", "ID", "DateTime", "Int") else 1), "the schema walk found too few"
    wrong: list[str] = []
    for case, hostile in found:
        response = await client.post(
            "/graphql",
            content=json.dumps({"query": case.document, "variables": case.variables}),  # \ud800 as JSON escapes
            headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
        )
        body = response.json()
        errors = body.get("errors") or []
        codes = {e.get("extensions", {}).get("code") for e in errors}
        if response.status_code != 200 or body.get("data") is not None or codes != {"BAD_USER_INPUT"}:
            wrong.append(f"{case.operation} {case.path} = {hostile!r}: {response.status_code} {response.text[:200]}")
        elif not named(case, errors[0]):
            wrong.append(f"{case.operation} {case.path}: refused without naming it: {errors[0]}")
    assert not wrong, "\n".join(wrong[:20]) + f"\n({len(wrong)} of {len(found)} cases)"
