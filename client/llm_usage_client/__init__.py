"""Client of the llm-usage service: `UsageTracker` (a thread) and `AsyncUsageTracker` (an asyncio task)
queue calls and send them in batches; every event gets its requestId and occurredAt when queued, so a
retried batch is recognised by the server and never counted twice. `track()` refuses, at once, an event that
could never be stored, and one bad event never costs the others of its batch. The provider helpers send the
response's raw usage: the server reads every token kind off it (genai-prices)."""

from llm_usage_client.async_tracker import AsyncUsageTracker
from llm_usage_client.budgets import BudgetStatus
from llm_usage_client.reports import Rejected, TrackerStats
from llm_usage_client.responses import anthropic_usage, gemini_usage, openai_usage
from llm_usage_client.tracker import UsageTracker

__all__ = [
    "AsyncUsageTracker",
    "BudgetStatus",
    "Rejected",
    "TrackerStats",
    "UsageTracker",
    "anthropic_usage",
    "gemini_usage",
    "openai_usage",
]
