"""Content negotiation over real HTTP beyond graphql-http's audit (tests/test_graphql_http_audit.py): which media type
each Accept gets, the statuses of application/graphql-response+json for what the audit does not send (a document
that fails validation, variables that fail coercion, field errors, a rate limit, an answer too large), 405 and 406,
and the error bodies of the other routes and middleware. Every answer asserted whole."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import service.app
from tests.live_server import LiveServer, LiveWorkspace, live_workspace, serving

G = "application/graphql-response+json"
GRAPHQL_RESPONSE = "application/graphql-response+json; charset=utf-8"
JSON = "application/json"
TYPENAME = {"data": {"__typename": "Query"}}
NO_KEY = "send an API key: 'Authorization: Bearer llmu_…'"


@pytest.fixture(scope="module")
def server(engine) -> Iterator[LiveServer]:
    with serving(engine) as live:
        yield live


@pytest.fixture
async def tenant(engine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def post(
    server: LiveServer, body: object, accept: str | list[str] | None = None, *, key: str | None = None
) -> httpx.Response:
    """A POST with these Accept lines (None: no Accept at all), and X-Request-Id "media-types"."""
    headers: list[tuple[str, str]] = [("content-type", JSON), ("x-request-id", "media-types")]
    headers += [("accept", line) for line in ([accept] if isinstance(accept, str) else accept or [])]
    headers += [("authorization", f"Bearer {key}")] if key else []
    with httpx.Client(timeout=30) as client:
        request = client.build_request("POST", f"{server.url}/graphql", headers=headers, content=json.dumps(body))
        if accept is None:
            del request.headers["accept"]
        return client.send(request)


def answer(response: httpx.Response) -> tuple[int, str, Any]:
    return response.status_code, response.headers["content-type"], response.json()


def error(
    message: str, code: str, *, at: tuple[int, int] | None = None, path: list[str] | None = None, **extensions: Any
) -> dict[str, Any]:
    """One error as we send it: its location in the document (line, column) and path when it has them."""
    found: dict[str, Any] = {"message": message}
    if at is not None:
        found["locations"] = [{"line": at[0], "column": at[1]}]
    if path is not None:
        found["path"] = path
    return {**found, "extensions": {"code": code, "requestId": "media-types", **extensions}}


GRAPHIQL_3_8_3 = "application/json, multipart/mixed"  # its fetcher (service/static/graphiql/graphiql.min.js)
APOLLO_CLIENT_4 = "application/graphql-response+json,application/json;q=0.9"  # the spec's recommended header too
URQL = (
    "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (GRAPHIQL_3_8_3, JSON),
        (APOLLO_CLIENT_4, GRAPHQL_RESPONSE),
        (URQL, GRAPHQL_RESPONSE),
        (BROWSER, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (None, JSON),
        ("", JSON),
        ("no-slash, ;;", JSON),  # nothing parses: as if absent
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE),  # a tie: the spec's type
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),  # order is no preference
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.9, */*", JSON),  # listed by name before matched by a wildcard
        ("application/graphql-response+json;q=0.1, */*", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0, */*", JSON),  # refused by name, whatever the wildcard says
        ("application/json;q=0, */*", GRAPHQL_RESPONSE),
        (
            "application/json;q=0.5, application/json;charset=utf-8;q=0.1, application/graphql-response+json;q=0.2",
            GRAPHQL_RESPONSE,  # the most specific range decides: application/json at 0.1
        ),
        ("Application/GraphQL-Response+JSON; Charset=UTF-8", GRAPHQL_RESPONSE),  # names are case-insensitive
        ('application/graphql-response+json;charset="utf8"', GRAPHQL_RESPONSE),
        ("application/graphql-response+json;charset=iso-8859-1, application/json", JSON),  # we write UTF-8 only
        ("application/graphql-response+json;q=2, application/json;q=0.5", JSON),  # q=2 is no qvalue: dropped
        (["application/json;q=0.5", "application/graphql-response+json"], GRAPHQL_RESPONSE),  # two Accept lines
    ],
)
def test_the_accept_header_chooses_the_media_type(server, accept, media_type):
    response = post(server, {"query": "{ __typename }"}, accept)
    assert answer(response) == (200, media_type, TYPENAME)
    assert response.headers["vary"] == "Accept"


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", "*/*;q=0", "application/graphql-response+json;charset=latin1"]
)
def test_a_graphql_request_accepting_neither_type_is_refused_with_406_before_it_runs(server, tenant, accept):
    track = (
        f'mutation {{ trackUsage(input: {{workspaceId: "{tenant.slug}", provider: "openai", model: "gpt-4o", '
        "promptTokens: 1, completionTokens: 1}) { duplicate } }"
    )
    totals = {"query": f'{{ usageAnalytics(filter: {{workspaceId: "{tenant.slug}"}}) {{ totals {{ calls }} }} }}'}
    refused = post(server, {"query": track}, accept, key=tenant.key)
    message = "GraphQL answers are application/graphql-response+json or application/json (UTF-8): accept one of them"
    assert answer(refused) == (406, JSON, {"errors": [error(message, "NOT_ACCEPTABLE")]})
    assert answer(post(server, totals, G, key=tenant.key))[2] == {"data": {"usageAnalytics": {"totals": {"calls": 0}}}}
    assert answer(post(server, {"query": track}, G, key=tenant.key)) == (
        200,
        GRAPHQL_RESPONSE,
        {"data": {"trackUsage": {"duplicate": False}}},
    )
    assert answer(post(server, totals, G, key=tenant.key))[2] == {"data": {"usageAnalytics": {"totals": {"calls": 1}}}}


VALIDATION = ("Cannot query field 'nope' on type 'Query'.", "GRAPHQL_VALIDATION_FAILED")
COERCION = "n: String cannot represent a non string value: 5"


@pytest.mark.parametrize("accept", [G, JSON])
def test_a_document_that_fails_validation(server, accept):
    failure = error(*VALIDATION, at=(1, 3))
    expected = (
        (400, GRAPHQL_RESPONSE, {"errors": [failure]})
        if accept == G
        else (200, JSON, {"data": None, "errors": [failure]})
    )
    assert answer(post(server, {"query": "{ nope }"}, accept)) == expected


@pytest.mark.parametrize("accept", [G, JSON])
def test_variables_that_fail_coercion(server, accept):
    body = {"query": "query ($n: String!) { __type(name: $n) { name } }", "variables": {"n": 5}}
    failure = error(
        COERCION, "BAD_USER_INPUT", field="n", reason=COERCION[3:], problems=[{"field": "n", "reason": COERCION[3:]}]
    )
    expected = (
        (400, GRAPHQL_RESPONSE, {"errors": [failure]})
        if accept == G
        else (200, JSON, {"data": None, "errors": [failure]})
    )
    assert answer(post(server, body, accept)) == expected


def test_a_get_whose_document_does_not_parse_is_a_400_without_data(server):
    response = httpx.get(
        f"{server.url}/graphql", params={"query": "{"}, headers={"accept": G, "x-request-id": "media-types"}, timeout=30
    )
    failure = error("Syntax Error: Expected Name, found <EOF>.", "GRAPHQL_PARSE_FAILED", at=(1, 2))
    assert answer(response) == (400, GRAPHQL_RESPONSE, {"errors": [failure]})


@pytest.mark.parametrize(("accept", "media_type"), [(G, GRAPHQL_RESPONSE), (JSON, JSON)])
def test_an_operation_that_cannot_be_determined_is_refused_not_guessed(server, accept, media_type):
    """Several operations and no operationName: GraphQL's GetOperation() fails (strawberry ran the first one)."""
    document = "query A { __typename } mutation B { __typename }"
    message = "the document has several operations: name the one to run in operationName"
    refused = {"errors": [error(message, "BAD_REQUEST")]}
    assert answer(post(server, {"query": document}, accept)) == (400, media_type, refused)
    assert answer(post(server, {"query": document, "operationName": "A"}, accept)) == (200, media_type, TYPENAME)


