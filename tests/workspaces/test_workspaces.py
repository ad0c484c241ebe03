from __future__ import annotations

CREATE = "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id slug name createdAt } }"


async def test_a_workspace_is_found_by_id_and_by_slug(gql, workspace):
    by_id = await gql.data("query($id: ID!) { workspace(id: $id) { id slug name } }", id=workspace["id"])
    by_slug = await gql.data('{ workspace(id: "acme") { id slug name } }')
    assert by_id["workspace"] == by_slug["workspace"] == workspace
    listed = await gql.data("{ workspaces { slug } }")
    assert listed["workspaces"] == [{"slug": "acme"}]


async def test_a_taken_slug_is_a_conflict(gql, workspace):
    error = await gql.error(CREATE, input={"name": "Other", "slug": "acme"})
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["field"] == "slug"


async def test_bad_names_and_slugs_are_refused_with_every_problem(gql):
    error = await gql.error(CREATE, input={"name": " ", "slug": "Not A Slug"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [p["field"] for p in error["extensions"]["problems"]] == ["name", "slug"]
    uuid_like = await gql.error(CREATE, input={"name": "x", "slug": "3ef24f8a-e297-42c4-9756-18120beeec5e"})
    assert uuid_like["extensions"]["field"] == "slug"


async def test_an_unknown_workspace_is_not_found(gql):
    error = await gql.error('{ workspace(id: "nobody") { id } }')
    assert error["extensions"]["code"] == "NOT_FOUND"
