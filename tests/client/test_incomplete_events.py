"""An event missing a required field, or refused by the server, costs only itself: track() refuses what lacks
a required field of TrackUsageInput; timed() and the provider helpers produce a valid event when the call
raises or the usage is missing; and a batch the server refuses is resent without the events it names, or in
halves when it names none. Against the real server, through both trackers."""

from __future__ import annotations

from typing import Any

import pytest
from llm_usage_client import Rejected
from llm_usage_client.events import FIELDS

from tests.client.trackers import FLAVOURS, call, run


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_track_refuses_an_event_missing_a_required_field(tenant, flavour):
    reported: list[Rejected] = []
    results: list[bool] = []
    here = {"workspace_id": tenant.slug}

    def work(tracker) -> None:
        results.append(tracker.track(**call(1)))  # the tracker has no workspace_id, nor the event
        results.append(tracker.track(model="gpt-4o-mini", prompt_tokens=2, completion_tokens=1, **here))
        results.append(tracker.track(**{**call(3), "model": None}, **here))
        results.append(tracker.track(provider="openai", model="gpt-4o-mini", **here))
        results.append(tracker.track_openai([], **here))  # an empty stream: no model
        results.append(tracker.track(**call(10), **here))
        results.append(tracker.track_openai({"model": "gpt-4o-mini", "usage": {"prompt_tokens": 20}}, **here))

    done = run(flavour, tenant.server.url, tenant.key, work, on_error=reported.append)
    assert done.flushed
    assert results == [False, False, False, False, False, True, True]
    assert [(r.field, r.reason) for r in reported] == [
        ("workspace_id", "missing required field(s): workspace_id"),
        ("provider", "missing required field(s): provider"),
        ("model", "missing required field(s): model"),
        ("prompt_tokens", "missing required field(s): prompt_tokens, completion_tokens"),
        ("model", "missing required field(s): model"),
    ]
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.refused, stats.rejected) == (2, 2, 5, 0)
    assert tenant.totals() == {"calls": 2, "promptTokens": 30}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_timed_tracks_a_raised_call_as_an_error_with_zero_tokens(tenant, flavour):
    reported: list[Rejected] = []

    def work(tracker) -> None:
        with pytest.raises(TimeoutError), tracker.timed(request_id="boom", provider="openai", model="gpt-4o-mini"):
            raise TimeoutError("upstream \x00 timed out \ud800")  # the README's example, when the call raises
        with pytest.raises(KeyError), tracker.timed(task_type="chat", user_id="customer-42"):
            raise KeyError("no provider nor model known")
        tracker.track(**call(5, request_id="good"))

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    events = {e["requestId"]: e for e in tenant.events()}
    assert sorted(events) == ["boom", "good"]
    boom = events["boom"]
    assert (boom["status"], boom["errorType"], boom["promptTokens"]) == ("ERROR", "TimeoutError", 0)
    assert [r.field for r in reported] == ["provider"]
    assert reported[0].reason.startswith("timed() call that raised KeyError before its usage was recorded")
    assert reported[0].reason.endswith("missing required field(s): provider, model")
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.refused, stats.rejected) == (2, 2, 1, 0)
    assert tenant.totals() == {"calls": 2, "promptTokens": 5}


