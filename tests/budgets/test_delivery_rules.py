"""The dispatcher's rules without a server: backoff, giving up after 24 hours, and the lease that lets
another process retry an attempt that never reported back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from modules.budgets.webhooks import retry_delay
from service.context import provide
from tests.budgets.conftest import LOOPBACK


@pytest.fixture
def webhook_allow_hosts() -> tuple[str, ...]:
    """These deliveries go to a loopback receiver: its address is on the operator's allow-list."""
    return LOOPBACK


def test_retries_back_off_exponentially_up_to_an_hour():
    base = timedelta(seconds=30)
    delays = [retry_delay(n, base).total_seconds() for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


async def alert_with_delivery(gql, url: str) -> str:
    created = await gql.data(
        f'mutation {{ createBudget(input: {{workspaceId: "acme", name: "B", limitUsd: "1", webhookUrls: ["{url}"]}}) '
        "{ budget { id } } }"
    )
    await gql.data(
        'mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o", promptTokens: 1, '
        'completionTokens: 1, costUsd: "0.6"}) { duplicate } }'
    )
    return created["createBudget"]["budget"]["id"]


async def deliveries(gql, budget_id: str) -> list[dict]:
    query = f'{{ webhookDeliveries(budgetId: "{budget_id}") {{ status attemptCount nextAttemptAt attempts {{ statusCode }} }} }}'
    return (await gql.data(query))["webhookDeliveries"]


async def test_a_delivery_still_failing_24_hours_after_its_alert_is_given_up(
    gql, workspace, container, database, receiver
):
    receiver.script = [500, 500]
    budget_id = await alert_with_delivery(gql, receiver.url)
    dispatcher = await provide(container.budgets.dispatcher())
    assert await dispatcher.dispatch_due() == 1
    [pending] = await deliveries(gql, budget_id)
    assert (pending["status"], pending["attemptCount"], pending["attempts"]) == (
        "PENDING",
        1,
        [{"statusCode": 500}],
    )
    async with database.session_factory.begin() as session:  # the alert is a day old and the retry due
        await session.execute(
            text("UPDATE webhook_deliveries SET created_at = now() - interval '24 hours', next_attempt_at = now()")
        )
    assert await dispatcher.dispatch_due() == 1
    assert await dispatcher.dispatch_due() == 0  # nothing due any more
    [given_up] = await deliveries(gql, budget_id)
    assert (given_up["status"], given_up["attemptCount"], given_up["nextAttemptAt"]) == ("FAILED", 2, None)


async def test_an_attempt_that_never_reported_back_is_retried_after_its_lease(
    gql, workspace, container, database, receiver
):
    budget_id = await alert_with_delivery(gql, receiver.url)
    dispatcher = await provide(container.budgets.dispatcher())
    repository = container.budgets.repository()
    now = datetime.now(UTC)
    async with database.session_factory.begin() as session:  # a process claims it, then dies
        claimed = await repository.claim_due(session, now=now, lease_until=now + timedelta(seconds=60), limit=10)
    assert len(claimed) == 1
    assert await dispatcher.dispatch_due() == 0  # leased: nobody else takes it
    async with database.session_factory.begin() as session:
        await session.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second'"))
    assert await dispatcher.dispatch_due() == 1  # the lease ran out
    [delivered] = await deliveries(gql, budget_id)
    assert (delivered["status"], delivered["attemptCount"]) == ("DELIVERED", 1)
    assert len(receiver.received) == 1
