"""Generated TrackUsageInput values, wild ones included, thrown at the real endpoint: never a 5xx, always a
stored event or a typed BAD_USER_INPUT, and the stored sums equal exactly what was accepted."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WILD_STRINGS = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["NaN", "Infinity", "-0", "1e309", "\x00", "\u202e", "null"]),
    st.text(min_size=190, max_size=260),
    st.just("x" * 1_000_000),
)
WILD_INTS = st.one_of(st.integers(-(2**40), 2**40), st.integers(0, 5000))
ANYTHING = st.one_of(
    st.none(),
    WILD_INTS,
    WILD_STRINGS,
    st.floats(allow_nan=False, allow_infinity=False),  # JSON has no NaN: NaN-like strings are above
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
TAGS = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=70), st.text(max_size=300), max_size=40),
    st.dictionaries(st.text(max_size=5), st.dictionaries(st.text(max_size=5), st.text(max_size=5)), max_size=2),
    ANYTHING,
)


def inputs(slug: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "workspaceId": st.just(slug),
            "provider": st.one_of(st.just("openai"), WILD_STRINGS, ANYTHING),
            "model": st.one_of(st.just("gpt-4o"), WILD_STRINGS),
            "promptTokens": st.one_of(WILD_INTS, ANYTHING),
            "completionTokens": st.one_of(WILD_INTS, ANYTHING),
        },
        optional={
            "cachedPromptTokens": WILD_INTS,
            "totalTokens": WILD_INTS,
            "durationMs": WILD_INTS,
            "costUsd": st.one_of(WILD_STRINGS, ANYTHING),
            "occurredAt": st.one_of(WILD_STRINGS, ANYTHING),
            "tags": TAGS,
            "userId": st.one_of(WILD_STRINGS, ANYTHING),
            "status": ANYTHING,
        },
    )


def test_generated_inputs_never_break_the_server_nor_the_sums(tenant):
    accepted: list[int] = []
    query = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { promptTokens } } }"
    headers = {"Authorization": f"Bearer {tenant.key}"}
    with httpx.Client(base_url=tenant.server.url, headers=headers, timeout=30) as http:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(inputs(tenant.slug))
        def throw(event: dict[str, Any]) -> None:
            response = http.post("/graphql", json={"query": query, "variables": {"input": event}})
            assert response.status_code in (200, 413), response.text[:300]
            body = response.json()
            if body.get("data"):
                accepted.append(body["data"]["trackUsage"]["event"]["promptTokens"])
            else:
                codes = {e["extensions"]["code"] for e in body["errors"]}
                assert codes == {"BAD_USER_INPUT"}, body["errors"]

        throw()
    assert accepted, "some generated inputs should be valid"
    assert tenant.totals() == {"calls": len(accepted), "promptTokens": sum(accepted)}
