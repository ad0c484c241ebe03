"""What the trackers share before anything is queued (queueing.py), by exact value and without a server: the
provider helpers send the usage they read with the caller's own fields over it, a response they cannot read is
refused with its reason, and an event that could never be stored is reported, counted and never queued."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from llm_usage_client.queueing import TrackerBase
from llm_usage_client.reports import Rejected

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)  # the tests give each event its time: no clock is read


class ListTracker(TrackerBase):
    """A tracker whose queue is a list the test reads."""

    def __init__(self, **options: Any) -> None:
        self.reported: list[Rejected] = []
        super().__init__(
            "http://llm-usage.test", "llmu_key", workspace_id="acme", on_error=self.reported.append, **options
        )
        self.queued: list[dict[str, Any]] = []

    def _put(self, event: dict[str, Any]) -> bool:
        self.queued.append(event)
        return True


@pytest.fixture
def tracker() -> ListTracker:
    return ListTracker()


def test_a_gemini_response_is_sent_as_its_usage_metadata(tracker):
    response = {"modelVersion": "gemini-2.5-flash", "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}}
    assert tracker.track_gemini(response, request_id="g1", occurred_at=AT, user_id=None) is True
    assert tracker.queued == [
        {
            "provider": "google",
            "model": "gemini-2.5-flash",
            "rawUsage": {"promptTokenCount": 5, "candidatesTokenCount": 2},
            "requestId": "g1",
            "occurredAt": AT.isoformat(),
            "workspaceId": "acme",
        }
    ]


def test_the_callers_own_fields_win_over_what_the_response_says(tracker):
    message = {"model": "claude-haiku-4-5", "usage": {"input_tokens": 3, "output_tokens": 1}}
    assert tracker.track_anthropic(message, model="my-claude", request_id="a1", occurred_at=AT, task_type=None)
    chat = {"object": "chat.completion", "model": "gpt-4o", "usage": {"prompt_tokens": 4, "completion_tokens": 2}}
    assert tracker.track_openai(chat, request_id="o1", occurred_at=AT, workspace_id="other")
    assert tracker.queued == [
        {
            "provider": "anthropic",
            "model": "my-claude",
            "rawUsage": {"input_tokens": 3, "output_tokens": 1},
            "requestId": "a1",
            "occurredAt": AT.isoformat(),
            "workspaceId": "acme",
        },
        {
            "provider": "openai",
            "model": "gpt-4o",
            "rawUsage": {"prompt_tokens": 4, "completion_tokens": 2},
            "apiFlavor": "chat",
            "requestId": "o1",
            "occurredAt": AT.isoformat(),
            "workspaceId": "other",
        },
    ]


class Unreadable:
    """A response whose usage cannot be read: reading it raises."""

    def __iter__(self):
        raise RuntimeError("not iterable today")


def test_a_response_that_cannot_be_read_is_refused_with_its_reason(tracker):
    for track in (tracker.track_openai, tracker.track_anthropic, tracker.track_gemini):
        assert track(Unreadable(), request_id="x") is False
    reason = "could not read the usage off Unreadable: RuntimeError('not iterable today')"
    assert tracker.reported == [Rejected(events=[{"request_id": "x"}], reason=reason)] * 3
    assert (tracker.queued, tracker.stats.refused, tracker.stats.rejected) == ([], 3, 0)


def test_an_event_that_could_never_be_stored_is_refused_naming_the_field(tracker):
    assert tracker.track(provider="openai", occurred_at=AT) is False
    assert tracker.track(provider="openai", model="m", prompt_tokens="many", completion_tokens=0) is False
    assert [(r.events, r.field, r.permanent) for r in tracker.reported] == [
        ([{"provider": "openai", "occurred_at": AT}], "model", True),
        (
            [{"provider": "openai", "model": "m", "prompt_tokens": "many", "completion_tokens": 0}],
            "prompt_tokens",
            True,
        ),
    ]
    assert tracker.reported[0].reason == "missing required field(s): model, prompt_tokens, completion_tokens"
    assert (tracker.queued, tracker.stats.refused) == ([], 2)


def test_a_check_that_fails_unexpectedly_refuses_the_event_and_never_raises(tracker, monkeypatch):
    from llm_usage_client import queueing

    def broken(fields: Any, workspace_id: Any) -> dict[str, Any]:
        raise KeyError("surprise")

    monkeypatch.setattr(queueing, "build_event", broken)
    assert tracker.track(provider="openai", model="m", prompt_tokens=1, completion_tokens=1) is False
    assert tracker.reported == [
        Rejected(
            events=[{"provider": "openai", "model": "m", "prompt_tokens": 1, "completion_tokens": 1}],
            reason="the event could not be checked: KeyError('surprise')",
        )
    ]
    assert (tracker.queued, tracker.stats.refused) == ([], 1)


def test_a_tracker_keeps_the_settings_it_was_given():
    tracker = ListTracker(batch_size=7, flush_interval=0.5, max_queue=9, max_retry_seconds=3.0, timeout=2.0)
    settings = tracker.settings
    assert (settings.url, settings.api_key, settings.workspace_id) == ("http://llm-usage.test", "llmu_key", "acme")
    assert (settings.batch_size, settings.flush_interval, settings.max_queue) == (7, 0.5, 9)
    assert (settings.max_retry_seconds, settings.timeout, settings.on_error) == (3.0, 2.0, tracker.reported.append)
    assert (list(tracker.queue), tracker.flushing, tracker.closing, tracker.stats) == ([], 0, False, settings.stats)
    defaults = TrackerBase("http://x", "k").settings
    assert (defaults.workspace_id, defaults.batch_size, defaults.flush_interval, defaults.max_queue) == (
        None,
        500,
        1.0,
        100_000,
    )
    assert (defaults.max_retry_seconds, defaults.timeout, defaults.on_error) == (120.0, 10.0, None)
    with pytest.raises(NotImplementedError):
        TrackerBase("http://x", "k")._put({})
