"""Ids as callers send them: a UUID in text, or None when the text is not one (a slug, a typo)."""

from __future__ import annotations

from uuid import UUID


def parse_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
