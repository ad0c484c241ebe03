"""Calendar periods in a budget's own time zone: a day from local midnight, an ISO week from Monday, a month
from its first day. Boundaries are returned in UTC; DST days are 23 or 25 hours long, as on the wall."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from modules.budgets.records import BudgetPeriod


def period_bounds(period: BudgetPeriod, time_zone: str, at: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of the period holding `at`."""
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    day = local.date()
    if period is BudgetPeriod.DAILY:
        first, following = day, day + timedelta(days=1)
    elif period is BudgetPeriod.WEEKLY:
        first = day - timedelta(days=day.weekday())
        following = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)

    return midnight(first), midnight(following)
