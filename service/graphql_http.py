"""strawberry's ASGI view answering GraphQL over HTTP as the spec says: the draft of 2025-05 that graphql-http's
`auditServer` (1.22.4) checks, every one of its MUSTs and SHOULDs.

- The response media type comes from Accept (service/media_types.py); a request accepting neither JSON type of
  GraphQL responses gets 406. Every answer carries `Vary: Accept`.
- application/json: a GraphQL result is 200 whatever its errors (503 or 429 when the whole request failed for a
  reason that passes, service/errors.py), as legacy clients expect.
- application/graphql-response+json: a request that fails before execution (its document does not parse or
  validate, its variables do not coerce, its estimated answer is too large) has no `data` entry and the status of
  its errors' codes (400); so has one that failed as a whole for a reason that passes (503, 429, as with
  application/json); an executed one is 200 with its data, field errors included.
- A request that is not GraphQL (strawberry's HTTPException) is a typed error in the negotiated media type: 400
  BAD_REQUEST (also for an `operationName` that is not a string, and an operation that cannot be determined), 404,
  405 with `Allow` (a mutation over GET: `Allow: POST`), 406. A GET's parameter given as "" is as if not given.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType

from service.context import Context
from service.documents import parsed
from service.http_errors import error_response, request_error_status, status_of
from service.limits import MAX_TOKENS
from service.media_types import CONTENT_TYPES, GRAPHQL_RESPONSE_JSON, JSON, request_media_type

HTTP_EXCEPTION_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE"}
NOT_ACCEPTABLE = f"GraphQL answers are {GRAPHQL_RESPONSE_JSON} or {JSON} (UTF-8): accept one of them"
SEVERAL_OPERATIONS = "the document has several operations: name the one to run in operationName"


class MethodNotAllowed(HTTPException):
    """A 405 naming the methods that would work (RFC 9110 §15.5.6 requires the Allow header)."""

    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.allow = allow


class GraphQLOverHTTP(GraphQL[Context, None]):
    """strawberry's ASGI view as this module's docstring says; a subclass gives the context (and may cap answers in
    `encode_answer`)."""

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        """strawberry answers a request it cannot take as GraphQL with plain text: here, a GraphQL error."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = refusal_response(error)
        await response(scope, receive, send)

    def encode_answer(self, data: object) -> tuple[str, bool]:
        """The JSON of an answer, and whether an error stands in its place (an endpoint may cap its size)."""
        return json.dumps(data, separators=(",", ":")), False

    def encode_json(self, data: object) -> str:
        return self.encode_answer(data)[0]

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """The negotiated media type is the sub-response's Content-Type; none when the client accepts neither."""
        sub_response = await super().get_sub_response(request)
        media_type = request_media_type(request.scope)
        if media_type is not None:
            sub_response.headers["content-type"] = CONTENT_TYPES[media_type]
        return sub_response

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """A GET's parameters; one given as the empty string is as if not given (the spec's GET section)."""
        return super().parse_query_params({name: value for name, value in params.items() if value != ""})

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        """strawberry checks the JSON types of `query`, `variables` and `extensions`; here, `operationName`'s."""
        parsed_request = await super().parse_http_body(request)
        if isinstance(parsed_request, GraphQLRequestData) and not isinstance(parsed_request.operation_name, str | None):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return parsed_request

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """406 before anything runs, and 400 for a document of several operations without operationName
        (strawberry would run the first); a mutation over GET is 405 (the spec's MUST), not strawberry's 400."""
        if "content-type" not in sub_response.headers:
            raise HTTPException(406, NOT_ACCEPTABLE)
        if isinstance(request_data, GraphQLRequestData) and unnamed_among_several(request_data):
            raise HTTPException(400, SEVERAL_OPERATIONS)
        try:
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        except HTTPException as error:
            refused = error.__cause__
            if isinstance(refused, InvalidOperationTypeError) and refused.operation_type is OperationType.MUTATION:
                raise MethodNotAllowed("a mutation must be sent with POST", allow="POST") from refused
            raise

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """The result in the negotiated media type, with the status that media type gives it."""
        graphql_response = sub_response.headers.get("content-type") == CONTENT_TYPES[GRAPHQL_RESPONSE_JSON]
        answer: object = response_data
        status = sub_response.status_code or 200  # 503 or 429 when the whole request failed (service/errors.py)
        if graphql_response and isinstance(response_data, dict):
            status = request_error_status(response_data) or status
            if status >= 300:  # the spec: a null data entry is a 2xx, no data entry a 4xx or 5xx
                answer = {key: value for key, value in response_data.items() if key != "data"}
        body, replaced = self.encode_answer(answer)
        if replaced and graphql_response:
            status = status_of("ANSWER_TOO_LARGE")
        response = Response(body, status_code=status)
        response.headers.raw.extend(sub_response.headers.raw)
        response.headers["Vary"] = "Accept"
        response.background = sub_response.background
        return response


def unnamed_among_several(request: GraphQLRequestData) -> bool:
    """GraphQL's GetOperation() is a request error when the document has several operations and none is named.
    The document is parsed as service/documents.py parses it (the same cache); one that does not parse is left to
    strawberry to report."""
    if request.operation_name or not request.query:
        return False
    try:
        document = parsed(request.query, MAX_TOKENS)
    except GraphQLError:
        return False
    return sum(isinstance(definition, OperationDefinitionNode) for definition in document.definitions) > 1


def refusal_response(error: HTTPException) -> Response:
    """A request strawberry refused, as a typed error (in the request's error media type)."""
    code = HTTP_EXCEPTION_CODES.get(error.status_code, "BAD_REQUEST")
    response = error_response(request_refusal(error.reason), code, status=error.status_code)
    if error.status_code == 405:
        response.headers["Allow"] = error.allow if isinstance(error, MethodNotAllowed) else "GET, POST"
    return response


def request_refusal(reason: str) -> str:
    """strawberry's reasons, with what to do instead where it is not obvious."""
    if reason == "Batching is not enabled":
        return "send one operation per request: a JSON array of operations (batching) is not supported"
    if reason == "Unsupported content type":
        return "send the operation as JSON (Content-Type: application/json) or as a GET query string"
    return reason
