"""Protection of the server, in one place: what a request may ask, how long it may take, how big it may be.

| limit | value |
| --- | --- |
| query depth | 10 |
| aliases per document (fragments included) | 15 |
| tokens per document | 1,000 |
| literal `first` / `limit` / `recentEvents` | 500 / 1,000 / 500 (checked before any resolver runs) |
| request body | 5 MiB (413) |
| parsed and validated documents cached | 256 each |
| Postgres statement_timeout / connect timeout / pool wait | 30 s / 5 s / 5 s |
| concurrent connections (uvicorn) | 200 |
| graceful shutdown | 20 s for in-flight requests |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import ArgumentNode, GraphQLError, IntValueNode, ValidationRule
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as create_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 1000
PAGE_ARGUMENTS = {"first": 500, "limit": 1000, "recentEvents": 500}
MAX_BODY_BYTES = 5 * 1024 * 1024
DOCUMENT_CACHE_SIZE = 256
STATEMENT_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 5
MAX_CONCURRENCY = 200
GRACEFUL_SHUTDOWN_S = 20


class PageSizeRule(ValidationRule):
    """A literal page size above its cap is refused before execution (variables are checked by services)."""

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        cap = PAGE_ARGUMENTS.get(node.name.value)
        if cap is not None and isinstance(node.value, IntValueNode) and int(node.value.value) > cap:
            self.report_error(GraphQLError(f"{node.name.value} may be at most {cap}", node))


# Built once: QueryDepthLimiter and MaxAliasesLimiter make a new rule class per instance, and strawberry makes
# an instance per request, so the validation cache (keyed by the rules) never hit (16% of the server's CPU).
DEPTH_RULE = create_depth_rule(MAX_DEPTH, None, None)
ALIASES_RULE = create_aliases_rule(MAX_ALIASES)


def query_protection(*, production: bool) -> list[Callable[[], SchemaExtension]]:
    """Extension factories (strawberry builds one of each per request)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(ParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(AddValidationRules, [DEPTH_RULE, ALIASES_RULE, PageSizeRule]),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return extensions


class BodySizeLimit:
    """Refuses request bodies over `limit` bytes with 413, by Content-Length or while reading."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"request body larger than {self.limit} bytes",
                        "extensions": {"code": "BAD_USER_INPUT", "field": "body"},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass
