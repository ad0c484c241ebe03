"""One priced event's field values, for tests that build events without the service (tests/test_dataclass_builder.py,
tests/usage/test_insert_parameters.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from modules.providers import CostSource
from modules.usage.records import UsageStatus

VALUES: dict[str, object] = dict(
    workspace_id=UUID(int=7),
    request_id="r-1",
    occurred_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
    received_at=datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC),
    provider="openai",
    model="gpt-4o",
    provider_instance_id=None,
    task_type="chat",
    user_id="u-1",
    session_id=None,
    prompt_tokens=1200,
    completion_tokens=300,
    total_tokens=1500,
    cached_prompt_tokens=200,
    cache_write_tokens=0,
    reasoning_tokens=0,
    input_cost_usd=Decimal("0.0027500"),
    output_cost_usd=Decimal("0.0030000"),
    cost_usd=Decimal("0.0057500"),
    cost_source=CostSource.CATALOG,
    duration_ms=900,
    time_to_first_token_ms=120,
    status=UsageStatus.SUCCESS,
    error_type=None,
    error_message=None,
    retry_count=0,
    streamed=False,
    tags={"team": "search"},
    audio_tokens=0,
    usage_kinds={},
    catalogue_model="gpt-4o",
)
