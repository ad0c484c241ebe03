"""The DateTime scalar reads the common form with the standard library and every other ISO 8601 form with
dateutil: both paths give the same instants and offsets dateutil gave, and refuse what it refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import dateutil.parser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.core.scalars import COMMON_FORM, parse_datetime

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC) | offsets)


def written(moment: datetime, digits: int, zulu: bool) -> str:
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    offset = moment.utcoffset() or timedelta()
    if zulu and not offset:
        return text + "Z"
    sign, minutes = ("-" if offset < timedelta() else "+"), abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@given(moments, st.integers(min_value=0, max_value=6), st.booleans())
def test_the_common_form_reads_as_dateutil_reads_it(moment: datetime, digits: int, zulu: bool) -> None:
    text = written(moment, digits, zulu)
    assert COMMON_FORM.fullmatch(text)
    expected = dateutil.parser.isoparse(text)
    parsed = parse_datetime(text)
    assert (parsed, parsed.utcoffset(), parsed.isoformat()) == (expected, expected.utcoffset(), expected.isoformat())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20 10:00:00Z", "2026-11-20T10:00:00+00:00"),  # a space for the T
        ("20261120T100000Z", "2026-11-20T10:00:00+00:00"),  # the basic format
        ("2026-11-20T10:00Z", "2026-11-20T10:00:00+00:00"),  # no seconds
        ("2026-11-20T10:00:00.1234567+01:00", "2026-11-20T10:00:00.123456+01:00"),  # seven digits
        ("2026-11-20T10:00:00+0100", "2026-11-20T10:00:00+01:00"),  # an offset without its colon
        ("2026-11-20T24:00:00Z", "2026-11-21T00:00:00+00:00"),  # midnight at the end of the day
        ("2026-W47-5T10:00:00Z", "2026-11-20T10:00:00+00:00"),  # a week date
    ],
)
def test_the_other_iso_forms_still_read(text: str, expected: str) -> None:
    assert not COMMON_FORM.fullmatch(text)
    assert parse_datetime(text).isoformat() == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-02-30T10:00:00Z", "is not an ISO 8601 date and time"),
        ("2026-11-20T10:00:60Z", "is not an ISO 8601 date and time"),
        ("2026-11-20T10:00:00+24:00", "is not an ISO 8601 date and time"),
        ("0001-01-01T00:00:00+14:00", "DateTime must lie between"),
        ("9999-12-31T23:59:59-14:00", "DateTime must lie between"),
    ],
)
def test_impossible_and_out_of_range_instants_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_datetime(text)
