"""The client against the real server over HTTP: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

from llm_usage_client import AsyncUsageTracker, Rejected, UsageTracker

CHAT = json.loads((Path(__file__).parent / "fixtures" / "openai_chat_completion.json").read_text())


def call(i: int) -> dict:
    return {"provider": "openai", "model": "gpt-4o-mini", "prompt_tokens": i, "completion_tokens": 1}


def test_ten_thousand_events_from_eight_threads_arrive_exactly_once(tenant):
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, flush_interval=0.2)

    def work(offset: int) -> None:
        for i in range(1250):
            assert tracker.track(**call(offset * 1250 + i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tracker.flush(timeout=120)
    tracker.close()
    assert (tracker.stats.queued, tracker.stats.inserted, tracker.stats.duplicates) == (10_000, 10_000, 0)
    assert (tracker.stats.rejected, tracker.stats.failed, tracker.stats.dropped_queue_full) == (0, 0, 0)
    assert tenant.totals() == {"calls": 10_000, "promptTokens": sum(range(10_000))}


def test_a_server_down_for_three_seconds_loses_and_doubles_nothing(tenant):
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, batch_size=100, flush_interval=0.05)
    for i in range(1000):
        tracker.track(**call(i))
    tenant.server.stop()
    for i in range(1000, 2000):
        tracker.track(**call(i))
    time.sleep(3)
    tenant.server.start()
    for i in range(2000, 3000):
        tracker.track(**call(i))
    assert tracker.flush(timeout=120)
    tracker.close()
    assert tracker.stats.inserted + tracker.stats.duplicates == 3000
    assert tracker.stats.retries > 0
    assert (tracker.stats.rejected, tracker.stats.failed) == (0, 0)
    assert tenant.totals() == {"calls": 3000, "promptTokens": sum(range(3000))}


def test_an_invalid_event_is_reported_and_the_others_stored(tenant):
    reported: list[Rejected] = []
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, on_error=reported.append)
    for i in range(5):
        tracker.track(**call(-1 if i == 2 else i), request_id=f"r{i}")
    tracker.track(**call(1), colour="red")  # not a usage field: reported at once, never raised
    assert tracker.flush(timeout=30)
    tracker.close()
    assert [e.get("requestId") for r in reported for e in r.events] == [None, "r2"]
    assert "promptTokens" in reported[1].reason
    assert (tracker.stats.inserted, tracker.stats.refused, tracker.stats.rejected) == (4, 1, 1)
    assert sorted(e["requestId"] for e in tenant.events()) == ["r0", "r1", "r3", "r4"]


def test_a_full_queue_drops_the_newest_and_counts_them():
    tracker = UsageTracker(
        "http://127.0.0.1:9",
        "llmu_" + "x" * 43,
        workspace_id="w",
        max_queue=3,
        flush_interval=60,
        max_retry_seconds=0.2,
    )
    results = [tracker.track(**call(i)) for i in range(5)]
    assert results == [True, True, True, False, False]
    assert tracker.stats.dropped_queue_full == 2
    tracker.close(timeout=5)
    assert tracker.stats.failed == 3


def test_timed_calls_record_duration_first_token_and_failures(tenant):
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug)
    with tracker.timed(request_id="ok", task_type="chat") as timed:
        time.sleep(0.02)
        timed.first_token()
        time.sleep(0.02)
        timed.record_openai(CHAT)
    try:
        with tracker.timed(request_id="boom", provider="openai", model="gpt-4o"):
            raise TimeoutError("upstream timed out")
    except TimeoutError:
        pass
    assert tracker.flush(timeout=30)
    tracker.close()
    events = {e["requestId"]: e for e in tenant.events()}
    ok, boom = events["ok"], events["boom"]
    assert (ok["model"], ok["promptTokens"], ok["cachedPromptTokens"], ok["status"]) == (
        "gpt-4o-2024-08-06",
        1117,
        1024,
        "SUCCESS",
    )
    assert 40 <= ok["durationMs"] < 1000 and 20 <= ok["timeToFirstTokenMs"] < ok["durationMs"]
    assert (boom["status"], boom["errorType"]) == ("ERROR", "TimeoutError")


def test_the_async_tracker(tenant):
    async def run() -> AsyncUsageTracker:
        tracker = AsyncUsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, flush_interval=0.05)
        for i in range(1500):
            tracker.track(**call(i))
        tracker.track_anthropic(
            json.loads((Path(__file__).parent / "fixtures" / "anthropic_message.json").read_text()), request_id="claude"
        )
        assert await tracker.flush(timeout=60)
        await tracker.close()
        return tracker

    tracker = asyncio.run(run())
    assert (tracker.stats.inserted, tracker.stats.duplicates) == (1501, 0)
    assert tenant.totals() == {"calls": 1501, "promptTokens": sum(range(1500)) + 1500}
