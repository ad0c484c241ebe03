"""Events that could never be sent are refused by track(), reported and counted; and whatever the sender
meets (an event it cannot encode, any exception), it reports what it could not send and goes on: the good
events of a batch, and every later event, are stored. Against the real server, through both trackers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from llm_usage_client import Rejected
from llm_usage_client.events import FIELDS

from tests.client.trackers import FLAVOURS, call, run

NEVER_SENDABLE: list[tuple[str, Any]] = [
    ("user_id", "\ud800"),
    ("task_type", "chat\x00"),
    ("tags", {"feature": "\udfff"}),
    ("tags", {"feature": 5}),
    ("prompt_tokens", Decimal("1.5")),
    ("prompt_tokens", True),
    ("completion_tokens", 1.5),
    ("prompt_tokens", "3"),
    ("prompt_tokens", 2**31),
    ("duration_ms", float("nan")),
    ("status", "WEIRD"),
    ("streamed", "yes"),
    ("occurred_at", "yesterday"),
    ("occurred_at", datetime(2026, 1, 1, 12)),  # no UTC offset
    ("cost_usd", "abc"),
    ("cost_usd", float("inf")),
    ("workspace_id", 5),
]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_track_refuses_what_could_never_be_sent_and_the_rest_is_stored(tenant, flavour):
    reported: list[Rejected] = []
    results: list[bool] = []

    def work(tracker) -> None:
        for i, (name, value) in enumerate(NEVER_SENDABLE):
            results.append(tracker.track(**{**call(100 + i), name: value}))
        results.append(tracker.track(**call(Decimal("7"))))  # integral: sent as 7
        results.append(tracker.track(**call(7.0)))

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    assert results == [False] * len(NEVER_SENDABLE) + [True, True]
    assert [r.field for r in reported] == [name for name, _ in NEVER_SENDABLE]
    assert all(r.reason.startswith(f"{r.field}: ") and r.permanent for r in reported)
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.refused, stats.rejected, stats.failed) == (2, 2, 17, 0, 0)
    assert stats.dropped == 17
    assert tenant.totals() == {"calls": 2, "promptTokens": 14}


def let_through(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Switch track()'s checks of these fields off, as a case the checks did not foresee would."""
    for name in names:
        monkeypatch.setitem(FIELDS, name, (FIELDS[name][0], lambda value: value))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_event_the_sender_cannot_encode_costs_no_other_event(tenant, flavour, monkeypatch):
    let_through(monkeypatch, "user_id", "prompt_tokens")
    reported: list[Rejected] = []

    def work(tracker) -> None:
        for i in range(400):
            odd = {150: {"user_id": "\ud800"}, 250: {"prompt_tokens": Decimal("3")}}.get(i, {})
            assert tracker.track(**{**call(i, request_id=f"r{i}"), **odd})

    options = {"workspace_id": tenant.slug, "batch_size": 100, "on_error": reported.append}
    done = run(flavour, tenant.server.url, tenant.key, work, **options)
    assert done.flushed
    assert [(r.field, [e["requestId"] for e in r.events]) for r in reported] == [
        ("user_id", ["r150"]),
        ("prompt_tokens", ["r250"]),
    ]
    assert "'r150': userId: cannot be sent as JSON" in reported[0].reason
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed) == (400, 398, 2, 0)
    assert tenant.totals() == {"calls": 398, "promptTokens": sum(range(400)) - 150 - 250}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_sender_survives_any_exception_and_sends_the_later_batches(tenant, flavour):
    reported: list[Rejected] = []

    def work(tracker) -> None:
        post = tracker.http.post
        posts = 0

        def first_post_fails(*args: Any, **kwargs: Any) -> Any:
            nonlocal posts
            posts += 1
            if posts == 1:
                raise RuntimeError("not an httpx error")  # e.g. a client closed under the sender
            return post(*args, **kwargs)

        tracker.http.post = first_post_fails
        for i in range(300):
            assert tracker.track(**call(i))

    options = {"workspace_id": tenant.slug, "batch_size": 100, "flush_interval": 60, "on_error": reported.append}
    done = run(flavour, tenant.server.url, tenant.key, work, flush_timeout=10, **options)
    assert done.flushed
    assert [(len(r.events), r.permanent) for r in reported] == [(100, False)]
    assert "RuntimeError('not an httpx error')" in reported[0].reason
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed) == (300, 200, 0, 100)
    assert tenant.totals() == {"calls": 200, "promptTokens": sum(range(100, 300))}
