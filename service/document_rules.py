"""The cheap checks a document passes before graphql-core's own validation runs: depth, aliases, literal page
sizes and literal text, each in time linear in the document.

strawberry's depth and alias limiters walk a fragment once per spread, so 22 levels of
`fragment Fn on Query { ...Fn+1 ...Fn+1 }` (876 bytes) took 2^22 steps. Here each fragment is measured once
and its measure reused at every spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    ValuesOfCorrectTypeRule,
)

from modules.core.text import text_problem


@dataclass(frozen=True)
class Measure:
    """Of a selection set: its depth (a field with sub-selections adds one, as strawberry counts) and its
    aliases, fragments expanded. Both saturate just past their limit: the numbers stay small."""

    depth: int
    aliases: int


class ShapeMeter:
    def __init__(self, document: DocumentNode, max_depth: int, max_aliases: int) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.measured: dict[str, Measure] = {}
        self.in_progress: set[str] = set()

    def fragment(self, name: str) -> Measure:
        """Measured once; a cycle (refused by graphql-core's own rule) counts as empty here."""
        found = self.measured.get(name)
        if found is not None:
            return found
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return Measure(0, 0)
        self.in_progress.add(name)
        measure = self.selection_set(definition.selection_set)
        self.in_progress.discard(name)
        self.measured[name] = measure
        return measure

    def selection_set(self, selection_set: SelectionSetNode | None) -> Measure:
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                aliases += 1 if selection.alias else 0
                if selection.selection_set is None or selection.name.value.startswith("__"):
                    continue
                inner = self.selection_set(selection.selection_set)
                depth, aliases = max(depth, inner.depth + 1), aliases + inner.aliases
            else:
                inner = (
                    self.fragment(selection.name.value)
                    if isinstance(selection, FragmentSpreadNode)
                    else self.selection_set(selection.selection_set)
                    if isinstance(selection, InlineFragmentNode)
                    else Measure(0, 0)
                )
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
            if depth > self.max_depth or aliases > self.max_aliases:
                break  # already too much: the rest cannot make it acceptable
        return Measure(min(depth, self.max_depth + 1), min(aliases, self.max_aliases + 1))


def shape_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A rule refusing operations deeper than `max_depth` or with more than `max_aliases` aliases in all."""

    class ShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            meter = ShapeMeter(context.document, max_depth, max_aliases)
            aliases = 0
            for definition in context.document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                measure = meter.selection_set(definition.selection_set)
                aliases += measure.aliases
                if measure.depth > max_depth:
                    name = definition.name.value if definition.name else "anonymous"
                    self.report_error(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", definition)
                    )
            if aliases > max_aliases:
                self.report_error(GraphQLError(f"more than {max_aliases} aliases found. Allowed: {max_aliases}"))

    return ShapeRule


def page_size_rule(caps: dict[str, int]) -> type[ValidationRule]:
    """A literal page size above its cap is refused before execution (variables are checked by services)."""

    class PageSizeRule(ValidationRule):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            cap = caps.get(node.name.value)
            if cap is not None and isinstance(node.value, IntValueNode) and int(node.value.value) > cap:
                self.report_error(GraphQLError(f"{node.name.value} may be at most {cap}", node))

    return PageSizeRule


class TextLiteralRule(ValidationRule):
    """String literals PostgreSQL could not store (NUL, lone surrogates) are refused, naming the argument and
    the input fields around them (`filter.userId`)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.path: list[str] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, *_: Any) -> None:
        self.path.pop()

    leave_object_field = leave_argument

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        problem = text_problem(node.value)
        if problem is not None:
            field = ".".join(self.path) or "document"
            self.report_error(
                GraphQLError(
                    f"{field}: {problem}",
                    node,
                    extensions={"code": "BAD_USER_INPUT", "field": field, "reason": problem},
                )
            )


def coded(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """`rule` whose errors carry `code`: graphql-core's errors are told apart by the rule that found them,
    never by their wording."""

    # mypy takes no base class known only at run time (a variable): the subclass is typed through the return.
    class Coded(rule):  # type: ignore[misc, valid-type]
        def report_error(self, error: GraphQLError) -> None:
            error.extensions = {**(error.extensions or {}), "code": code}
            super().report_error(error)

    Coded.__name__ = rule.__name__
    return Coded


# A literal argument of the wrong type or value is the caller's input, not the shape of the query.
INPUT_RULES: dict[type[ASTValidationRule], type[ASTValidationRule]] = {
    ValuesOfCorrectTypeRule: coded(ValuesOfCorrectTypeRule, "BAD_USER_INPUT")
}
