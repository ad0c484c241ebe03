"""`serverInfo`: which build of the service and of the price catalogue answers."""

from __future__ import annotations

from importlib.metadata import version
from typing import Protocol

import strawberry

from modules.core.principal import Principal
from modules.providers.catalogue import PriceCatalogue


class ServerContext(Protocol):
    principal: Principal


@strawberry.type
class ServerInfo:
    version: str = strawberry.field(description="The llm-usage package version.")
    catalogue_version: str = strawberry.field(description="The genai-prices version whose prices apply.")


@strawberry.type
class ServerQuery:
    @strawberry.field(description="Versions of this service and of its price catalogue.")
    def server_info(self, info: strawberry.Info[ServerContext]) -> ServerInfo:
        info.context.principal.require_authenticated()
        return ServerInfo(version=version("llm-usage"), catalogue_version=PriceCatalogue.version)
