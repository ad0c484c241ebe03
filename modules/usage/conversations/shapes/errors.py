"""The one error of reading a call's content: what the caller sent is not the provider's shape."""

from __future__ import annotations


class ContentShapeError(Exception):
    """`field` is the argument that did not match ("input" or "output"); `reason` names the place inside it and
    what was wrong, for the caller to fix (e.g. "messages[2].content: expected a string or a list of parts, got
    a number")."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
