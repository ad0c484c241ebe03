"""Both trackers driven the same way by a test: `work(tracker)` tracks (inside the event loop for the asyncio
one), then the tracker is flushed and closed; the test reads its stats and the server's totals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llm_usage_client import AsyncUsageTracker, UsageTracker
from llm_usage_client.queueing import TrackerBase

FLAVOURS = ["thread", "asyncio"]


@dataclass
class Run:
    tracker: TrackerBase
    flushed: bool


def call(prompt_tokens: int, **fields: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "prompt_tokens": prompt_tokens,
        "completion_tokens": 1,
        **fields,
    }


def run(flavour: str, url: str, key: str, work: Callable[[TrackerBase], None], **options: Any) -> Run:
    """Track with `work`, then flush (at most `flush_timeout` seconds, 30 by default) and close."""
    flush_timeout = options.pop("flush_timeout", 30)
    if flavour == "thread":
        tracker = UsageTracker(url, key, **options)
        work(tracker)
        flushed = tracker.flush(timeout=flush_timeout)
        tracker.close(timeout=1)
        return Run(tracker, flushed)

    async def drive() -> Run:
        tracker = AsyncUsageTracker(url, key, **options)
        work(tracker)
        flushed = await tracker.flush(timeout=flush_timeout)
        await tracker.close(timeout=1)
        return Run(tracker, flushed)

    return asyncio.run(drive())
