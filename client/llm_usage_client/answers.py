"""How the server answered one trackUsageBatch request: stored; some events refused, named by their index;
refused as a whole, naming no event; or to be tried again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx

RETRYABLE_CODES = {"RATE_LIMITED", "UNAVAILABLE", "INTERNAL"}


class Problem(NamedTuple):
    """Why the server refused one event of a batch: the field (its GraphQL name, if given) and the reason."""

    field: str | None
    reason: str


@dataclass(frozen=True)
class Answer:
    inserted: int = 0
    duplicates: int = 0
    named: Mapping[int, Problem] = field(default_factory=dict)
    code: str | None = None
    reason: str = ""
    retry: bool = False
    permanent: bool = False


def read_answer(response: httpx.Response | None, error: Exception | None) -> Answer:
    if response is None:
        return Answer(retry=True, reason=f"network error: {error!r}")
    if response.status_code >= 500 or response.status_code == 429:
        return Answer(retry=True, reason=f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return Answer(permanent=True, reason=f"HTTP {response.status_code}, not JSON")
    body = body if isinstance(body, dict) else {}
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    stored = (body.get("data") or {}).get("trackUsageBatch") if not errors else None
    if stored:
        return Answer(inserted=stored["insertedCount"], duplicates=stored["duplicateCount"])
    first = errors[0] if errors else {"message": f"HTTP {response.status_code}, no result"}
    code = extensions(first).get("code")
    reason = f"{code}: {first.get('message')}"
    if any(extensions(e).get("code") in RETRYABLE_CODES for e in errors):
        return Answer(retry=True, code=code, reason=reason)
    return Answer(permanent=True, code=code, reason=reason, named=named_problems(errors))


def extensions(error: dict[str, Any]) -> dict[str, Any]:
    found = error.get("extensions")
    return found if isinstance(found, dict) else {}


def named_problems(errors: list[dict[str, Any]]) -> dict[int, Problem]:
    """The events BAD_USER_INPUT errors name, by index: each error's `problems`, else its own index and field.
    Several problems of one event are joined."""
    named: dict[int, Problem] = {}
    for error in errors:
        found = extensions(error)
        if found.get("code") != "BAD_USER_INPUT":
            continue
        problems = [p for p in found.get("problems") or [] if isinstance(p, dict)] or [found]
        for problem in problems:
            index = problem.get("index")
            if not isinstance(index, int) or isinstance(index, bool):
                continue
            field_name = problem.get("field")
            reason = str(problem.get("reason") or error.get("message"))
            said = f"{field_name}: {reason}" if field_name else reason
            if index in named:
                said = f"{named[index].reason}; {said}"
                field_name = named[index].field
            named[index] = Problem(field_name if isinstance(field_name, str) else None, said)
    return named
