"""Turning a caller's UsageFilter into a checked UsageFilterSpec, with the caller's access checked."""

from __future__ import annotations

from modules.core.errors import BadUserInput, Problem
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.providers import normalize_provider
from modules.usage.ingest.validation import MAX_TAGS
from modules.usage.records import UsageFilterDraft, UsageFilterSpec
from modules.workspaces import WorkspaceService

MAX_FILTER_VALUES = 100


async def resolve_filter(
    workspaces: WorkspaceService, principal: Principal, given: UsageFilterDraft, scope: Scope = Scope.READ
) -> UsageFilterSpec:
    """Check a filter and the caller's access (READ unless said) to its workspace."""
    workspace = await workspaces.authorize(principal, given.workspace_id, scope, field="filter.workspaceId")
    problems = []
    for field, moment in (("filter.from", given.start), ("filter.to", given.end)):
        if moment is not None and moment.tzinfo is None:
            problems.append(Problem(field, "must include a UTC offset, e.g. 2026-01-01T00:00:00Z"))
    if not problems and given.start and given.end and given.start >= given.end:
        problems.append(Problem("filter.to", "must be after filter.from (from is inclusive, to exclusive)"))
    instance_id = None
    if given.provider_instance_id is not None:
        instance_id = parse_uuid(given.provider_instance_id)
        if instance_id is None:
            problems.append(Problem("filter.providerInstanceId", "is not a provider instance id"))
    for field, values in (
        ("filter.userIds", given.user_ids),
        ("filter.providers", given.providers),
        ("filter.models", given.models),
        ("filter.taskTypes", given.task_types),
        ("filter.catalogueModels", given.catalogue_models),
    ):
        if values is not None and len(values) > MAX_FILTER_VALUES:
            problems.append(Problem(field, f"must list at most {MAX_FILTER_VALUES} values"))
    if len(given.tags) > MAX_TAGS:
        problems.append(Problem("filter.tags", f"must have at most {MAX_TAGS} conditions"))
    if problems:
        raise BadUserInput(problems)
    return UsageFilterSpec(
        workspace_id=workspace.id,
        user_id=given.user_id,
        provider=normalize_provider(given.provider) if given.provider else None,
        model=given.model,
        task_type=given.task_type,
        provider_instance_id=instance_id,
        status=given.status,
        error_type=given.error_type,
        session_id=given.session_id,
        user_ids=given.user_ids,
        providers=tuple(normalize_provider(p) for p in given.providers) if given.providers is not None else None,
        models=given.models,
        task_types=given.task_types,
        tags=given.tags,
        start=given.start,
        end=given.end,
        catalogue_model=given.catalogue_model,
        catalogue_models=given.catalogue_models,
    )
