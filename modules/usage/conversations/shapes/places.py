"""Where a reader is inside a caller's parsed JSON, and the typed reads that fail naming that place.

The readers are strict on types only (a message that is a number, a role that is not a string), tolerant of
extra keys, so that one error tells the caller exactly what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from .errors import ContentShapeError


def kind_of(value: object) -> str:
    """A JSON reader's name for a value's type: "a number", "null", "an object"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


@dataclass(frozen=True)
class At:
    """A place: the field ("input" or "output") and the path inside it ("messages[2].content")."""

    field: str
    path: str = ""

    def key(self, name: str) -> At:
        return At(self.field, f"{self.path}.{name}" if self.path else name)

    def index(self, position: int) -> At:
        return At(self.field, f"{self.path}[{position}]")

    def error(self, problem: str) -> ContentShapeError:
        return ContentShapeError(self.field, f"{self.path}: {problem}" if self.path else problem)

    def mismatch(self, expected: str, got: object) -> ContentShapeError:
        return self.error(f"expected {expected}, got {kind_of(got)}")

    def text(self, value: object) -> str:
        if not isinstance(value, str):
            raise self.mismatch("a string", value)
        return value

    def optional_text(self, value: object) -> str | None:
        return None if value is None else self.text(value)

    def items(self, value: object, expected: str) -> list[object]:
        if not isinstance(value, list):
            raise self.mismatch(expected, value)
        return cast(list[object], value)

    def mapping(self, value: object, expected: str) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.mismatch(expected, value)
        return cast(dict[str, object], value)
