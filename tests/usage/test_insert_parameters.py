"""The JSON array the insert sends: orjson's text reads back as the standard library's would write it (instants
with their offset, money exactly, UUIDs, text beyond ASCII), and what orjson refuses is written by json."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

from dateutil import tz

from modules.usage.records import NewUsageEvent
from modules.usage.repository import INSERT_COLUMNS, insert_parameters, json_value
from tests.event_values import VALUES

EVENT = NewUsageEvent(**VALUES)


def standard(event: NewUsageEvent) -> list[dict[str, object]]:
    row = {column: getattr(event, column) for column in INSERT_COLUMNS}
    return json.loads(json.dumps([row], default=json_value))


def sent(event: NewUsageEvent) -> list[dict[str, object]]:
    return json.loads(insert_parameters([event])["events"])


def test_orjson_writes_what_json_would() -> None:
    odd = replace(
        EVENT,
        occurred_at=datetime(2026, 11, 30, 23, 30, 0, 123456, tzinfo=timezone(timedelta(hours=14))),
        received_at=datetime(2026, 12, 1, 9, 0, tzinfo=tz.tzoffset(None, -14 * 3600)),  # dateutil's, as parsed
        provider_instance_id=UUID(int=2**128 - 1),
        cost_usd=Decimal("0E-10"),
        input_cost_usd=Decimal("12345678.1234567890"),
        tags={"é": "日本", "\U0001f600": "x\ny"},
        usage_kinds={"input_audio_tokens": 5, "audio_seconds": 1.5},
        error_message='quote " and backslash \\',
    )
    assert sent(odd) == standard(odd)
    [row] = sent(odd)
    assert row["occurred_at"] == "2026-11-30T23:30:00.123456+14:00"
    assert row["received_at"] == "2026-12-01T09:00:00-14:00"
    assert row["cost_usd"] == "0E-10" and row["input_cost_usd"] == "12345678.1234567890"
    assert sent(EVENT) == standard(EVENT)
    assert [row["occurred_at"] for row in sent(replace(EVENT, occurred_at=datetime(2026, 12, 1, tzinfo=UTC)))] == [
        "2026-12-01T00:00:00+00:00"
    ]


def test_what_orjson_refuses_is_written_by_json() -> None:
    huge = replace(EVENT, usage_kinds={"input_audio_tokens": 2**70})
    assert sent(huge) == standard(huge)
    assert sent(huge)[0]["usage_kinds"] == {"input_audio_tokens": 2**70}
