"""The client's delivery plan without I/O (both trackers follow it): what each answer of the server does to
the batch, the counters and the wait before the next try, with the clock and the jitter fixed by the test."""

from __future__ import annotations

import json

import pytest
from llm_usage_client import delivery
from llm_usage_client.answers import Answer, Problem
from llm_usage_client.delivery import TRACK_BATCH, Delivery, backoff, request_body, split
from llm_usage_client.reports import Rejected
from llm_usage_client.settings import Settings


def event(n: int, workspace: str = "acme", **fields) -> dict:
    return {"workspaceId": workspace, "requestId": f"r{n}", "promptTokens": n, **fields}


@pytest.fixture
def reported() -> list[Rejected]:
    return []


@pytest.fixture
def settings(reported) -> Settings:
    return Settings(url="http://x", api_key="k", max_retry_seconds=60, on_error=reported.append)


@pytest.fixture(autouse=True)
def widest_jitter(monkeypatch):
    """backoff's full jitter, pinned to the top of its range: uniform(0, b) gives b."""
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: high)


def sent(body: bytes | None) -> list[str] | None:
    return None if body is None else [e["requestId"] for e in json.loads(body)["variables"]["inputs"]]


def test_backoff_doubles_from_a_quarter_second_up_to_thirty():
    assert [backoff(n) for n in (0, 1, 2, 3, 6, 7, 20)] == [0.25, 0.5, 1.0, 2.0, 16.0, 30.0, 30.0]


def test_the_request_is_the_batch_mutation_in_compact_utf8():
    body = request_body([event(1, userId="zoë")])
    assert (
        body
        == (
            '{"query":"' + TRACK_BATCH + '","variables":{"inputs":[{"workspaceId":"acme","requestId":"r1",'
            '"promptTokens":1,"userId":"zoë"}]}}'
        ).encode()
    )


def test_a_stored_batch_is_counted_and_done(settings, reported):
    plan = Delivery(settings, [event(1), event(2), event(3)], now=0)
    assert sent(plan.next_body()) == ["r1", "r2", "r3"]
    assert plan.settle(Answer(inserted=2, duplicates=1), now=1) == 0.0
    assert plan.next_body() is None
    stats = settings.stats
    assert (stats.inserted, stats.duplicates, stats.retries, stats.rejected, stats.failed, reported) == (
        2,
        1,
        0,
        0,
        0,
        [],
    )


def test_an_empty_batch_sends_nothing(settings):
    assert Delivery(settings, [], now=0).next_body() is None


def test_a_retry_waits_longer_each_time_until_the_deadline_then_gives_up(settings, reported):
    plan = Delivery(settings, [event(1)], now=100)  # gives up at 160
    waits = []
    for now in (100, 101, 102, 150, 159.5):
        assert sent(plan.next_body()) == ["r1"]
        waits.append(plan.settle(Answer(retry=True, reason="HTTP 503"), now=now))
    assert waits == [0.5, 1.0, 2.0, 4.0, 0.5]  # the last one cut to what is left before the deadline
    assert (plan.attempt, settings.stats.retries) == (5, 5)
    assert sent(plan.next_body()) == ["r1"]
    assert plan.settle(Answer(retry=True, reason="HTTP 503"), now=160) == 0.0
    assert plan.next_body() is None
    assert reported == [Rejected(events=[event(1)], reason="gave up: HTTP 503", permanent=False)]
    assert (settings.stats.failed, settings.stats.rejected, settings.stats.retries) == (1, 0, 5)


def test_a_stored_answer_after_retries_starts_the_backoff_again(settings):
    plan = Delivery(settings, [event(1)], now=0)
    plan.next_body()
    plan.settle(Answer(retry=True, reason="x"), now=0)
    plan.next_body()
    assert (plan.settle(Answer(inserted=1), now=1), plan.attempt) == (0.0, 0)


