"""Live: a call tracked from outside appears within 2 seconds, and so does the budget alert it raises."""

from __future__ import annotations

import time

import httpx

TRACK = """mutation($i: TrackUsageInput!) { trackUsage(input: $i) { event { id costUsd } } }"""
BUDGET = """mutation($i: CreateBudgetInput!) { createBudget(input: $i) { budget { id } } }"""


def test_a_call_tracked_from_outside_appears_live_with_the_budget_alert_it_raises(browser, dashboard):
    slug = dashboard.workspace.slug
    budget = dashboard.data(
        BUDGET,
        i={"workspaceId": slug, "name": "Live test", "limitUsd": "0.002", "period": "MONTHLY", "thresholds": [50]},
    )
    try:
        browser.sign_in(dashboard.read_key, f"#/live?ws={slug}")
        browser.wait(lambda: browser.attribute("[data-status]", "data-status") == "open", "the live socket")
        time.sleep(0.3)  # both subscriptions sent after the ack
        # claude-3-5-haiku, 1,000 x $0.80 + 100 x $4 per million: "0.0012", 60% of the budget.
        sent = time.monotonic()
        response = httpx.post(
            f"{dashboard.server.url}/graphql",
            json={
                "query": TRACK,
                "variables": {
                    "i": {
                        "workspaceId": slug,
                        "provider": "anthropic",
                        "model": "claude-3-5-haiku-latest",
                        "promptTokens": 1000,
                        "completionTokens": 100,
                        "userId": "live-user",
                    }
                },
            },
            headers={"Authorization": f"Bearer {dashboard.ingest_key}"},
            timeout=10,
        )
        assert "errors" not in response.json(), response.json()
        browser.wait(
            lambda: browser.attribute("[data-live-count]", "data-live-count") == "1", "the call, live", timeout=2
        )
        elapsed = time.monotonic() - sent
        assert elapsed < 2, elapsed
        assert browser.table("live-events", "cost") == ["0.0012"]
        assert browser.table("live-events", "user", "text") == ["live-user"]
        browser.wait(lambda: browser.table("live-alerts", "threshold") == ["50"], "the alert, live", timeout=2)
        assert browser.table("live-alerts", "budget", "text") == ["Live test"]
        assert browser.table("live-alerts", "spent") == ["0.0012"]
    finally:
        dashboard.data("mutation($id: ID!) { deleteBudget(id: $id) }", id=budget["createBudget"]["budget"]["id"])