@pytest.mark.parametrize("empty", ["operationName", "variables", "extensions"])
def test_a_get_parameter_given_as_the_empty_string_is_as_if_not_given(server, empty):
    response = httpx.get(
        f"{server.url}/graphql", params={"query": "{ __typename }", empty: ""}, headers={"accept": G}, timeout=30
    )
    assert answer(response) == (200, GRAPHQL_RESPONSE, TYPENAME)


def test_a_field_error_is_a_200_with_its_data_entry(server):
    """Executed, so not a request error: `data: null` (a non-null root field failed) and 200, in either type."""
    failure = error(NO_KEY, "UNAUTHENTICATED", at=(1, 3), path=["workspaces"])
    assert answer(post(server, {"query": "{ workspaces { id } }"}, G)) == (
        200,
        GRAPHQL_RESPONSE,
        {"data": None, "errors": [failure]},
    )


async def test_a_rate_limited_request_is_a_429_without_data_only_in_the_new_type(server, tenant):
    minted = post(
        server,
        {
            "query": "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
            "variables": {
                "input": {"workspaceId": tenant.slug, "name": "slow", "scopes": ["READ"], "rateLimitPerSecond": 0.1}
            },
        },
        key=tenant.admin_key,
    )
    slow = minted.json()["data"]["createApiKey"]["secret"]
    query = {"query": "{ workspaces { slug } }"}
    assert answer(post(server, query, G, key=slow)) == (
        200,
        GRAPHQL_RESPONSE,
        {"data": {"workspaces": [{"slug": tenant.slug}]}},
    )
    new, legacy = post(server, query, G, key=slow), post(server, query, JSON, key=slow)
    for response, media_type in ((new, GRAPHQL_RESPONSE), (legacy, JSON)):
        [refusal] = response.json()["errors"]
        retry_after = refusal["extensions"]["retryAfter"]  # the time left, to the ms: the message rounds it again
        assert 8 < retry_after <= 10 and response.headers["retry-after"] in ("9", "10")
        message = refusal["message"]
        assert re.fullmatch(r"too many requests for this key: retry in \d\.\d\d s", message)
        assert abs(float(message.split()[-2]) - retry_after) <= 0.0051
        failure = error(message, "RATE_LIMITED", at=(1, 3), path=["workspaces"], retryAfter=retry_after)
        body = {"errors": [failure]} if media_type == GRAPHQL_RESPONSE else {"data": None, "errors": [failure]}
        assert answer(response) == (429, media_type, body)