def sdk_chat_completion(usage: dict[str, int] | None) -> Any:
    """An object shaped as openai's ChatCompletion: a pydantic model, so iterable (over its fields)."""
    pydantic = pytest.importorskip("pydantic")

    class ChatCompletion(pydantic.BaseModel):
        id: str
        object: str = "chat.completion"
        created: int
        model: str
        choices: list[dict[str, Any]] = []
        usage: dict[str, int] | None = None

    return ChatCompletion(id="chatcmpl-1", created=1, model="gpt-4o-mini-2024-07-18", usage=usage)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_openai_completion_without_usage_is_tracked_with_its_model_and_zero_tokens(tenant, flavour):
    results: list[bool] = []

    def work(tracker) -> None:
        results.append(tracker.track_openai(sdk_chat_completion(None), request_id="no-usage"))
        with tracker.timed(request_id="timed-no-usage", provider="openai", model="gpt-4o-mini") as timed:
            timed.record_openai(sdk_chat_completion(None))
        usage = {"prompt_tokens": 40, "completion_tokens": 2}
        results.append(tracker.track_openai(sdk_chat_completion(usage), request_id="with-usage"))

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug)
    assert done.flushed
    assert results == [True, True]
    events = {e["requestId"]: (e["model"], e["promptTokens"]) for e in tenant.events()}
    assert events == {
        "no-usage": ("gpt-4o-mini-2024-07-18", 0),
        "timed-no-usage": ("gpt-4o-mini-2024-07-18", 0),
        "with-usage": ("gpt-4o-mini-2024-07-18", 40),
    }
    assert (done.tracker.stats.inserted, done.tracker.stats.dropped) == (3, 0)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_batch_refused_by_index_loses_only_the_named_events(tenant, flavour):
    reported: list[Rejected] = []
    breaking = {3: {"prompt_tokens": -1}, 7: {"cached_prompt_tokens": 999}, 12: {"user_id": "u" * 300}}

    def work(tracker) -> None:
        for i in range(20):
            assert tracker.track(**{**call(i, request_id=f"r{i}"), **breaking.get(i, {})})

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    assert [(r.field, [e["requestId"] for e in r.events]) for r in reported] == [
        ("prompt_tokens", ["r3"]),
        ("cached_prompt_tokens", ["r7"]),
        ("user_id", ["r12"]),
    ]
    assert reported[0].reason.startswith("event 'r3': promptTokens: must not be negative")
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed) == (20, 17, 3, 0)
    assert tenant.totals() == {"calls": 17, "promptTokens": sum(range(20)) - 3 - 7 - 12}


def test_a_batch_refused_naming_no_event_is_sent_in_halves(tenant):
    """500 events of 16 KB (4,000 four-byte characters each, within the server's limits) make an 8 MB body,
    which the server refuses as a whole (413, BAD_USER_INPUT naming the body, no event): halves of 4 MB pass."""
    reported: list[Rejected] = []

    def work(tracker) -> None:
        for i in range(500):
            assert tracker.track(**call(i, error_message="\U0001f600" * 4000))

    done = run("thread", tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    assert reported == []
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed, stats.retries) == (500, 500, 0, 0, 0)
    assert tenant.totals() == {"calls": 500, "promptTokens": sum(range(500))}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_one_event_the_server_refuses_without_naming_it_is_found_by_halving(tenant, flavour):
    """A 6 MB errorMessage passes track() (lengths are the server's rules), and any request holding it is
    refused before GraphQL reads it (413, naming the body, no event): halving isolates it."""
    reported: list[Rejected] = []

    def work(tracker) -> None:
        for i in range(100):
            assert tracker.track(**call(i, request_id=f"r{i}", error_message="x" * 6_000_000 if i == 37 else None))

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    assert [[e["requestId"] for e in r.events] for r in reported] == [["r37"]]
    assert reported[0].reason.startswith("event 'r37': BAD_USER_INPUT: request body larger than")
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed, stats.retries) == (100, 99, 1, 0, 0)
    assert tenant.totals() == {"calls": 99, "promptTokens": sum(range(100)) - 37}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_value_graphql_refuses_costs_only_its_event(tenant, flavour, monkeypatch):
    """With track()'s check of prompt_tokens off (a case it did not foresee), an Int beyond 32 bits fails
    GraphQL's coercion: the server names the event (older servers named none: then halving finds it)."""
    monkeypatch.setitem(FIELDS, "prompt_tokens", ("promptTokens", lambda value: value))
    reported: list[Rejected] = []

    def work(tracker) -> None:
        for i in range(100):
            assert tracker.track(**call(2**31 if i == 61 else i, request_id=f"r{i}"))

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    assert [([e["requestId"] for e in r.events], r.field) for r in reported] == [(["r61"], "prompt_tokens")]
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed) == (100, 99, 1, 0)
    assert tenant.totals() == {"calls": 99, "promptTokens": sum(range(100)) - 61}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_event_of_a_workspace_the_key_may_not_write_costs_only_itself(tenant, flavour):
    reported: list[Rejected] = []

    def work(tracker) -> None:
        for i in range(10):
            assert tracker.track(**call(i, request_id=f"r{i}", workspace_id="someone-else" if i == 4 else None))

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug, on_error=reported.append)
    assert done.flushed
    assert [([e["requestId"] for e in r.events], r.reason.split(":")[1].strip()) for r in reported] == [
        (["r4"], "FORBIDDEN")
    ]
    stats = done.tracker.stats
    assert (stats.queued, stats.inserted, stats.rejected, stats.failed) == (10, 9, 1, 0)
    assert tenant.totals() == {"calls": 9, "promptTokens": sum(range(10)) - 4}
