"""The delivery plan at the edges the mutation run found untried (tests/client/test_delivery_plan.py holds the
plan itself): the jitter's lower end, an index just past the batch, the wait after a refusal, and an event
JSON cannot carry though each of its fields can."""

from __future__ import annotations

import json

import pytest
from llm_usage_client import delivery
from llm_usage_client.answers import Answer, Problem
from llm_usage_client.delivery import Delivery, backoff
from llm_usage_client.reports import Rejected
from llm_usage_client.settings import Settings


@pytest.fixture
def reported() -> list[Rejected]:
    return []


@pytest.fixture
def settings(reported) -> Settings:
    return Settings(url="http://x", api_key="k", max_retry_seconds=60, on_error=reported.append)


def event(n: int) -> dict:
    return {"workspaceId": "acme", "requestId": f"r{n}", "promptTokens": n}


def test_the_jitter_spans_from_zero_to_the_capped_doubling(monkeypatch):
    asked: list[tuple[float, float]] = []

    def lowest(low: float, high: float) -> float:
        asked.append((low, high))
        return low

    monkeypatch.setattr(delivery.random, "uniform", lowest)
    assert [backoff(n) for n in (1, 5, 8)] == [0.0, 0.0, 0.0]
    assert asked == [(0, 0.5), (0, 8.0), (0, 30.0)]


def test_an_index_just_past_the_batch_names_no_event(settings, reported):
    plan = Delivery(settings, [event(1), event(2)], now=0)
    plan.next_body()
    assert (
        plan.settle(
            Answer(permanent=True, code="CONFLICT", reason="CONFLICT: no", named={2: Problem(None, "x")}), now=0
        )
        == 0.0
    )
    assert reported == [Rejected(events=[event(1), event(2)], reason="CONFLICT: no")]  # lost whole, as named none


def test_a_refusal_is_acted_on_at_once(settings, reported):
    plan = Delivery(settings, [event(1), event(2)], now=0)
    plan.next_body()
    refused = Answer(permanent=True, code="BAD_USER_INPUT", reason="BAD_USER_INPUT: too large")
    assert plan.settle(refused, now=0) == 0.0  # halved: sent again without waiting
    plan.next_body()
    assert plan.settle(refused, now=0) == 0.0  # alone: rejected, the next piece goes now
    assert json.loads(plan.next_body() or b"{}")["variables"]["inputs"] == [event(2)]
    assert reported == [Rejected(events=[event(1)], reason="event 'r1': BAD_USER_INPUT: too large")]


def test_an_event_json_cannot_carry_as_a_whole_names_no_field(settings, reported):
    odd = {**event(1), ("not", "a", "name"): 1}  # every value encodes; the key does not
    plan = Delivery(settings, [odd, event(2)], now=0)
    assert json.loads(plan.next_body() or b"{}")["variables"]["inputs"] == [event(2)]
    [rejected] = reported
    assert (rejected.events, rejected.field) == ([odd], None)
    assert rejected.reason == (
        "event 'r1': the event: cannot be sent as JSON: TypeError('keys must be str, int, float, bool or None, "
        "not tuple')"
    )
    assert (plan.settle(Answer(inserted=1), now=0), plan.next_body(), settings.stats.inserted) == (0.0, None, 1)


def test_the_counts_of_every_stored_piece_add_up(settings):
    plan = Delivery(settings, [event(n) for n in range(1, 5)], now=0)
    plan.next_body()
    plan.settle(Answer(permanent=True, code="BAD_USER_INPUT", reason="BAD_USER_INPUT: too large"), now=0)
    for inserted, duplicates in ((1, 1), (0, 2)):  # the two halves, stored
        plan.next_body()
        plan.settle(Answer(inserted=inserted, duplicates=duplicates), now=0)
    assert (plan.next_body(), settings.stats.inserted, settings.stats.duplicates) == (None, 1, 3)
