"""The client's budget pre-flight against the real server: the tightest budget, exceeded or not, and
fail-open when the server cannot answer."""

from __future__ import annotations

from decimal import Decimal

from llm_usage_client import AsyncUsageTracker, UsageTracker

from modules.budgets.records import BudgetScope
from modules.budgets.validation import BudgetDraft
from modules.core.principal import Principal
from service.context import provide
from tests.live_server import committed_container, free_port


async def test_budget_status_says_when_a_call_would_count_against_an_exhausted_budget(engine, tenant):
    budgets = await provide(committed_container(engine).budgets.service())
    await budgets.create(
        Principal.system(),
        workspace_ref=tenant.slug,
        draft=BudgetDraft(name="Alice", scope=BudgetScope.USER, scope_value="alice", limit_usd=Decimal("1")),
    )
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, flush_interval=0.05)
    assert tracker.track(provider="openai", model="gpt-4o", prompt_tokens=1, completion_tokens=1, user_id="alice",
                         cost_usd="1.2")  # fmt: skip
    assert tracker.flush(timeout=30)
    alice = tracker.budget_status(user_id="alice", provider="openai", model="gpt-4o")
    assert alice is not None
    assert (alice.exceeded, alice.budget_name, alice.remaining_usd, alice.percent_used) == (
        True, "Alice", Decimal("-0.2"), Decimal("120"),
    )  # fmt: skip
    bob = tracker.budget_status(user_id="bob")
    assert bob is not None and (bob.exceeded, bob.budget_name, bob.remaining_usd) == (False, None, None)
    tracker.close()

    async_tracker = AsyncUsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug)
    again = await async_tracker.budget_status(user_id="alice")
    assert again is not None and (again.exceeded, again.budget_name, again.remaining_usd) == (
        True,
        "Alice",
        Decimal("-0.2"),
    )
    await async_tracker.close()


def test_budget_status_fails_open_when_the_server_is_unreachable():
    tracker = UsageTracker(f"http://127.0.0.1:{free_port()}", "llmu_" + "x" * 43, workspace_id="w", timeout=1)
    assert tracker.budget_status(user_id="alice") is None
    tracker.close()
