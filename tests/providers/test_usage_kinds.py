"""Reading a provider's usage never fails but by saying which field is wrong: any JSON at all, for every
provider genai-prices reads, gives a ReadUsage whose kinds are genai-prices' own keys with counts, or an
UnreadableUsage naming rawUsage, apiFlavor or provider — never another exception (a 5xx to the caller)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from modules.providers.usage_kinds import USAGE_KEYS, UnreadableUsage, inconsistency, read_usage

# Keys the extractors look for, so that random JSON reaches deep into their paths, and any other key.
KEYS = st.sampled_from(
    [
        "usage",
        "usageMetadata",
        "response",
        "message",
        "type",
        "model",
        "modelVersion",
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "cached_tokens",
        "cache_write_tokens",
        "audio_tokens",
        "input_tokens",
        "output_tokens",
        "input_tokens_details",
        "cache_creation",
        "ephemeral_1h_input_tokens",
        "cache_creation_input_tokens",
        "promptTokenCount",
        "promptTokensDetails",
        "modality",
        "tokenCount",
        "toolUsePromptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "server_tool_use",
        "seconds",
    ]
) | st.text(max_size=8)
LEAVES = st.none() | st.booleans() | st.integers(-5, 2**33) | st.floats(allow_nan=False) | st.text(max_size=6)
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5))
# Gemini's per-modality lists, whose items genai-prices matches by their "modality" (a string, it expects).
DETAILS = st.lists(
    st.fixed_dictionaries({"modality": LEAVES | st.sampled_from(["TEXT", "AUDIO"]), "tokenCount": LEAVES})
)
GEMINI = st.fixed_dictionaries(
    {"promptTokenCount": st.integers(0, 10**6)},
    optional={"promptTokensDetails": DETAILS, "cacheTokensDetails": DETAILS, "toolUsePromptTokensDetails": DETAILS},
)
PROVIDERS = st.sampled_from(["openai", "anthropic", "google", "azure", "groq", "x-ai", "no-such-provider"])


@settings(max_examples=600, deadline=None)
@given(
    raw=st.dictionaries(KEYS, JSON, max_size=6) | GEMINI,
    provider=PROVIDERS,
    flavor=st.sampled_from([None, "chat", "x"]),
)
@example(raw={"promptTokenCount": 5, "promptTokensDetails": [{"modality": 3}]}, provider="google", flavor=None)
def test_any_json_is_read_or_refused_naming_a_field(raw, provider, flavor):
    try:
        read = read_usage(raw, provider=provider, api_flavor=flavor)
    except UnreadableUsage as error:
        assert error.field in ("rawUsage", "apiFlavor", "provider")
        return
    assert set(read.kinds) <= USAGE_KEYS
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in read.kinds.values())
    assert read.model is None or isinstance(read.model, str)
    inconsistency(read.kinds)  # says why, or None: never raises


@settings(max_examples=300, deadline=None)
@given(raw=JSON)
def test_what_is_not_an_object_is_refused(raw):
    if isinstance(raw, dict):
        return
    try:
        read_usage(raw, provider="openai", api_flavor=None)
    except UnreadableUsage as error:
        assert error.field == "rawUsage"
    else:
        raise AssertionError("read a non-object")
