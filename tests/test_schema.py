from __future__ import annotations

from pathlib import Path

from service.graphql import schema_sdl


def test_schema_graphql_is_the_schema_the_code_builds():
    committed = (Path(__file__).parent.parent / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `make schema`"
