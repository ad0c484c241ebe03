"""graphql-core's coercion of variables, compiled once per input type.

graphql-core coerces a variable by walking its type for every value (`coerce_input_value`: is it non-null, a
list, an input object; every field of the object looked up, defaulted, recursed into), after walking it once
more to see whether it nests too deeply (`input_is_nested_too_deeply`). For a batch of 1,000 events that is
~24 µs an event, the largest part of what GraphQL costs a batch. Here each input type becomes a tree of closures
made once (its field names, out names, required flags and leaf parsers looked up at that time) that gives the
same value, or `Undefined` where graphql-core's would; the depth walk is skipped for types that cannot nest
deeper than graphql-core's limit (no input type that contains itself).

Only the successful case is taken here: when a variable is missing (defaults), its type unknown, its value too
deep, or it does not coerce, graphql-core's own `get_variable_values` runs instead, so every error and default
is graphql-core's. It replaces the name `get_variable_values` in graphql-core's executor module
(`install`, called once by service/graphql.py): graphql-core has no hook for it. Written so it could be offered
upstream as a cache inside `coerce_input_value`. tests/test_variable_coercion.py holds both to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    VariableDefinitionNode,
    get_named_type,
    is_leaf_type,
    is_required_input_field,
)
from graphql.execution import executor as graphql_executor
from graphql.execution import values as graphql_values
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import Undefined, is_iterable
from graphql.utilities.coerce_input_value import coerce_default_value

Coercer = Callable[[Any], Any]  # a value → its coerced value, or Undefined

GENERIC_GET_VARIABLE_VALUES = graphql_values.get_variable_values
# Kept for the process's life: a few entries per schema built (one in a server; the tests build many, each small).
COERCERS: dict[GraphQLNamedType, dict[str, Coercer]] = {}
DEPTHS: dict[GraphQLNamedType, int | None] = {}


def coercer(type_: GraphQLInputType) -> Coercer:
    """The compiled coercion of `type_` (its wrappers included), made once."""
    named = get_named_type(type_)
    by_wrapping = COERCERS.setdefault(named, {})
    key = str(type_)
    if key not in by_wrapping:
        by_wrapping[key] = compile_coercer(type_)  # an input object's fields are compiled at its first value
    return by_wrapping[key]


def compile_coercer(type_: GraphQLInputType) -> Coercer:
    if isinstance(type_, GraphQLNonNull):
        inner = coercer(type_.of_type)

        def non_null(value: Any) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value)

        return non_null
    if isinstance(type_, GraphQLList):
        return list_coercer(coercer(type_.of_type))
    if isinstance(type_, GraphQLInputObjectType):
        return object_coercer(type_)
    if not is_leaf_type(type_):
        raise TypeError(f"not an input type: {type_}")
    parse = type_.coerce_input_value

    def leaf(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        try:
            return parse(value)
        except Exception:  # graphql-core's: any error of the parser is an invalid value
            return Undefined

    return leaf


def list_coercer(item: Coercer) -> Coercer:
    def coerce_list(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if type(value) is not list and not is_iterable(value):
            one = item(value)  # a non-list value is a list of one
            return Undefined if one is Undefined else [one]
        coerced = []
        for each in value:
            one = item(each)
            if one is Undefined:
                return Undefined
            coerced.append(one)
        return coerced

    return coerce_list


class FieldPlan:
    __slots__ = ("coerce", "field", "has_default", "name", "out_name", "required")

    def __init__(self, name: str, field: Any) -> None:
        self.name = name
        self.out_name = field.out_name or name
        self.field = field
        self.required = is_required_input_field(field)
        self.has_default = field.default is not None or field.default_value is not Undefined
        self.coerce = coercer(field.type)


def object_coercer(type_: GraphQLInputObjectType) -> Coercer:
    plans: list[FieldPlan] = []  # filled at the first value: a type may contain itself
    out_type = type_.out_type

    def coerce_object(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if not isinstance(value, dict):
            return Undefined
        fields = type_.fields
        if not plans:
            plans.extend(FieldPlan(name, field) for name, field in fields.items())
        defined = 0
        for name, given in value.items():
            if given is Undefined:
                continue
            defined += 1
            if name not in fields:
                return Undefined
        coerced: dict[str, Any] = {}
        for plan in plans:
            given = value.get(plan.name, Undefined)
            if given is Undefined:
                if plan.required:
                    return Undefined
                if plan.has_default:
                    default = coerce_default_value(plan.field)
                    if default is not Undefined:
                        coerced[plan.out_name] = default
                continue
            one = plan.coerce(given)
            if one is Undefined:
                return Undefined
            coerced[plan.out_name] = one
        if type_.is_one_of:
            keys = list(coerced)
            if defined != 1 or len(keys) != 1 or coerced[keys[0]] is None:
                return Undefined
        return out_type(coerced)

    return coerce_object


def nesting_depth(type_: GraphQLInputType) -> int | None:
    """The deepest nesting graphql-core's depth walk counts in a value of `type_` (lists and input objects),
    None when unbounded (an input type that contains itself)."""
    if isinstance(type_, GraphQLNonNull):
        return nesting_depth(type_.of_type)
    if isinstance(type_, GraphQLList):
        inner = nesting_depth(type_.of_type)
        return None if inner is None else inner + 1
    if not isinstance(type_, GraphQLInputObjectType):
        return 0
    if type_ in DEPTHS:
        return DEPTHS[type_]
    DEPTHS[type_] = None  # seen while its own fields are walked: it contains itself
    depths = [nesting_depth(field.type) for field in type_.fields.values()]
    DEPTHS[type_] = None if None in depths else 1 + max((d for d in depths if d is not None), default=0)
    return DEPTHS[type_]


def may_nest_too_deeply(type_: GraphQLInputType) -> bool:
    depth = nesting_depth(type_)
    return depth is None or depth > MAX_NESTING_DEPTH


def get_variable_values(
    schema: GraphQLSchema,
    var_def_nodes: Collection[VariableDefinitionNode],
    inputs: dict[str, Any],
    max_errors: int | None = None,
    hide_suggestions: bool = False,
) -> Any:
    """graphql-core's `get_variable_values`: the compiled coercion when every variable is given and coerces,
    else graphql-core's own (defaults, errors, values nested too deeply)."""
    compiled = compiled_variable_values(schema, var_def_nodes, inputs)
    if compiled is None:
        return GENERIC_GET_VARIABLE_VALUES(schema, var_def_nodes, inputs, max_errors, hide_suggestions)
    return compiled


def compiled_variable_values(
    schema: GraphQLSchema, var_def_nodes: Collection[VariableDefinitionNode], inputs: dict[str, Any]
) -> graphql_values.VariableValues | None:
    """The variables coerced by their compiled coercers; None when one is not given (its default is graphql-core's
    to apply), its type unknown, its value nested too deeply or not valid: all of those are graphql-core's."""
    sources: dict[str, graphql_values.VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for node in var_def_nodes:
        signature = get_variable_signature(schema, node)
        if isinstance(signature, GraphQLError):
            return None
        value = inputs.get(signature.name, Undefined)
        if value is Undefined or (
            may_nest_too_deeply(signature.type) and graphql_values.input_is_nested_too_deeply(value, signature.type)
        ):
            return None
        try:
            one = coercer(signature.type)(value)
        except RecursionError:  # a deep value of a deep type: graphql-core's own answer for it
            return None
        if one is Undefined:
            return None
        sources[signature.name] = graphql_values.VariableValueSource(signature, value)
        coerced[signature.name] = one
    return graphql_values.VariableValues(sources, coerced)


def install() -> None:
    """The executor's variables coerced here (once per process; idempotent)."""
    graphql_executor.get_variable_values = get_variable_values  # type: ignore[attr-defined]
