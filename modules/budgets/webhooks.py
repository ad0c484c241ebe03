"""What a webhook delivery sends and how: a Slack-compatible JSON body (`text` plus the alert's fields),
signed with HMAC-SHA256 over the attempt's timestamp and the exact body, retried with exponential backoff
for up to 24 hours."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from modules.budgets.records import Budget, BudgetAlert

SIGNATURE_HEADER = "X-LLM-Usage-Signature"
DELIVERY_HEADER = "X-LLM-Usage-Delivery"
TIMESTAMP_HEADER = "X-LLM-Usage-Timestamp"
GIVE_UP_AFTER = timedelta(hours=24)
MAX_BACKOFF = timedelta(hours=1)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: str) -> str:
    """`v1=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` (UTF-8) under the budget's secret. The timestamp (Unix
    seconds of the attempt, also sent in X-LLM-Usage-Timestamp) is signed so a receiver can refuse a captured
    delivery replayed later: a signature of the body alone would stay valid forever."""
    message = f"{timestamp}.{body}".encode()
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def alert_body(budget: Budget, alert: BudgetAlert, period_end: datetime) -> str:
    text = (
        f"Budget \u201c{budget.name}\u201d crossed {alert.threshold}%: ${alert.spent_usd:.2f} spent of "
        f"${budget.limit_usd:.2f} this {budget.period.value.lower()} period "
        f"({alert.period_start.isoformat()} to {period_end.isoformat()})."
    )
    return json.dumps(
        {
            "text": text,
            "alert": {
                "id": str(alert.id),
                "budgetId": str(budget.id),
                "budgetName": budget.name,
                "workspaceId": str(budget.workspace_id),
                "thresholdPercent": alert.threshold,
                "spentUsd": str(alert.spent_usd.normalize()),
                "limitUsd": str(budget.limit_usd.normalize()),
                "period": budget.period.value,
                "periodStart": alert.period_start.isoformat(),
                "periodEnd": period_end.isoformat(),
                "createdAt": alert.created_at.isoformat(),
            },
        },
        separators=(",", ":"),
    )


def retry_delay(attempts: int, base: timedelta) -> timedelta:
    """After the n-th failed attempt: base * 2^(n-1), at most an hour."""
    factor: int = 2 ** max(attempts - 1, 0)  # int ** int is typed Any (a negative power gives a float)
    return min(base * factor, MAX_BACKOFF)
