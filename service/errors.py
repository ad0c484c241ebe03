"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked and logged with an id.

Codes: the modules' own (modules/core/errors.py), plus for errors graphql-core raises before any resolver
runs: GRAPHQL_PARSE_FAILED (not GraphQL), BAD_USER_INPUT (an argument or variable of the wrong type or
value), GRAPHQL_VALIDATION_FAILED (the query asks for what the schema does not have).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
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


def classify(error: GraphQLError) -> GraphQLError:
    if isinstance(error.original_error, LlmUsageError) or "code" in (error.extensions or {}):
        return error
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
