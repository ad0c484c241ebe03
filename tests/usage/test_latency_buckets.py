"""The latency histograms' buckets, bucket by bucket: each bucket's representative lies between the whole
milliseconds the bucket holds (the next one when it holds none), within 1.96% of each, and the SQL
that reads the histograms computes the very same representative as the Python that tests and benches use."""

from __future__ import annotations

import math

from sqlalchemy import Integer, column, func, select, text

from modules.core.database import Database
from modules.usage.rollups.latency import GROWTH, MAX_RELATIVE_ERROR, bucket_of, representative

BUCKETS = range(0, 700)  # past 1.04^699 ms (8.5e11): more than an int4 duration holds


def held(bucket: int) -> tuple[int, int]:
    """The lowest and highest whole milliseconds in a bucket b >= 1: [GROWTH^(b-1), GROWTH^b)."""
    return math.ceil(GROWTH ** (bucket - 1)), math.ceil(GROWTH**bucket) - 1


def test_each_bucket_stands_for_the_milliseconds_it_holds_within_2_percent() -> None:
    assert representative(0) == 0.0  # bucket 0 holds 0 ms only
    empty = []
    for bucket in BUCKETS[1:]:
        lowest, highest = held(bucket)
        found = representative(bucket)
        if lowest > highest:  # narrower than a millisecond, between two buckets that hold one each
            empty.append(bucket)
            assert found == lowest, bucket
            continue
        assert lowest <= found <= highest, (bucket, lowest, found, highest)
        if lowest == highest:  # one whole millisecond: exact
            assert found == lowest, bucket
        for value in (lowest, highest):  # the farthest values it stands for
            assert bucket_of(value) == bucket
            assert abs(found - value) <= MAX_RELATIVE_ERROR * value + 1e-9, (bucket, value, found)
    assert (len(empty), empty[:3], max(empty)) == (58, [2, 3, 4], 81)  # all below 24 ms
    assert [representative(b) for b in (1, 18, 19, 83, 84)] == [1.0, 2.0, 3.0, 25.0, 26.0]


async def test_the_sql_representative_is_the_python_one(database: Database) -> None:
    buckets = select(column("b", Integer)).select_from(text("generate_series(0, 699) AS b")).subquery()
    statement = select(buckets.c.b, func.usage_latency_representative(buckets.c.b)).order_by(buckets.c.b)
    async with database.session_factory() as session:
        rows = (await session.execute(statement)).all()
    assert [b for b, _ in rows] == list(BUCKETS)
    mismatched = [
        (b, got, representative(b)) for b, got in rows if not math.isclose(got, representative(b), rel_tol=1e-12)
    ]
    assert mismatched == []
