"""How many values an answer may hold, estimated from the document, its variables and the schema before
anything runs; a request whose estimate is over the budget is refused (15 aliases of `sessions { events }`
built a 466 MB answer in 131 s).

Each selected field counts one value; a list multiplies what it holds by its bound: its page size (`first`,
`limit`, `recentEvents`, given or defaulted; a page size on a field that is not itself a list, like a
connection, bounds the lists inside it), a known bound for lists the service caps itself, else
DEFAULT_LIST_BOUND. Fragments are measured once per page size, so the estimate is linear in the document.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)

PAGE_ARGUMENTS = ("first", "limit", "recentEvents")
DEFAULT_LIST_BOUND = 100
# Lists the service bounds itself (modules/usage: sessions, time series).
LIST_BOUNDS = {
    ("Session", "events"): 1000,
    ("UsageTimeSeries", "buckets"): 2000,
    ("UsageBucket", "groups"): 10,  # a series holds at most 20,000 bucket groups: 2,000 buckets x 10
    ("UsageDimensionGroup", "dimensions"): 4,  # a groupBy names at most 4 dimensions
    # A call's stored content is bounded in bytes (256 KiB), not in messages: typical sizes, not caps; the
    # answer's byte limit (MAX_ANSWER_BYTES) bounds what a long conversation adds.
    ("UsageSeriesColumns", "starts"): 2000,
    ("UsageSeriesColumns", "groups"): 10,  # as a bucket's groups: 20,000 values a metric
    ("UsageSeriesGroup", "dimensions"): 4,
    ("Conversation", "messages"): 20,
    ("ConversationMessage", "toolCalls"): 2,
    ("ConversationMessage", "omittedParts"): 2,
}
# Types whose every field is a list of scalars of a known bound (a time series' columns: one value a bucket).
SCALAR_LIST_TYPES = {"UsageMetricColumns": 2000}


class AnswerMeter:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables or {}
        self.measured: dict[tuple[str, int | None], int] = {}
        self.in_progress: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, inner or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key in self.measured:
            return self.measured[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return 0
        condition = self.schema.get_type(definition.type_condition.name.value)
        if condition is None:
            return 0
        self.in_progress.add(name)
        self.measured[key] = self.selection_set(definition.selection_set, condition, page)
        self.in_progress.discard(name)
        return self.measured[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        """`page`: the page size of the field holding this one (a connection's `first` bounds its `edges`)."""
        definition = parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        if definition is None:
            return 1
        if node.selection_set is None:  # a scalar, or a list of them: as many as its bound, when one is known
            bound = SCALAR_LIST_TYPES.get(parent.name) or LIST_BOUNDS.get((parent.name, node.name.value))
            return bound if bound is not None and is_list(definition) else 1
        named = get_named_type(definition.type)
        own_page = self.page_size(node, definition)
        if not is_list(definition):
            return 1 + self.selection_set(node.selection_set, named, own_page)
        bound = next(
            (b for b in (own_page, page, LIST_BOUNDS.get((parent.name, node.name.value))) if b is not None),
            DEFAULT_LIST_BOUND,
        )
        return bound * (1 + self.selection_set(node.selection_set, named, None))

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in PAGE_ARGUMENTS:
            if name not in definition.args:
                continue
            value = given.get(name)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = self.variables.get(value.name.value)
                if isinstance(found, int) and not isinstance(found, bool):
                    return found
            default = definition.args[name].default_value
            return default if isinstance(default, int) else None
        return None


def is_list(definition: GraphQLField) -> bool:
    kind = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
    return isinstance(kind, GraphQLList)


def answer_size_error(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    budget: int,
) -> GraphQLError | None:
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return None
    estimate = AnswerMeter(schema, document, variables).selection_set(operation.selection_set, root, None)
    if estimate <= budget:
        return None
    return GraphQLError(
        f"this operation may answer with up to {estimate:,} values; at most {budget:,} are allowed: ask for "
        "smaller pages (first, limit), fewer aliases or fewer fields",
        extensions={"code": "ANSWER_TOO_LARGE", "estimate": estimate, "budget": budget},
    )
