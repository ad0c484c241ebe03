"""The errors modules raise; each carries the GraphQL `extensions.code` a caller sees.

    LlmUsageError            INTERNAL         never shown as is: masked and logged with an id
    ├── BadUserInput         BAD_USER_INPUT   names the field (and batch index) and the reason
    ├── Unauthenticated      UNAUTHENTICATED
    ├── Forbidden            FORBIDDEN
    ├── NotFound             NOT_FOUND
    ├── Conflict             CONFLICT
    ├── RateLimited          RATE_LIMITED     with retryAfter (seconds)
    └── Unavailable          UNAVAILABLE      retryable: the database cannot be reached

graphql-core copies an exception's `extensions` dict onto the GraphQL error, so raising is all a
service does; `service/errors.py` gives codes to the errors graphql-core raises itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


class LlmUsageError(Exception):
    """Base of every error this service raises on purpose."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **details}


@dataclass(frozen=True)
class Problem:
    """One reason an input was refused: the field (GraphQL name), the reason, the batch index if any."""

    field: str
    reason: str
    index: int | None = None

    @property
    def path(self) -> str:
        return self.field if self.index is None else f"inputs[{self.index}].{self.field}"

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"field": self.field, "reason": self.reason}
        if self.index is not None:
            found["index"] = self.index
        return found


class BadUserInput(LlmUsageError):
    """The input is wrong; nothing was written. All problems found are listed in `problems`."""

    code = "BAD_USER_INPUT"
    max_listed: ClassVar[int] = 100

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        others = len(problems) - 1
        more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
        super().__init__(
            f"{first.path}: {first.reason}{more}",
            **first.as_dict(),
            problems=[p.as_dict() for p in problems[: self.max_listed]],
        )
        self.problems = tuple(problems)

    @classmethod
    def of(cls, field: str, reason: str, *, index: int | None = None) -> BadUserInput:
        return cls([Problem(field, reason, index)])


class Unauthenticated(LlmUsageError):
    code = "UNAUTHENTICATED"


class Forbidden(LlmUsageError):
    code = "FORBIDDEN"


class NotFound(LlmUsageError):
    code = "NOT_FOUND"


class Conflict(LlmUsageError):
    code = "CONFLICT"


class RateLimited(LlmUsageError):
    """Too many requests for this key; `retryAfter` says in how many seconds to try again."""

    code = "RATE_LIMITED"


class Unavailable(LlmUsageError):
    """The database cannot be reached: nothing was done; the same request may be retried."""

    code = "UNAVAILABLE"
