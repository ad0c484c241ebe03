"""IANA time zones by name. A name is looked up in the installed zone list before ZoneInfo opens a file for it:
ZoneInfo takes the name as a path, so a 300-character name raised OSError (file name too long)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def time_zone(name: str) -> ZoneInfo | None:
    """The zone called `name`, or None if there is none."""
    return ZoneInfo(name) if name in known_zones() else None
