"""Every query and mutation by every kind of caller by own and other workspace: the exact answer of each cell.

The table of operations must name every root field of the schema, so a new field cannot escape it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from modules.access.keys import new_key
from modules.core.principal import Scope
from service.graphql import build_schema
from tests.conftest import create_key

ANY = "any authenticated caller"
INGEST_OR_READ = "an INGEST or READ key"
INSTANCE = "an instance ADMIN key"


@dataclass(frozen=True)
class Operation:
    needs: Scope | str
    document: Callable[[str, dict[str, str]], str]  # (target workspace slug, ids) → GraphQL document
    targeted: bool = True  # False: the operation names no workspace, so own and other are the same call
    fresh: bool = False  # True: each cell gets new target ids (the operation consumes its target)


def unique() -> str:
    return uuid.uuid4().hex[:8]


TRACK = 'workspaceId: "{w}", provider: "openai", model: "gpt-4o", promptTokens: 10, completionTokens: 1'
OPERATIONS: dict[str, Operation] = {
    # queries
    "usageAnalytics": Operation(
        Scope.READ, lambda w, _: f'{{ usageAnalytics(filter: {{workspaceId: "{w}"}}) {{ totals {{ calls }} }} }}'
    ),
    "usageEvents": Operation(
        Scope.READ,
        lambda w, _: f'{{ usageEvents(filter: {{workspaceId: "{w}"}}) {{ totalCount edges {{ cursor }} }} }}',
    ),
    "usage": Operation(
        Scope.READ,
        lambda w, _: (
            f'{{ usage(filter: {{workspaceId: "{w}"}}, groupBy: [MODEL]) {{ groups {{ dimensions {{ value }} }} }} }}'
        ),
    ),
    "usageTimeSeries": Operation(
        Scope.READ,
        lambda w, _: f'{{ usageTimeSeries(filter: {{workspaceId: "{w}"}}, interval: DAY) {{ buckets {{ start }} }} }}',
    ),
    "topUsers": Operation(Scope.READ, lambda w, _: f'{{ topUsers(filter: {{workspaceId: "{w}"}}) {{ userId }} }}'),
    "user": Operation(Scope.READ, lambda w, _: f'{{ user(workspaceId: "{w}", userId: "u") {{ userId }} }}'),
    "sessions": Operation(
        Scope.READ, lambda w, _: f'{{ sessions(filter: {{workspaceId: "{w}"}}) {{ edges {{ node {{ id }} }} }} }}'
    ),
    "session": Operation(
        Scope.READ, lambda w, _: f'{{ session(workspaceId: "{w}", id: "s") {{ id events {{ id }} }} }}'
    ),
    "sessionStats": Operation(
        Scope.READ, lambda w, _: f'{{ sessionStats(filter: {{workspaceId: "{w}"}}) {{ sessions }} }}'
    ),
    "completeSession": Operation(
        Scope.INGEST, lambda w, _: f'mutation {{ completeSession(workspaceId: "{w}", id: "s") {{ status }} }}'
    ),
    "exportUrl": Operation(Scope.READ, lambda w, _: f'{{ exportUrl(filter: {{workspaceId: "{w}"}}) }}'),
    "unpricedModels": Operation(
        Scope.READ, lambda w, _: f'{{ unpricedModels(filter: {{workspaceId: "{w}"}}) {{ model }} }}'
    ),
    "workspace": Operation(Scope.READ, lambda w, _: f'{{ workspace(id: "{w}") {{ slug }} }}'),
    "workspaces": Operation(Scope.READ, lambda w, _: "{ workspaces { slug } }", targeted=False),
    "users": Operation(
        Scope.READ, lambda w, _: f'{{ users(workspaceId: "{w}") {{ totalCount edges {{ node {{ id }} }} }} }}'
    ),
    "modelPrices": Operation(Scope.READ, lambda w, _: f'{{ modelPrices(workspaceId: "{w}") {{ id }} }}'),
    "providerInstances": Operation(Scope.READ, lambda w, _: f'{{ providerInstances(workspaceId: "{w}") {{ id }} }}'),
    "modelPrice": Operation(
        Scope.READ,
        lambda w, _: f'{{ modelPrice(workspaceId: "{w}", provider: "openai", model: "gpt-4o") {{ source }} }}',
    ),
    "apiKeys": Operation(Scope.ADMIN, lambda w, _: f'{{ apiKeys(workspaceId: "{w}") {{ prefix }} }}'),
    "providers": Operation(ANY, lambda w, _: "{ providers { id } }", targeted=False),
    "models": Operation(ANY, lambda w, _: '{ models(provider: "openai", search: "4o") { id } }', targeted=False),
    "viewer": Operation(ANY, lambda w, _: "{ viewer { scopes } }", targeted=False),
    "serverInfo": Operation(ANY, lambda w, _: "{ serverInfo { version catalogueVersion } }", targeted=False),
    "budgets": Operation(
        Scope.READ, lambda w, _: f'{{ budgets(workspaceId: "{w}") {{ id spentUsd alerts {{ id }} }} }}'
    ),
    "budget": Operation(Scope.READ, lambda w, ids: f'{{ budget(id: "{ids["budget:" + w]}") {{ id percentUsed }} }}'),
    "contentSettings": Operation(Scope.READ, lambda w, _: f'{{ contentSettings(workspaceId: "{w}") {{ enabled }} }}'),
    "contentReads": Operation(
        Scope.ADMIN, lambda w, _: f'{{ contentReads(workspaceId: "{w}") {{ edges {{ cursor }} }} }}'
    ),
    "setContentSettings": Operation(
        Scope.ADMIN,
        lambda w, _: f'mutation {{ setContentSettings(input: {{workspaceId: "{w}", enabled: false}}) {{ enabled }} }}',
    ),
    "budgetStatus": Operation(
        INGEST_OR_READ, lambda w, _: f'{{ budgetStatus(workspaceId: "{w}", userId: "u") {{ exceeded }} }}'
    ),
    "webhookDeliveries": Operation(
        Scope.READ, lambda w, ids: f'{{ webhookDeliveries(budgetId: "{ids["budget:" + w]}") {{ id }} }}'
    ),
    # mutations
    "createBudget": Operation(
        Scope.ADMIN,
        lambda w, _: (
            f'mutation {{ createBudget(input: {{workspaceId: "{w}", name: "{unique()}", limitUsd: "5"}}) {{ webhookSecret }} }}'
        ),
    ),
    "updateBudget": Operation(
        Scope.ADMIN,
        lambda w, ids: f'mutation {{ updateBudget(id: "{ids["budget:" + w]}", input: {{paused: true}}) {{ paused }} }}',
    ),
    "rotateBudgetSecret": Operation(
        Scope.ADMIN,
        lambda w, ids: f'mutation {{ rotateBudgetSecret(id: "{ids["budget:" + w]}") {{ webhookSecret }} }}',
    ),
    "deleteBudget": Operation(
        Scope.ADMIN, lambda w, ids: f'mutation {{ deleteBudget(id: "{ids["budget:" + w]}") }}', fresh=True
    ),
    "trackUsage": Operation(
        Scope.INGEST, lambda w, _: f"mutation {{ trackUsage(input: {{{TRACK.format(w=w)}}}) {{ duplicate }} }}"
    ),
    "trackUsageBatch": Operation(
        Scope.INGEST,
        lambda w, _: f"mutation {{ trackUsageBatch(inputs: [{{{TRACK.format(w=w)}}}]) {{ insertedCount }} }}",
    ),
    "recostUsage": Operation(
        Scope.ADMIN, lambda w, _: f'mutation {{ recostUsage(filter: {{workspaceId: "{w}"}}) {{ changed }} }}'
    ),
    "createWorkspace": Operation(
        INSTANCE,
        lambda w, _: f'mutation {{ createWorkspace(input: {{name: "n", slug: "s-{unique()}"}}) {{ id }} }}',
        targeted=False,
    ),
    "upsertUser": Operation(
        Scope.ADMIN, lambda w, _: f'mutation {{ upsertUser(input: {{workspaceId: "{w}", userId: "u"}}) {{ id }} }}'
    ),
    "setModelPrice": Operation(
        Scope.ADMIN,
        lambda w, _: (
            f'mutation {{ setModelPrice(input: {{workspaceId: "{w}", provider: "openai", model: "m", inputPerMillion: "1", outputPerMillion: "1"}}) {{ id }} }}'
        ),
    ),
    "createProviderInstance": Operation(
        Scope.ADMIN,
        lambda w, _: (
            f'mutation {{ createProviderInstance(input: {{workspaceId: "{w}", provider: "openai", name: "{unique()}"}}) {{ id }} }}'
        ),
    ),
    "createApiKey": Operation(
        Scope.ADMIN,
        lambda w, _: (
            f'mutation {{ createApiKey(input: {{workspaceId: "{w}", name: "k", scopes: [READ]}}) {{ secret }} }}'
        ),
    ),
    "revokeApiKey": Operation(
        Scope.ADMIN, lambda w, ids: f'mutation {{ revokeApiKey(id: "{ids[w]}") {{ revokedAt }} }}'
    ),
}

CALLERS = ["no key", "malformed key", "unknown key", "revoked key", "INGEST", "READ", "ADMIN", "instance ADMIN"]
UNAUTHENTICATED_CALLERS = CALLERS[:4]


def expected(operation: Operation, caller: str, target: str) -> str | None:
    """The error code of a cell, None when the call must succeed."""
    if caller in UNAUTHENTICATED_CALLERS:
        return "UNAUTHENTICATED"
    if caller == "instance ADMIN" or operation.needs == ANY:
        return None
    if operation.needs == INSTANCE:
        return "FORBIDDEN"
    scope = Scope(caller)
    allowed = scope in (Scope.ADMIN, operation.needs) or (
        operation.needs == INGEST_OR_READ and scope in (Scope.INGEST, Scope.READ)
    )
    own = target == "acme" or not operation.targeted
    return None if allowed and own else "FORBIDDEN"


def test_the_table_names_every_root_field_of_the_schema():
    schema = build_schema()._schema
    fields = {*schema.query_type.fields, *schema.mutation_type.fields}
    assert set(OPERATIONS) == fields


@pytest.fixture
async def callers(gql, container) -> dict[str, str | None]:
    """Header value of each caller; workspace keys belong to acme. beta is the other workspace."""
    await gql.data('mutation { createWorkspace(input: {name: "Acme", slug: "acme"}) { id } }')
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    for slug in ("acme", "beta"):
        await gql.data(f'mutation {{ upsertUser(input: {{workspaceId: "{slug}", userId: "u"}}) {{ id }} }}')
        await gql.data(
            f'mutation {{ trackUsage(input: {{workspaceId: "{slug}", sessionId: "s", provider: "openai", model: "gpt-4o", '
            "promptTokens: 1, completionTokens: 1}) { duplicate } }"
        )
    revoked = await create_key(container, workspace="acme", scopes=(Scope.ADMIN,))
    listed = await gql.data('{ apiKeys(workspaceId: "acme") { id } }')
    await gql.data(f'mutation {{ revokeApiKey(id: "{listed["apiKeys"][0]["id"]}") {{ id }} }}')
    keys = {scope.value: await create_key(container, workspace="acme", scopes=(scope,)) for scope in Scope}
    return {
        "no key": None,
        "malformed key": "Bearer not-a-key",
        "unknown key": f"Bearer {new_key()}",
        "revoked key": f"Bearer {revoked}",
        **{name: f"Bearer {key}" for name, key in keys.items()},
        "instance ADMIN": f"Bearer {await create_key(container)}",
    }


@pytest.fixture
async def target_keys(gql, callers) -> dict[str, str]:
    """A key of each workspace for revokeApiKey to aim at."""
    ids = {}
    for slug in ("acme", "beta"):
        created = await gql.data(
            f'mutation {{ createApiKey(input: {{workspaceId: "{slug}", name: "target", scopes: [READ]}}) {{ apiKey {{ id }} }} }}'
        )
        ids[slug] = created["createApiKey"]["apiKey"]["id"]
    return {**ids, **await new_budgets(gql)}


async def new_budgets(gql) -> dict[str, str]:
    """A budget of each workspace, under "budget:<slug>"."""
    ids = {}
    for slug in ("acme", "beta"):
        created = await gql.data(
            f'mutation {{ createBudget(input: {{workspaceId: "{slug}", name: "{unique()}", limitUsd: "10"}}) '
            "{ budget { id } } }"
        )
        ids[f"budget:{slug}"] = created["createBudget"]["budget"]["id"]
    return ids


@pytest.mark.parametrize("name", sorted(OPERATIONS))
async def test_every_cell_of_the_matrix(client, gql, callers, target_keys, name):
    operation = OPERATIONS[name]
    failures = []
    for caller, header in callers.items():
        for target in ("acme", "beta"):
            if operation.fresh:
                target_keys = {**target_keys, **await new_budgets(gql)}
            headers = {"Authorization": header} if header else {}
            response = await client.post(
                "/graphql", json={"query": operation.document(target, target_keys)}, headers=headers
            )
            result = response.json()
            codes = [e["extensions"]["code"] for e in result.get("errors", [])]
            want = expected(operation, caller, target)
            if codes != ([want] if want else []):
                failures.append(f"{caller} on {target}: expected {want}, got {codes} {result.get('errors')}")
    assert not failures, "\n".join(failures)
