"""Generated TrackUsageInput values, wild ones included (NUL, lone surrogates, deep JSON, year 1 and 9999 with
±14:00 offsets, huge decimals), thrown at the real endpoint: never a 5xx, always a stored event or a typed
BAD_USER_INPUT, and the stored sums equal exactly what was accepted. The export's query string likewise."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
EXTREME_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-14:00",
        "9999-12-31T23:59:59+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2026-13-01T00:00:00Z",
        "2026-11-20T10:00:00",
    ]
)
WILD_STRINGS = st.one_of(
    st.text(max_size=50),
    st.text(st.one_of(st.characters(), LONE_SURROGATES, st.just("\x00")), max_size=20),
    st.sampled_from(["NaN", "Infinity", "-0", "1e309", "\x00", "\u202e", "null", "1e-999999999", "9" * 60]),
    EXTREME_TIMES,
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
DEEP_JSON = st.integers(1, 1200).map(lambda depth: {"deep": [[]] if depth < 2 else nested(depth)})
TAGS = st.one_of(
    st.none(),
    DEEP_JSON,
    st.dictionaries(st.text(max_size=70), st.text(max_size=300), max_size=40),
    st.dictionaries(st.text(max_size=5), st.dictionaries(st.text(max_size=5), st.text(max_size=5)), max_size=2),
    ANYTHING,
)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


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
            "occurredAt": st.one_of(EXTREME_TIMES, WILD_STRINGS, ANYTHING),
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
            body = json.dumps({"query": query, "variables": {"input": event}})  # lone surrogates as \\ud800
            response = http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
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


URL_STRINGS = st.one_of(  # what fits in a URL
    st.text(max_size=50),
    st.text(st.one_of(st.characters(), LONE_SURROGATES, st.just("\x00")), max_size=20),
    st.sampled_from(["NaN", "\x00", "SUCCESS", "ERROR", "a:b", ":", "2026-01-01T00:00:00Z", "x" * 2000]),
    EXTREME_TIMES,
)
EXPORT_PARAMETERS = st.sampled_from(
    [
        "workspaceId",
        "userId",
        "provider",
        "model",
        "taskType",
        "status",
        "errorType",
        "sessionId",
        "from",
        "to",
        "userIds",
        "providers",
        "models",
        "taskTypes",
        "tag",
        "providerInstanceId",
        "bogus",
    ]
)


def test_generated_export_query_strings_never_break_the_server(tenant):
    headers = {"Authorization": f"Bearer {tenant.key}"}
    with httpx.Client(base_url=tenant.server.url, headers=headers, timeout=30) as http:

        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            st.lists(st.tuples(EXPORT_PARAMETERS, st.one_of(URL_STRINGS, st.just(tenant.slug))), max_size=6),
            st.sampled_from(["csv", "jsonl", "xml"]),
        )
        def throw(pairs: list[tuple[str, str]], extension: str) -> None:
            query = "&".join(f"{quote(name)}={quote(value, errors='surrogatepass')}" for name, value in pairs)
            response = http.get(f"/export/usage.{extension}?{query}")
            assert response.status_code in (200, 400, 403, 404), response.text[:300]
            if response.status_code == 200:
                assert response.headers["content-type"].startswith(("text/csv", "application/x-ndjson"))
                response.read()  # the whole body arrives: no cut connection
            else:
                [error] = response.json()["errors"]
                assert error["extensions"]["code"] in ("BAD_USER_INPUT", "FORBIDDEN", "NOT_FOUND"), error

        throw()
