"""graphql-http's `auditServer` (1.22.4, src/audits/server.ts), item by item, in Python over real HTTP: each request
as the audit sends it (only the headers it lists; fetch would add `accept: */*`), each answer asserted whole:
status, Content-Type and body. The audit only checks the status or the media type; the rest pins what we answer.

Eight of these were SHOULD warnings before application/graphql-response+json was served: 22EB, 865D, 556A, D586,
51FE, 74FF, 5E5B, 86EE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, serving

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json; charset=utf-8"
TYPENAME = {"data": {"__typename": "Query"}}
NO_TYPE = {"data": {"__type": None}}
TYPE_QUERY = "query Type($name: String!) { __type(name: $name) { name } }"
NOT_A_FIELD = "{ 8f31403dfe404bccbb0e835f2629c6a7 }"  # the audit's "validation failure": graphql-core cannot parse it
COERCE_FAILURE = {"query": "query CoerceFailure($id: ID!){ __typename }", "variables": {"id": None}}
SYNTAX_EOF = ("Syntax Error: Expected Name, found <EOF>.", 1, 2, "GRAPHQL_PARSE_FAILED")
SYNTAX_NUMBER = ("Syntax Error: Invalid number, expected digit but got: 'f'.", 1, 4, "GRAPHQL_PARSE_FAILED")
UNUSED_ID = ("Variable '$id' is never used in operation 'CoerceFailure'.", 1, 21, "GRAPHQL_VALIDATION_FAILED")
NOT_JSON = "Unable to parse request body as JSON"
NO_QUERY = "No GraphQL query found in the request"
NOT_JSON_TYPE = "send the operation as JSON (Content-Type: application/json) or as a GET query string"
MUST_BE = "The GraphQL operation's `{}` must be a string or null, if provided."
MUST_BE_OBJECT = "The GraphQL operation's `{}` must be an object or null, if provided."
INVALID = [{"obj": "ect"}, 0, False, ["array"]]  # the audit's invalid parameters, in its order


@dataclass(frozen=True)
class Item:
    id: str
    method: str
    headers: dict[str, str]
    content: str | None  # POST: the body as the audit sends it
    status: int
    content_type: str
    body: dict[str, Any]  # exactly; a `requestId` of "audit-<id>" (sent as X-Request-Id)
    params: dict[str, str] = field(default_factory=dict)  # GET: the query string
    allow: str | None = None


def post(id: str, body: object, accept: str | None, status: int, answer: dict[str, Any], **more: Any) -> Item:
    headers = {"content-type": JSON, **({"accept": accept} if accept else {})}
    content_type = GRAPHQL_RESPONSE_TYPE if accept == GRAPHQL_RESPONSE else JSON
    content = body if isinstance(body, str) or body is None else json.dumps(body)
    return Item(id, "POST", headers, content, status, content_type, answer, **more)


def get(id: str, params: dict[str, str], accept: str | None, status: int, answer: dict[str, Any], **more: Any) -> Item:
    content_type = GRAPHQL_RESPONSE_TYPE if accept == GRAPHQL_RESPONSE else JSON
    return Item(id, "GET", {"accept": accept} if accept else {}, None, status, content_type, answer, params, **more)


def refused(id: str, message: str, code: str = "BAD_REQUEST") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": f"audit-{id}"}}]}


def failed(id: str, error: tuple[str, int, int, str], *, legacy: bool) -> dict[str, Any]:
    """A request error: `data: null` as application/json, no data entry as application/graphql-response+json."""
    message, line, column, code = error
    errors = [
        {
            "message": message,
            "locations": [{"line": line, "column": column}],
            "extensions": {"code": code, "requestId": f"audit-{id}"},
        }
    ]
    return {"data": None, "errors": errors} if legacy else {"errors": errors}


TYPENAME_QUERY = {"query": "{ __typename }"}
G, J = GRAPHQL_RESPONSE, JSON
AUDIT = [
    # Media types
    post("22EB", TYPENAME_QUERY, G, 200, TYPENAME),
    post("4655", TYPENAME_QUERY, J, 200, TYPENAME),
    post("47DE", TYPENAME_QUERY, "*/*", 200, TYPENAME),
    post("80D8", TYPENAME_QUERY, None, 200, TYPENAME),
    post("82A3", TYPENAME_QUERY, None, 200, TYPENAME),
    Item(
        "BF61",
        "POST",
        {"content-type": "application/json; charset=utf-8"},
        json.dumps({"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}),
        200,
        JSON,
        NO_TYPE,
    ),
    post("78D5", TYPENAME_QUERY, None, 200, TYPENAME),
    # Request
    post("2C94", TYPENAME_QUERY, None, 200, TYPENAME),
    get("5A70", {"query": "{ __typename }"}, None, 200, TYPENAME),
    get(
        "9C48",
        {"query": "mutation { __typename }"},
        G,
        405,
        refused("9C48", "a mutation must be sent with POST", "METHOD_NOT_ALLOWED"),
        allow="POST",
    ),
    Item("9ABE", "POST", {}, json.dumps(TYPENAME_QUERY), 400, JSON, refused("9ABE", NOT_JSON_TYPE)),
    post("03D4", TYPENAME_QUERY, None, 200, TYPENAME),
    post("A5BF", None, None, 400, refused("A5BF", NOT_JSON)),
    # Request parameters
    post("423L", {"notquery": "{ __typename }"}, G, 400, refused("423L", NO_QUERY)),
    *[
        post(f"LKJ{i}", {"query": v}, None, 400, refused(f"LKJ{i}", MUST_BE.format("query")))
        for i, v in enumerate(INVALID)
    ],
    post("34A2", TYPENAME_QUERY, G, 200, TYPENAME),
    post("13EE", TYPENAME_QUERY, J, 200, TYPENAME),
    *[
        post(
            f"6C0{i}",
            {"operationName": v, "query": "{ __typename }"},
            None,
            400,
            refused(f"6C0{i}", MUST_BE.format("operationName")),
        )
        for i, v in enumerate(INVALID)
    ],
    post("8161", {"operationName": "Query", "query": "query Query { __typename }"}, G, 200, TYPENAME),
    post("B8B3", {"operationName": "Query", "query": "query Query { __typename }"}, J, 200, TYPENAME),
    *[
        item
        for i, parameter in enumerate(["variables", "operationName", "extensions"])
        for item in (
            post(f"94B{i}", {"query": "{ __typename }", parameter: None}, G, 200, TYPENAME),
            post(f"022{i}", {"query": "{ __typename }", parameter: None}, J, 200, TYPENAME),
        )
    ],
    *[
        post(
            f"476{i}",
            {"query": "{ __typename }", "variables": v},
            None,
            400,
            refused(f"476{i}", MUST_BE_OBJECT.format("variables")),
        )
        for i, v in enumerate(["string", 0, False, ["array"]])
    ],
    post("2EA1", {"query": TYPE_QUERY, "variables": {"name": "sometype"}}, G, 200, NO_TYPE),
    post("28B9", {"query": TYPE_QUERY, "variables": {"name": "sometype"}}, J, 200, NO_TYPE),
    get("D6D5", {"query": TYPE_QUERY, "variables": json.dumps({"name": "sometype"})}, G, 200, NO_TYPE),
    get("6A70", {"query": TYPE_QUERY, "variables": json.dumps({"name": "sometype"})}, J, 200, NO_TYPE),
    *[
        post(
            f"58B{i}",
            {"query": "{ __typename }", "extensions": v},
            None,
            400,
            refused(f"58B{i}", MUST_BE_OBJECT.format("extensions")),
        )
        for i, v in enumerate(["string", 0, False, ["array"]])
    ],
    post("428F", {"query": "{ __typename }", "extensions": {"some": "value"}}, G, 200, TYPENAME),
    post("1B7A", {"query": "{ __typename }", "extensions": {"some": "value"}}, J, 200, TYPENAME),
    post("B6DC", '{ "not a JSON', J, 400, refused("B6DC", NOT_JSON)),
    post("BCF8", '{ "not a JSON', J, 400, refused("BCF8", NOT_JSON)),
    post("B7N8", '{ "not a JSON', G, 400, refused("B7N8", NOT_JSON)),
    post("8764", {"qeury": "{ __typename }"}, None, 400, refused("8764", NO_QUERY)),
    post("3E3A", {"qeury": "{ __typename }"}, None, 400, refused("3E3A", NO_QUERY)),
    # Response application/json: a request error is a 200 with `data: null`
    post("572B", {"query": "{"}, J, 200, failed("572B", SYNTAX_EOF, legacy=True)),
    post("FDE2", {"query": NOT_A_FIELD}, J, 200, failed("FDE2", SYNTAX_NUMBER, legacy=True)),
    post("7B9B", COERCE_FAILURE, J, 200, failed("7B9B", UNUSED_ID, legacy=True)),
    # Response application/graphql-response+json: a request error is a 400 without a data entry
    post("865D", {"query": "{"}, G, 400, failed("865D", SYNTAX_EOF, legacy=False)),
    post("556A", {"query": "{"}, G, 400, failed("556A", SYNTAX_EOF, legacy=False)),
    post("D586", {"query": "{"}, G, 400, failed("D586", SYNTAX_EOF, legacy=False)),
    post("51FE", {"query": NOT_A_FIELD}, G, 400, failed("51FE", SYNTAX_NUMBER, legacy=False)),
    post("74FF", {"query": NOT_A_FIELD}, G, 400, failed("74FF", SYNTAX_NUMBER, legacy=False)),
    post("5E5B", {"query": NOT_A_FIELD}, G, 400, failed("5E5B", SYNTAX_NUMBER, legacy=False)),
    post("86EE", COERCE_FAILURE, G, 400, failed("86EE", UNUSED_ID, legacy=False)),
]


@pytest.fixture(scope="module")
def server(engine) -> Iterator[LiveServer]:
    with serving(engine) as live:
        yield live


def send(server: LiveServer, item: Item) -> httpx.Response:
    """The request with the audit's headers and no others of httpx's defaults that matter (Accept)."""
    with httpx.Client(timeout=30) as client:
        request = client.build_request(
            item.method,
            f"{server.url}/graphql",
            headers={**item.headers, "x-request-id": f"audit-{item.id}"},
            content=item.content,
            params=item.params,
        )
        if "accept" not in item.headers:
            del request.headers["accept"]
        return client.send(request)


def test_the_audit_has_all_61_items():
    assert len({item.id for item in AUDIT}) == len(AUDIT) == 61


@pytest.mark.parametrize("item", AUDIT, ids=[item.id for item in AUDIT])
def test_audit_item(server, item):
    response = send(server, item)
    assert (response.status_code, response.headers["content-type"]) == (item.status, item.content_type), response.text
    assert json.loads(response.content.decode("utf-8")) == item.body  # 82A3: UTF-8, strictly
    assert response.headers.get("allow") == item.allow
    assert response.headers["vary"] == "Accept"
