"""What text PostgreSQL can store: UTF-8 without NUL. A JSON string may still hold a NUL (`\\u0000`) or half of
a surrogate pair (`\\ud800`); both are refused at the edge, whatever field they are in."""

from __future__ import annotations

NUL_REASON = "must not contain NUL characters"
SURROGATE_REASON = "must be valid Unicode (it holds an unpaired surrogate)"


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return NUL_REASON
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_REASON
    return None
