"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked and logged with an id.

Codes: the modules' own (modules/core/errors.py); UNAVAILABLE (retryable, HTTP 503 when the whole request
failed) when Postgres cannot be reached; and for errors graphql-core raises before any resolver runs:
GRAPHQL_PARSE_FAILED (not GraphQL), BAD_USER_INPUT (an argument or variable of the wrong type or value),
GRAPHQL_VALIDATION_FAILED (the query asks for what the schema does not have, or more than the limits allow).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import asyncpg
from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import SchemaExtension

from modules.core.errors import LlmUsageError

log = logging.getLogger("llm_usage.errors")

INPUT_ERROR_MARKERS = (
    "Variable '$",
    "Expected value of type",
    "cannot represent",
    "of required type",
    "is not defined by type",
    "Expected type",
)


def database_unreachable(error: BaseException | None) -> bool:
    """A failure to reach Postgres (refused, reset, timed out, shutting down), not a bug in a query."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(
        error,
        (
            OSError,
            TimeoutError,
            asyncpg.PostgresConnectionError,
            asyncpg.CannotConnectNowError,
            asyncpg.AdminShutdownError,
            asyncpg.ConnectionDoesNotExistError,
        ),
    ):
        return True
    cause = getattr(error, "orig", None) or (error.__cause__ if error else None)
    return cause is not None and cause is not error and database_unreachable(cause)


def classify(error: GraphQLError) -> GraphQLError:
    if isinstance(error.original_error, LlmUsageError) or "code" in (error.extensions or {}):
        return error
    if database_unreachable(error.original_error):
        log.warning("database unreachable at %s: %r", ".".join(map(str, error.path or [])), error.original_error)
        return GraphQLError(
            message="The database is unreachable; nothing was written. Retry later.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "UNAVAILABLE", "retryable": True},
        )
    if error.path is None:
        if isinstance(error, GraphQLSyntaxError):
            code = "GRAPHQL_PARSE_FAILED"
        elif any(marker in error.message for marker in INPUT_ERROR_MARKERS):
            code = "BAD_USER_INPUT"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        error.extensions = {**(error.extensions or {}), "code": code}
        return error
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s at %s", error_id, ".".join(map(str, error.path)), exc_info=error.original_error)
    return GraphQLError(
        message=f"Unexpected error (id {error_id}); it has been logged.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "errorId": error_id},
    )


class ErrorCodes(SchemaExtension):
    """Give each error of a result its code, after the operation ran."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [classify(error) for error in result.errors]
            codes = {error.extensions.get("code") for error in result.errors}
            response = getattr(self.execution_context.context, "response", None)
            if result.data is None and response is not None and codes in ({"UNAVAILABLE"}, {"RATE_LIMITED"}):
                response.status_code = 503 if codes == {"UNAVAILABLE"} else 429  # whole request failed: retry
