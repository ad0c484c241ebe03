"""The latency histograms' bucket scheme (usage_latency_daily): log-spaced buckets, each 4% wider than the
one before, so a bucket's representative is within (GROWTH - 1) / (GROWTH + 1) = 1.96% of any value in it.

Bucket 0 holds 0 ms; bucket b ≥ 1 holds [GROWTH^(b-1), GROWTH^b). About 390 buckets span 1 ms to 1 hour;
a smallint holds every int4 duration. Durations are whole milliseconds, so a representative is kept within
the integers its bucket can hold (exact where a bucket holds one integer, as every bucket below 25 ms does).
A percentile interpolates between two ranks as percentile_cont does; each rank's representative is within
1.96% of its value, so the interpolation is too."""

from __future__ import annotations

import math

GROWTH = 1.04
MAX_RELATIVE_ERROR = (GROWTH - 1) / (GROWTH + 1)


def bucket_sql(value: str) -> str:
    """The bucket of the integer column `value` (null stays null), in SQL over usage_events."""
    return f"CASE WHEN {value} < 1 THEN 0 ELSE 1 + floor(ln({value}) / ln({GROWTH}))::integer END"


def bucket_of(value: int) -> int:
    """bucket_sql in Python (for tests and benches)."""
    return 0 if value < 1 else 1 + math.floor(math.log(value) / math.log(GROWTH))


def representative(bucket: int) -> float:
    """The value a bucket stands for: the point of least relative error to its bounds, kept within the
    integers the bucket holds. In SQL: usage_latency_representative (migration 0011)."""
    if bucket <= 0:
        return 0.0
    lower, upper = GROWTH ** (bucket - 1), GROWTH**bucket
    middle = 2 * upper / (1 + GROWTH)
    return float(max(math.ceil(lower), min(middle, math.ceil(upper) - 1)))