def test_events_the_server_names_are_rejected_and_the_others_sent_again(settings, reported):
    plan = Delivery(settings, [event(1), event(2), event(3)], now=0)
    plan.next_body()
    named = {1: Problem("promptTokens", "must be at least 0"), 7: Problem(None, "out of the batch")}
    assert plan.settle(Answer(permanent=True, code="BAD_USER_INPUT", named=named), now=0) == 0.0
    assert reported == [Rejected(events=[event(2)], reason="event 'r2': must be at least 0", field="prompt_tokens")]
    assert sent(plan.next_body()) == ["r1", "r3"]
    assert plan.settle(Answer(inserted=2), now=0) == 0.0
    assert plan.next_body() is None
    assert (settings.stats.inserted, settings.stats.rejected) == (2, 1)


def test_every_event_named_leaves_nothing_to_send(settings, reported):
    plan = Delivery(settings, [event(1)], now=0)
    plan.next_body()
    plan.settle(Answer(permanent=True, named={0: Problem(None, "bad")}), now=0)
    assert (plan.next_body(), [r.reason for r in reported]) == (None, ["event 'r1': bad"])


def test_a_batch_refused_as_a_whole_is_halved_until_the_bad_event_is_alone(settings, reported):
    plan = Delivery(settings, [event(n) for n in range(1, 5)], now=0)
    refused = Answer(permanent=True, code="BAD_USER_INPUT", reason="BAD_USER_INPUT: body too large")
    assert sent(plan.next_body()) == ["r1", "r2", "r3", "r4"]
    plan.settle(refused, now=0)
    assert sent(plan.next_body()) == ["r1", "r2"]
    plan.settle(Answer(inserted=2), now=0)
    assert sent(plan.next_body()) == ["r3", "r4"]
    plan.settle(refused, now=0)
    assert sent(plan.next_body()) == ["r3"]
    plan.settle(refused, now=0)  # alone: rejected with the server's reason
    assert sent(plan.next_body()) == ["r4"]
    plan.settle(Answer(inserted=1), now=0)
    assert plan.next_body() is None
    assert reported == [Rejected(events=[event(3)], reason="event 'r3': BAD_USER_INPUT: body too large")]
    assert (settings.stats.inserted, settings.stats.rejected) == (3, 1)


def test_a_forbidden_batch_is_split_by_workspace_and_a_forbidden_workspace_lost_whole(settings, reported):
    batch = [event(1, "a"), event(2, "b"), event(3, "a")]
    assert split(batch, "FORBIDDEN") == [[event(1, "a"), event(3, "a")], [event(2, "b")]]
    assert split(batch, "BAD_USER_INPUT") == [[event(1, "a")], [event(2, "b"), event(3, "a")]]
    assert split([event(1)], "BAD_USER_INPUT") == []
    assert split(batch, "CONFLICT") == []
    plan = Delivery(settings, [event(1, "a"), event(2, "a")], now=0)
    plan.next_body()
    plan.settle(Answer(permanent=True, code="FORBIDDEN", reason="FORBIDDEN: not your workspace"), now=0)
    assert plan.next_body() is None
    assert reported == [Rejected(events=[event(1, "a"), event(2, "a")], reason="FORBIDDEN: not your workspace")]
    assert settings.stats.rejected == 2


def test_an_event_json_cannot_carry_is_dropped_and_the_rest_sent(settings, reported):
    plan = Delivery(settings, [event(1), event(2, costUsd=float("nan")), event(3, tags={1, 2})], now=0)
    assert sent(plan.next_body()) == ["r1"]
    assert [(r.field, r.reason.split(": cannot")[0]) for r in reported] == [
        ("cost_usd", "event 'r2': costUsd"),
        ("tags", "event 'r3': tags"),
    ]
    only_bad = Delivery(settings, [event(4, tags={3})], now=0)
    assert only_bad.next_body() is None
    assert settings.stats.rejected == 3


def test_a_sender_that_fails_reports_what_was_left(settings, reported):
    plan = Delivery(settings, [event(1), event(2)], now=0)
    plan.abandon(RuntimeError("boom"))
    assert plan.next_body() is None
    assert reported == [
        Rejected(
            events=[event(1), event(2)], reason="the sender failed unexpectedly: RuntimeError('boom')", permanent=False
        )
    ]
    Delivery(settings, [], now=0).abandon(RuntimeError("nothing left"))
    assert (len(reported), settings.stats.failed) == (1, 2)
