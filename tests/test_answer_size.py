"""An answer's size is estimated from the document and its variables before anything runs: 15 aliases of
`sessions { events }` are refused naming the estimate (it built 466 MB in 131 s); what dashboards ask passes;
an answer that still comes out too big is replaced by an error."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import get_operation_ast, parse

import service.app
from service.answer_size import AnswerMeter
from service.graphql import build_schema
from service.limits import MAX_ANSWER_VALUES

SESSIONS = 's{n}: sessions(filter: {{workspaceId: "acme"}}, first: 20) {{ edges {{ node {{ events {{ id }} }} }} }}'


def estimate(document: str, variables: dict | None = None) -> int:
    schema = build_schema()._schema
    parsed = parse(document)
    operation = get_operation_ast(parsed)
    assert operation is not None
    root = schema.get_root_type(operation.operation)
    assert root is not None
    return AnswerMeter(schema, parsed, variables).selection_set(operation.selection_set, root, None)


async def test_aliased_sessions_with_their_events_are_refused_before_running(gql, workspace):
    document = "{ " + " ".join(SESSIONS.format(n=n) for n in range(15)) + " }"
    error = await gql.error(document)
    # each alias: 1 + 20 edges x (1 + node (1 + 1,000 events x (1 + id)))
    assert error["extensions"] | {"requestId": None} == {
        "code": "ANSWER_TOO_LARGE",
        "estimate": 15 * (1 + 20 * (1 + 1 + 1000 * 2)),
        "budget": 500_000,
        "requestId": None,
    }
    assert "path" not in error  # refused before any resolver ran


async def test_a_page_size_given_by_a_variable_counts(gql, workspace):
    document = (
        'query($n: Int!) { usageEvents(filter: {workspaceId: "acme"}, first: $n) { edges { node { id model } } } }'
    )
    assert "errors" not in await gql.execute(document, n=5)
    error = await gql.error(document, n=200_000)  # refused before the resolver's own page check
    assert error["extensions"]["code"] == "ANSWER_TOO_LARGE"
    assert error["extensions"]["estimate"] == 1 + 200_000 * (1 + 1 + 2)


def test_every_query_of_the_readme_fits_the_budget():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    blocks = re.findall(r"```graphql\n(.*?)```", readme, re.S)
    documents = [d for block in blocks for d in re.split(r"\n(?=(?:query|mutation|subscription)\b)", block)]
    measured = [estimate(d) for d in documents if d.strip().startswith(("query", "{"))]
    assert len(measured) >= 8
    assert max(measured) <= MAX_ANSWER_VALUES / 2, measured  # the largest, a day series by model: 90,001


async def test_an_answer_over_the_byte_cap_is_replaced_by_an_error(gql, workspace, monkeypatch):
    monkeypatch.setattr(service.app, "MAX_ANSWER_BYTES", 100)
    result = await gql.execute("{ workspaces { id slug name } serverInfo { version catalogueVersion } }")
    assert result["errors"][0]["extensions"]["code"] == "ANSWER_TOO_LARGE"
    assert result["errors"][0]["extensions"]["budget"] == 100
