"""Errors outside GraphQL execution, as JSON in the GraphQL error shape, and the one map of codes to HTTP statuses.

Every route (GraphQL over HTTP, exports, the admission gate, the body limit) answers a failure with
`{"errors": [{"message": …, "extensions": {"code": …}}]}` and the status `HTTP_STATUS` gives its code; a
retryable refusal carries `Retry-After` (whole seconds, rounded up). The body is sent as the media type the
request's Accept chose (service/media_types.py), so with `Vary: Accept`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Send

from service.media_types import CONTENT_TYPES, error_media_type
from service.observability import request_id

HTTP_STATUS: dict[str, int] = {
    "BAD_REQUEST": 400,  # not a GraphQL request at all (no query, not JSON, not UTF-8, a wrong content type)
    "GRAPHQL_PARSE_FAILED": 400,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "BAD_USER_INPUT": 400,
    "ANSWER_TOO_LARGE": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "NOT_ACCEPTABLE": 406,  # a GraphQL request accepting neither JSON media type of GraphQL responses
    "CONFLICT": 409,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}


def status_of(code: str) -> int:
    return HTTP_STATUS.get(code, 500)


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id.get(), **extensions}}]}


def retry_headers(extensions: dict[str, Any]) -> dict[str, str]:
    retry_after = extensions.get("retryAfter")
    return {"Retry-After": str(max(1, math.ceil(float(retry_after))))} if retry_after is not None else {}


def request_error_status(response: Mapping[str, Any]) -> int | None:
    """The status of a GraphQL result that failed before execution (no data, and no error at a field's path: the
    document did not parse or validate, the variables did not coerce), from its errors' codes; None for a result
    that was executed (its field errors leave it a 200)."""
    errors = response.get("errors") or []
    if response.get("data") is not None or not errors or any("path" in error for error in errors):
        return None
    return max(status_of(str((error.get("extensions") or {}).get("code"))) for error in errors)


def error_headers(extensions: dict[str, Any]) -> dict[str, str]:
    return {**retry_headers(extensions), "Vary": "Accept"}


def error_response(message: str, code: str, *, status: int | None = None, **extensions: Any) -> JSONResponse:
    """An error response in the request's error media type; status from the code unless given."""
    return JSONResponse(
        error_body(message, code, **extensions),
        status_code=status or status_of(code),
        headers=error_headers(extensions),
        media_type=CONTENT_TYPES[error_media_type.get()],
    )


async def send_error(send: Send, message: str, code: str, *, status: int | None = None, **extensions: Any) -> None:
    """The same response, written straight to an ASGI `send` (for middleware below Starlette's routing)."""
    body = json.dumps(error_body(message, code, **extensions)).encode()
    content_type = CONTENT_TYPES[error_media_type.get()].encode()
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in error_headers(extensions).items()]
    await send({"type": "http.response.start", "status": status or status_of(code), "headers": headers})
    await send({"type": "http.response.body", "body": body})
