"""What a webhook receiver gets, against oracles the code did not compute: signatures from fixed vectors (made
with `openssl dgst`, as Stripe's and Slack's docs give theirs), the alert body byte for byte, the backoff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from modules.budgets.records import Budget, BudgetAlert, BudgetPeriod, BudgetScope
from modules.budgets.webhooks import (
    DELIVERY_HEADER,
    GIVE_UP_AFTER,
    MAX_BACKOFF,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    alert_body,
    new_secret,
    retry_delay,
    sign,
)

# Each vector: printf '%s' $'<timestamp>.<body as UTF-8>' | openssl dgst -sha256 -hmac '<secret>'
VECTORS = [
    (
        "whsec_test-vector",
        1767225600,
        '{"text":"hello"}',
        "v1=8f4bdc5179f6b8d5669596d93a21ca3aafa12b70e14905aa2f974855e9d1a9c9",
    ),
    (  # the body is signed as UTF-8 (é, curly quotes), not as ASCII escapes
        "whsec_test-vector",
        1767225600,
        '{"text":"café \u201cquoted\u201d"}',
        "v1=af8c71eaf683be144449d236ebd54e9c0daac987e4a0bb2f58525899d7b31b0c",
    ),
]


@pytest.mark.parametrize(("secret", "timestamp", "body", "expected"), VECTORS)
def test_signatures_match_fixed_vectors(secret, timestamp, body, expected):
    assert sign(secret, timestamp, body) == expected


def test_the_headers_a_receiver_reads_are_named_as_documented():
    assert (SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER) == (
        "X-LLM-Usage-Signature",
        "X-LLM-Usage-Timestamp",
        "X-LLM-Usage-Delivery",
    )


def test_each_secret_is_new_and_carries_256_bits():
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert {(s[:6], len(s)) for s in secrets} == {("whsec_", 6 + 43)}  # 32 bytes in URL-safe base64


def test_retries_back_off_exponentially_up_to_an_hour_and_stop_after_a_day():
    base = timedelta(seconds=30)
    assert [retry_delay(n, base) for n in (0, 1, 2, 3, 4, 7, 8, 30)] == [
        timedelta(seconds=30),
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
        timedelta(seconds=1920),
        timedelta(hours=1),  # 3840 s, capped
        timedelta(hours=1),
    ]
    assert (MAX_BACKOFF.total_seconds(), GIVE_UP_AFTER.total_seconds()) == (3600, 86400)


def test_the_alert_body_is_exactly_the_documented_json():
    created = datetime(2026, 3, 10, 12, 30, 5, tzinfo=UTC)
    budget = Budget(
        id=UUID("11111111-1111-1111-1111-111111111111"),
        workspace_id=UUID("22222222-2222-2222-2222-222222222222"),
        name="Team \u201cSearch\u201d",
        scope=BudgetScope.WORKSPACE,
        scope_value=None,
        scope_tag_key=None,
        period=BudgetPeriod.WEEKLY,
        time_zone="UTC",
        limit_usd=Decimal("250.50"),
        thresholds=(50, 80),
        webhook_urls=("https://hooks.example/x",),
        webhook_secret="whsec_x",
        paused=False,
        created_at=created,
        updated_at=created,
    )
    alert = BudgetAlert(
        id=42,
        workspace_id=budget.workspace_id,
        budget_id=budget.id,
        period_start=datetime(2026, 3, 9, tzinfo=UTC),
        threshold=80,
        spent_usd=Decimal("200.4060"),
        limit_usd=budget.limit_usd,
        created_at=created,
    )
    body = alert_body(budget, alert, datetime(2026, 3, 16, tzinfo=UTC))
    expected = (
        '{"text":"Budget \\u201cTeam \\u201cSearch\\u201d\\u201d crossed 80%: $200.41 spent of $250.50 this weekly '
        'period (2026-03-09T00:00:00+00:00 to 2026-03-16T00:00:00+00:00).",'
        '"alert":{"id":"42","budgetId":"11111111-1111-1111-1111-111111111111","budgetName":"Team \\u201cSearch\\u201d",'
        '"workspaceId":"22222222-2222-2222-2222-222222222222","thresholdPercent":80,"spentUsd":"200.406",'
        '"limitUsd":"250.5","period":"WEEKLY","periodStart":"2026-03-09T00:00:00+00:00",'
        '"periodEnd":"2026-03-16T00:00:00+00:00","createdAt":"2026-03-10T12:30:05+00:00"}}'
    )
    assert body == expected
    assert json.loads(body)["text"].startswith("Budget \u201cTeam")  # what Slack shows
