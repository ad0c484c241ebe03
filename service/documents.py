"""How a request's document is parsed and validated: cached, the cheap rules before graphql-core's own, the
variables last, and every failure left to strawberry to report as the result's errors (with their codes).

strawberry's ParserCache raises a syntax error from inside its hook, past strawberry's own error handling,
so the error reached the caller without a code; here a document that does not parse is left to strawberry,
which parses it again and reports it properly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache, partial

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, SchemaExtension

from service.answer_size import answer_size_error
from service.document_rules import INPUT_RULES, TextLiteralRule, page_size_rule, shape_rule
from service.limits import (
    DOCUMENT_CACHE_SIZE,
    MAX_ALIASES,
    MAX_ANSWER_VALUES,
    MAX_DEPTH,
    MAX_NESTING,
    MAX_TOKENS,
    PAGE_ARGUMENTS,
)
from service.variable_checks import variable_error

CHEAP_RULES = (shape_rule(MAX_DEPTH, MAX_ALIASES), page_size_rule(PAGE_ARGUMENTS), TextLiteralRule)


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def parsed(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def document_errors(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The cheap rules first, each linear in the document; graphql-core's own rules only for a document that
    passes them. Cached per parsed document."""
    return validate(schema, document, CHEAP_RULES) or validate(schema, document, rules)


class ParsedDocuments(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            with contextlib.suppress(GraphQLError):  # strawberry parses it again and reports the error
                context.graphql_document = parsed(context.query, context.parse_options.get("max_tokens"))
        yield


class DocumentValidation(SchemaExtension):
    """Validates the document (cached), then the variables and the answer's estimated size (every request); whether
    the variables coerce is graphql-core's to find at execution (service/variable_diagnosis.py), except before
    refusing an answer as too large."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        schema = context.schema._schema
        rules = tuple(INPUT_RULES.get(rule, rule) for rule in context.validation_rules)
        errors = document_errors(schema, context.graphql_document, rules)
        if not errors:
            document, name, variables = context.graphql_document, context.operation_name, context.variables
            refused = variable_error(schema, document, name, variables, max_depth=MAX_NESTING)
            if refused is None and (
                too_large := answer_size_error(schema, document, name, variables, budget=MAX_ANSWER_VALUES)
            ):
                # estimated from the variables as given: one that does not coerce (a limit past Int) is named instead
                refused = (
                    variable_error(schema, document, name, variables, max_depth=MAX_NESTING, coerce=True) or too_large
                )
            errors = [refused] if refused else []
        context.pre_execution_errors = list(errors)
        yield


def query_protection(*, production: bool) -> list[Callable[[], SchemaExtension]]:
    """Extension factories (strawberry builds one of each per request)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        ParsedDocuments,
    ]
    if production:
        extensions.append(DisableIntrospection)  # adds its rule to the operation's rules, read below
    extensions.append(DocumentValidation)
    return extensions
