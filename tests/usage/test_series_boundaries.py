"""Minute and hour bucket bounds are computed in one go (the first start plus whole steps of UTC time); they must
be exactly the bounds stepped one bucket at a time with `following`, in zones with odd offsets and DST (Lord Howe
moves by 30 minutes, Kathmandu is +05:45), and refuse the same ranges as too many buckets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from modules.core.errors import BadUserInput
from modules.usage.analytics.series import MAX_BUCKETS, TimeInterval, boundaries, floor, following, one_hour_apart

ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Europe/Istanbul", "Australia/Lord_Howe"]


def stepped(start: datetime, end: datetime, interval: TimeInterval, zone: ZoneInfo) -> list[datetime] | None:
    """The bounds one `following` at a time; None where there would be more than MAX_BUCKETS buckets."""
    found = [floor(start, interval, zone)]
    while found[-1] < end:
        if len(found) > MAX_BUCKETS:
            return None
        found.append(following(found[-1], interval))
    return found


def test_fixed_step_bounds_are_the_stepped_ones():
    rng = random.Random(5)
    refused = 0
    for _ in range(1500):
        zone, interval = ZoneInfo(rng.choice(ZONES)), rng.choice([TimeInterval.MINUTE, TimeInterval.HOUR])
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(365 * 86_400 * 10**6))
        longest = (MAX_BUCKETS + 50) * (3600 if interval is TimeInterval.HOUR else 60) * 10**6
        end = start + timedelta(microseconds=rng.randrange(-(10**9), longest))
        want = stepped(start, end, interval, zone)
        try:
            got = boundaries(start, end, interval, zone)
        except BadUserInput:
            refused += 1
            assert want is None, (start, end, interval, zone)
            continue
        assert got == want, (start, end, interval, zone)
        assert [b.isoformat() for b in got] == [b.isoformat() for b in want]  # the same offsets shown
    assert 20 < refused < 200


def test_hour_buckets_counted_from_the_first_hour_only_when_each_is_one_whole_utc_hour():
    """series.bucket_number numbers an hourly rollup's rows by arithmetic only for bounds one_hour_apart accepts."""

    def hours(zone: str, start: datetime, count: int) -> list[datetime]:
        first = start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        return [(first + timedelta(hours=i)).astimezone(ZoneInfo(zone)) for i in range(count)]

    assert one_hour_apart(hours("UTC", datetime(2026, 10, 2), 720))
    assert one_hour_apart(hours("America/New_York", datetime(2026, 3, 7), 72))  # across the spring change
    assert not one_hour_apart(hours("Asia/Kolkata", datetime(2026, 10, 2), 24))  # its hours start at :30 UTC
    days = [datetime(2026, 10, 2 + i, tzinfo=UTC) for i in range(3)]
    assert not one_hour_apart(days)
    assert not one_hour_apart([])
