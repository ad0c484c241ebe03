"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked and logged with an id.

Codes: the modules' own (modules/core/errors.py); UNAVAILABLE (retryable, HTTP 503 with Retry-After when the
whole request failed) when Postgres cannot be reached or the pool has no connection free; and for errors
graphql-core raises before any resolver runs: GRAPHQL_PARSE_FAILED (not GraphQL), BAD_USER_INPUT (a literal
of the wrong type or value; variables are checked in service/variable_checks.py), GRAPHQL_VALIDATION_FAILED
(the query asks for what the schema does not have, or more than the limits allow). Errors are told apart by
their type, never by their wording.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import asyncpg
from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension

from modules.core.errors import LlmUsageError
from service.http_errors import retry_headers, status_of

log = logging.getLogger("llm_usage.errors")
POOL_RETRY_AFTER_S = 1

# What asyncpg raises when the server goes away or refuses to serve (SQLAlchemy wraps them as `orig`).
CONNECTION_ERRORS = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionDoesNotExistError,
)


def database_unreachable(error: BaseException | None) -> bool:
    """A failure to reach Postgres (refused, reset, timed out, shutting down), not a bug in a query. Failures to
    connect arrive as `modules.core.errors.Unavailable` (service/database.py turns them into it)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, CONNECTION_ERRORS):
        return True
    cause = getattr(error, "orig", None) or (error.__cause__ if error else None)
    return cause is not None and cause is not error and database_unreachable(cause)


def database_away(error: BaseException) -> bool:
    """Unreachable, or no connection free: work that can wait (the proxy's recorder) waits for the database."""
    return isinstance(error, PoolTimeout) or database_unreachable(error)


def classify(error: GraphQLError) -> None:
    """Give `error` its code, in place (strawberry keeps references to the errors it reports): masked with an id
    unless it is ours or one the caller can act on."""
    if isinstance(error.original_error, LlmUsageError) or "code" in (error.extensions or {}):
        return
    where = ".".join(map(str, error.path or [])) or "(before execution)"
    if isinstance(error.original_error, PoolTimeout):
        log.warning("no database connection free at %s", where)
        error.message = "The server is busy (no database connection was free); nothing was written. Retry shortly."
        error.extensions = {"code": "UNAVAILABLE", "retryable": True, "retryAfter": POOL_RETRY_AFTER_S}
    elif database_unreachable(error.original_error):
        log.warning("database unreachable at %s: %r", where, error.original_error)
        error.message = "The database is unreachable; nothing was written. Retry later."
        error.extensions = {"code": "UNAVAILABLE", "retryable": True}
    elif error.path is None and error.original_error is None:
        code = "GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError) else "GRAPHQL_VALIDATION_FAILED"
        error.extensions = {**(error.extensions or {}), "code": code}
    else:
        error_id = uuid.uuid4().hex[:12]
        log.error("unexpected error %s at %s", error_id, where, exc_info=error.original_error)
        error.message = f"Unexpected error (id {error_id}); it has been logged."
        error.extensions = {"code": "INTERNAL", "errorId": error_id}


class ErrorCodes(SchemaExtension):
    """Give each error of a result its code, after the operation ran (or failed before running)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            classify(error)
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        response = getattr(self.execution_context.context, "response", None)
        if (
            result.data is None
            and response is not None
            and len(codes) == 1
            and codes <= {"UNAVAILABLE", "RATE_LIMITED"}
        ):
            # The whole request failed for a reason that passes: say when to retry.
            extensions = result.errors[0].extensions or {}
            response.status_code = status_of(str(extensions["code"]))
            for name, value in retry_headers(extensions).items():
                response.headers[name] = value