@pytest.mark.parametrize("accept", [G, JSON])
def test_an_answer_too_large_to_send(server, accept, monkeypatch):
    monkeypatch.setattr(service.app, "MAX_ANSWER_BYTES", 20)
    message = "the answer has 31 bytes; at most 20 are sent: ask for less"  # {"data":{"__typename":"Query"}}
    failure = error(message, "ANSWER_TOO_LARGE", bytes=31, budget=20)
    expected = (400, GRAPHQL_RESPONSE) if accept == G else (200, JSON)  # application/json: 200, as before
    assert answer(post(server, {"query": "{ __typename }"}, accept)) == (*expected, {"errors": [failure]})


@pytest.mark.parametrize(("accept", "media_type"), [(G, GRAPHQL_RESPONSE), ("*/*", JSON)])
def test_other_methods_get_a_typed_405_naming_get_and_post(server, accept, media_type):
    response = httpx.put(f"{server.url}/graphql", headers={"accept": accept, "x-request-id": "media-types"}, timeout=30)
    body = {"errors": [error("GraphQL only supports GET and POST requests.", "METHOD_NOT_ALLOWED")]}
    assert answer(response) == (405, media_type, body)
    assert response.headers["allow"] == "GET, POST"


def test_a_mutation_over_get_is_a_405_naming_post_for_legacy_clients_too(server):
    response = httpx.get(
        f"{server.url}/graphql",
        params={"query": "mutation { __typename }"},
        headers={"accept": JSON, "x-request-id": "media-types"},
        timeout=30,
    )
    body = {"errors": [error("a mutation must be sent with POST", "METHOD_NOT_ALLOWED")]}
    assert answer(response) == (405, JSON, body)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [(G, GRAPHQL_RESPONSE), ("*/*", JSON), ("text/csv", JSON), (APOLLO_CLIENT_4, GRAPHQL_RESPONSE)],
)
def test_an_export_refused_answers_in_the_negotiated_type_or_json(server, accept, media_type):
    response = httpx.get(
        f"{server.url}/export/usage.csv", headers={"accept": accept, "x-request-id": "media-types"}, timeout=30
    )
    assert answer(response) == (401, media_type, {"errors": [error(NO_KEY, "UNAUTHENTICATED")]})
    assert response.headers["vary"] == "Accept"


@pytest.mark.parametrize(("accept", "media_type"), [(G, GRAPHQL_RESPONSE), ("*/*", JSON)])
def test_a_body_over_the_limit_is_refused_in_the_negotiated_type(server, accept, media_type):
    """Refused by the body-limit middleware, outside the GraphQL endpoint, from its Content-Length."""
    response = httpx.post(
        f"{server.url}/graphql",
        content=b" " * (5 * 1024 * 1024 + 1),
        headers={"content-type": JSON, "accept": accept, "x-request-id": "media-types"},
        timeout=30,
    )
    body = {"errors": [error("request body larger than 5242880 bytes", "BAD_USER_INPUT", field="body")]}
    assert answer(response) == (413, media_type, body)
