"""The executor that explains a failed coercion of the variables: graphql-core coerces them once, at execution,
and when it refuses them (one sentence for the whole variable), the refusal is replaced by the problems of
`variable_error`, each naming its field and batch index. Coercing them again only when they failed keeps the
hot path (a batch of 1,000 events) to one coercion."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.execution import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from service.limits import MAX_NESTING
from service.variable_checks import variable_error


class VariableDiagnosis(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> list[GraphQLError] | Executor[Any]:
        built = super().build(
            schema, document, root_value, context_value, raw_variable_values, operation_name, *args, **kwargs
        )
        if not isinstance(built, list):
            return built
        refused = variable_error(
            schema, document, operation_name, raw_variable_values, max_depth=MAX_NESTING, coerce=True
        )
        return [refused] if refused else built
