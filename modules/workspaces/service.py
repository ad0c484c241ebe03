"""Workspaces: create, look up by id or slug. Other modules resolve `workspaceId` arguments here."""

from __future__ import annotations

import re
from collections.abc import Collection

from modules.core.cache import TtlCache
from modules.core.database import Database
from modules.core.errors import BadUserInput, Conflict, Forbidden, NotFound, Problem
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.workspaces.repository import Workspace, WorkspaceRepository

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_NAME_LENGTH = 200


class WorkspaceService:
    """A `workspaceId` argument may be the workspace's UUID or its slug (slugs never look like UUIDs)."""

    def __init__(
        self, *, database: Database, repository: WorkspaceRepository, cache: TtlCache[str, Workspace] | None = None
    ) -> None:
        self.database = database
        self.repository = repository
        self.cache = cache if cache is not None else TtlCache()

    async def create(self, principal: Principal, *, name: str, slug: str) -> Workspace:
        principal.require(Scope.ADMIN)
        problems = []
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            problems.append(Problem("name", f"must be 1 to {MAX_NAME_LENGTH} characters"))
        if not SLUG_PATTERN.match(slug) or parse_uuid(slug) is not None:
            problems.append(
                Problem("slug", "must be 1 to 64 lowercase letters, digits or inner hyphens, e.g. 'acme-prod'")
            )
        if problems:
            raise BadUserInput(problems)
        async with self.database.session_factory.begin() as session:
            workspace = await self.repository.insert(session, name=name, slug=slug)
        if workspace is None:
            raise Conflict(f"a workspace with slug {slug!r} already exists", field="slug")
        return workspace

    async def get(self, principal: Principal, reference: str) -> Workspace:
        """The workspace named by id or slug, or NOT_FOUND (FORBIDDEN for another workspace's key)."""
        found = await self.resolve({reference})
        self.check_access(principal, Scope.READ, {reference}, found)
        if reference not in found:
            raise NotFound(f"no workspace {reference!r}")
        return found[reference]

    async def list(self, principal: Principal) -> list[Workspace]:
        """Every workspace for an instance key; a workspace key sees its own."""
        principal.require(Scope.READ, principal.workspace_id)
        async with self.database.session_factory() as session:
            workspaces = await self.repository.list_all(session)
        return [w for w in workspaces if principal.workspace_id in (None, w.id)]

    def check_access(
        self, principal: Principal, scope: Scope, references: Collection[str], found: dict[str, Workspace]
    ) -> None:
        """Raise unless the principal holds `scope` on every referenced workspace. A key bound to one
        workspace gets FORBIDDEN for any other reference, existing or not: the answer never tells whether
        another workspace exists. Unknown references are left to the caller (instance keys only)."""
        principal.require_authenticated()
        if principal.workspace_id is None:
            principal.require(scope)
            return
        for reference in references:
            workspace = found.get(reference)
            if workspace is None or workspace.id != principal.workspace_id:
                raise Forbidden("this key does not give access to that workspace")
        principal.require(scope, principal.workspace_id)

    async def authorize(self, principal: Principal, reference: str, scope: Scope, *, field: str) -> Workspace:
        """The workspace an input field names, if the principal may use `scope` on it; BAD_USER_INPUT
        naming the field when an instance key names no workspace."""
        found = await self.resolve({reference})
        self.check_access(principal, scope, {reference}, found)
        if reference not in found:
            raise BadUserInput.of(field, f"no workspace {reference!r}")
        return found[reference]

    async def resolve(self, references: Collection[str]) -> dict[str, Workspace]:
        """Each reference (UUID or slug) that names a workspace, mapped to it; unknown ones are left out."""
        found = {ref: hit for ref in references if (hit := self.cache.get(ref)) is not None}
        missing = [ref for ref in references if ref not in found]
        if not missing:
            return found
        ids = {ref: uuid for ref in missing if (uuid := parse_uuid(ref)) is not None}
        slugs = {ref for ref in missing if ref not in ids}
        async with self.database.session_factory() as session:
            workspaces = await self.repository.find(session, ids=set(ids.values()), slugs=slugs)
        by_id = {w.id: w for w in workspaces}
        by_slug = {w.slug: w for w in workspaces}
        looked_up = {ref: by_id[uuid] for ref, uuid in ids.items() if uuid in by_id}
        looked_up.update({ref: by_slug[ref] for ref in slugs if ref in by_slug})
        for ref, workspace in looked_up.items():
            self.cache.put(ref, workspace)  # only found ones: a workspace created now is seen at once
        return {**found, **looked_up}
