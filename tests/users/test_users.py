from __future__ import annotations

UPSERT = "mutation($input: UpsertUserInput!) { upsertUser(input: $input) { id workspaceId displayName email } }"
PAGE = """query($after: String) { users(workspaceId: "acme", first: 2, after: $after) {
  totalCount edges { cursor node { id displayName } } pageInfo { hasNextPage endCursor } } }"""


async def test_a_user_is_named_then_renamed(gql, workspace):
    first = await gql.data(UPSERT, input={"workspaceId": "acme", "userId": "u-1", "displayName": "Ada"})
    assert first["upsertUser"] == {"id": "u-1", "workspaceId": workspace["id"], "displayName": "Ada", "email": None}
    again = await gql.data(UPSERT, input={"workspaceId": "acme", "userId": "u-1", "email": "ada@example.com"})
    assert again["upsertUser"]["email"] == "ada@example.com"
    assert again["upsertUser"]["displayName"] is None


async def test_users_are_listed_in_pages(gql, workspace):
    for user in ("c", "a", "e", "b", "d"):
        await gql.data(UPSERT, input={"workspaceId": "acme", "userId": user, "displayName": user.upper()})
    names, after = [], None
    while True:
        page = (await gql.data(PAGE, after=after))["users"]
        assert page["totalCount"] == 5
        names += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == ["a", "b", "c", "d", "e"]


async def test_bad_user_fields_are_refused(gql, workspace):
    error = await gql.error(UPSERT, input={"workspaceId": "acme", "userId": "", "email": "not-an-address"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [p["field"] for p in error["extensions"]["problems"]] == ["userId", "email"]
