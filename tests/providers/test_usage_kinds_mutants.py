"""Reading a provider's usage, by exact value: which flavour wins, where the usage may sit in what was sent, and
each refusal's own words (the caller reads them to fix the input)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modules.providers.usage_kinds import (
    ReadUsage,
    UnreadableUsage,
    api_flavors,
    bodies,
    inconsistency,
    kind_problem,
    read_usage,
    reported,
)


def test_the_flavours_of_a_provider_put_default_first_and_keep_genai_prices_order():
    assert api_flavors("openai") == ["chat", "responses", "realtime", "images", "embeddings", "live"]
    assert api_flavors("google") == ["default", "anthropic", "chat"]
    assert api_flavors("anthropic") == ["default", "chat"]
    assert api_flavors("openrouter") == ["default", "chat", "decisions", "systemone"]  # genai-prices lists it last
    assert api_flavors("no-such-provider") is None


def test_the_flavour_reading_the_most_kinds_wins_and_the_first_of_equals():
    cached = {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 3}}
    assert read_usage(cached, provider="openai", api_flavor=None) == ReadUsage(
        model=None, api_flavor="chat", kinds={"input_tokens": 10, "cache_read_tokens": 3, "output_tokens": 5}
    )
    responses = {"input_tokens": 10, "output_tokens": 5}
    assert read_usage(responses, provider="openai", api_flavor=None) == ReadUsage(
        model=None, api_flavor="responses", kinds={"input_tokens": 10, "output_tokens": 5}
    )
    both = {"prompt_tokens": 7, "completion_tokens": 2, "input_tokens": 9, "output_tokens": 4}  # two kinds each
    assert read_usage(both, provider="openai", api_flavor=None) == ReadUsage(
        model=None, api_flavor="chat", kinds={"input_tokens": 7, "output_tokens": 2}
    )
    assert read_usage(both, provider="openai", api_flavor="responses") == ReadUsage(
        model=None, api_flavor="responses", kinds={"input_tokens": 9, "output_tokens": 4}
    )


def test_a_stream_events_envelope_is_opened():
    event = {
        "type": "message_start",
        "message": {"model": "claude-x", "usage": {"input_tokens": 10, "output_tokens": 5}},
    }
    assert read_usage(event, provider="anthropic", api_flavor="default") == ReadUsage(
        model="claude-x", api_flavor="default", kinds={"input_tokens": 10, "output_tokens": 5}
    )
    completed = {
        "type": "response.completed",
        "response": {"model": "gpt-4o", "usage": {"input_tokens": 8, "output_tokens": 1}},
    }
    assert read_usage(completed, provider="openai", api_flavor="responses") == ReadUsage(
        model="gpt-4o", api_flavor="responses", kinds={"input_tokens": 8, "output_tokens": 1}
    )


def test_where_the_usage_may_sit_in_what_was_sent():
    assert bodies({"prompt_tokens": 1}, "usage") == [{"prompt_tokens": 1}, {"usage": {"prompt_tokens": 1}}]
    assert bodies({"usage": {"a": 1}}, "usage") == [{"usage": {"a": 1}}]  # already at the root: as sent only
    event = {"type": "x", "response": {"b": 1}, "message": 3}
    assert bodies(event, ("usage", "tokens")) == [event, {"b": 1}, {"usage": {"tokens": event}}]
    untyped = {"type": 5, "response": {"b": 1}}  # not a stream event: its fields are not envelopes
    assert bodies(untyped, ["usage", 0]) == [untyped]  # a path with an index is not built


def test_reported_keeps_genai_prices_kinds_above_zero_as_plain_numbers():
    class Usage:
        def __init__(self) -> None:
            self.input_tokens = 12
            self.output_tokens = 0
            self.cache_read_tokens = None
            self.audio_seconds = Decimal("1.5")  # any other number becomes a float
            self.not_a_kind = 4

    read = reported(Usage())
    assert read == {"input_tokens": 12, "audio_seconds": 1.5}
    assert [type(v) for v in read.values()] == [int, float]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        (
            "nope" * 20,
            1,
            f"{('nope' * 20)[:60]!r} is not a genai-prices usage kind (e.g. cache_write_1h_tokens, input_audio_tokens)",
        ),
        ("requests", 1, "'requests' is not a genai-prices usage kind (e.g. cache_write_1h_tokens, input_audio_tokens)"),
        ("input_tokens", True, "input_tokens must be a number"),
        ("input_tokens", "1", "input_tokens must be a number"),
        ("input_tokens", -1, "input_tokens must be a finite number, at least 0 and at most 2147483647"),
        ("input_tokens", 2**31, "input_tokens must be a finite number, at least 0 and at most 2147483647"),
        ("input_tokens", float("nan"), "input_tokens must be a finite number, at least 0 and at most 2147483647"),
        ("input_tokens", 1.5, "input_tokens must be a whole number of tokens"),
        ("input_tokens", 2.0, None),
        ("input_tokens", 0, None),
        ("input_tokens", 2**31 - 1, None),
        ("audio_seconds", 1.5, None),
    ],
)
def test_each_count_problem_in_its_own_words(key, value, problem):
    assert kind_problem(key, value) == problem


def test_a_part_above_its_whole_or_without_it_is_named():
    assert (
        inconsistency({"input_tokens": 10, "cache_read_tokens": 11})
        == "cache_read_tokens (11) cannot exceed input_tokens (10)"
    )
    assert inconsistency({"input_tokens": 10, "cache_read_tokens": 10}) is None
    assert (
        inconsistency({"cache_read_tokens": 1})
        == "cache_read_tokens (1) is given without input_tokens, which counts it"
    )
    assert inconsistency({"input_tokens": 10, "cache_write_tokens": 4, "cache_write_1h_tokens": 5}) == (
        "cache_write_1h_tokens (5) cannot exceed cache_write_tokens (4)"
    )
    assert inconsistency({"input_tokens": 10, "cache_write_1h_tokens": 5}) is None  # its whole not given: not compared


def test_refusals_name_the_field_and_say_what_each_flavour_could_not_read():
    with pytest.raises(UnreadableUsage) as every:
        read_usage({"x": 1}, provider="openai", api_flavor=None)
    assert (every.value.field, str(every.value)) == (
        "rawUsage",
        "is not a openai usage genai-prices can read (chat: Missing value at `usage.prompt_tokens`; responses: "
        "Missing value at `usage.input_tokens`; realtime: No usage information found at ['response', 'usage']; "
        "images: Missing value at `usage.input_tokens`; embeddings: Missing value at `usage.prompt_tokens`; "
        "live: Missing value at `usage.seconds`)",
    )
    with pytest.raises(UnreadableUsage) as one:
        read_usage({"x": 1}, provider="openai", api_flavor="chat")
    assert (one.value.field, str(one.value)) == (
        "rawUsage",
        "is not a openai usage genai-prices can read (chat: Missing value at `usage.prompt_tokens`)",
    )
    with pytest.raises(UnreadableUsage) as flavour:
        read_usage({"x": 1}, provider="anthropic", api_flavor="fax")
    assert (flavour.value.field, str(flavour.value)) == (
        "apiFlavor",
        "must be one of default, chat for anthropic (got 'fax')",
    )
    with pytest.raises(UnreadableUsage) as provider:
        read_usage({"x": 1}, provider="in-house", api_flavor=None)
    assert (provider.value.field, str(provider.value)) == (
        "provider",
        "genai-prices reads no usage of provider 'in-house': give token counts",
    )
    with pytest.raises(UnreadableUsage) as shape:
        read_usage([1], provider="openai", api_flavor=None)
    assert (shape.value.field, str(shape.value)) == (
        "rawUsage",
        "must be a JSON object: the provider's usage object, response body or final stream chunk",
    )
