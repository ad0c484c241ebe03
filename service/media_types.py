"""Which of the two GraphQL-over-HTTP response media types a request is answered with, chosen from its Accept header.

The spec: "encode the response in the highest priority media type listed that is supported by the server".
- A type listed by name: the one with the higher `q`; `application/graphql-response+json` on a tie. With it, a
  request that fails before execution (its document does not parse or validate, its variables do not coerce) has
  no `data` entry and the status of its errors' codes (service/graphql_http.py).
- Only wildcards (`*/*`, `application/*`), no Accept, or nothing we can parse: `application/json`, what legacy
  clients (curl, httpx, GraphiQL 3) get; a GraphQL result is then 200 whatever its errors, as before.
- Neither (`text/html`, `*/*;q=0`, a charset other than UTF-8): a GraphQL request is refused with 406; an error
  body elsewhere disregards Accept and is `application/json`.

Ranges are read as RFC 9110 §12.5.1 says: `q` from 0 (refused) to 1, the most specific range that matches a type
decides its weight (`application/json;charset=utf-8` over `application/json` over `application/*` over `*/*`),
several Accept lines are one list. About 40 lines, so written here rather than a dependency: python-mimeparse (the
maintained parser) breaks ties by the server's order alone, so it cannot tell `*/*` from both types named at q=1,
takes `charset=latin1` for a match, and raises on a malformed range where a server should read on.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable
from typing import NamedTuple

from starlette.types import ASGIApp, Receive, Scope, Send

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
CONTENT_TYPES = {GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8", JSON: JSON}
UTF8 = frozenset({"utf-8", "utf8"})
QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")  # RFC 9110 §12.4.2

# The media type of the current request's error bodies (set by ErrorMediaTypes, read by service/http_errors.py).
error_media_type: contextvars.ContextVar[str] = contextvars.ContextVar("error_media_type", default=JSON)


class MediaRange(NamedTuple):
    type: str
    subtype: str
    charset: str | None
    q: float


def media_ranges(accept: str) -> list[MediaRange]:
    """The ranges of an Accept value, lower-cased; malformed ones (no `/`, a `q` that is not a qvalue) left out."""
    ranges = []
    for part in accept.lower().split(","):
        name, *parameters = (piece.strip() for piece in part.split(";"))
        kind, slash, subtype = name.partition("/")
        values: dict[str, str] = {}
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            values[key.strip()] = value.strip().strip('"')
        q = values.get("q", "1")
        if slash and kind and subtype and QVALUE.fullmatch(q):
            ranges.append(MediaRange(kind, subtype, values.get("charset"), float(q)))
    return ranges


def weight(media_type: str, ranges: Iterable[MediaRange]) -> tuple[float, int]:
    """The `q` the most specific matching range gives `media_type`, and that range's specificity (0 for `*/*`,
    1 for `application/*`, 2 and 3 for the type itself without and with a UTF-8 charset); (0, -1) if none."""
    kind, subtype = media_type.split("/")
    best = (-1, 0.0)
    for found in ranges:
        if found.charset is not None and found.charset not in UTF8:
            continue  # we write UTF-8 only
        if (found.type, found.subtype) == (kind, subtype):
            specificity = 3 if found.charset else 2
        elif (found.type, found.subtype) == (kind, "*"):
            specificity = 1
        elif (found.type, found.subtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        best = max(best, (specificity, found.q))
    return best[1], best[0]


def negotiated(accept: str | None) -> str | None:
    """The response media type for an Accept value; None when it refuses both."""
    ranges = media_ranges(accept or "")
    if not ranges:
        return JSON
    weights = {media_type: weight(media_type, ranges) for media_type in (GRAPHQL_RESPONSE_JSON, JSON)}
    listed = [media_type for media_type, (q, specificity) in weights.items() if q > 0 and specificity >= 2]
    if listed:
        return max(listed, key=lambda media_type: weights[media_type][0])  # the first, the new type, on a tie
    return next((media_type for media_type in (JSON, GRAPHQL_RESPONSE_JSON) if weights[media_type][0] > 0), None)


def accept_header(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """Every Accept field line of an ASGI scope's headers, joined as one value (RFC 9110 §5.3)."""
    return ", ".join(value.decode("latin-1") for name, value in headers if name.lower() == b"accept")


SCOPE_KEY = "llm_usage.media_type"  # a request's negotiated type, kept in its ASGI scope: negotiated once


def request_media_type(scope: Scope) -> str | None:
    """The negotiated media type of an HTTP request (None: it accepts neither), worked out once per request."""
    if SCOPE_KEY not in scope:
        scope[SCOPE_KEY] = negotiated(accept_header(scope.get("headers") or []))
    media_type: str | None = scope[SCOPE_KEY]
    return media_type


class ErrorMediaTypes:
    """Sets `error_media_type` for the request: the negotiated type, or application/json when the client accepts
    neither (an error body then disregards Accept). Outside every middleware that answers errors itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = error_media_type.set(request_media_type(scope) or JSON)
        try:
            await self.app(scope, receive, send)
        finally:
            error_media_type.reset(token)
