"""`llm-usage serve | migrate | schema | create-workspace`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from sqlalchemy.ext.asyncio import create_async_engine

from modules.core.principal import Principal
from service.config import Settings
from service.database import resolve_database_url
from service.migrations import upgrade_to_head


async def migrate(settings: Settings) -> str:
    """Start the embedded PostgreSQL if needed, apply the migrations; the URL used."""
    url = await resolve_database_url(settings.database_url, settings.data_dir)
    engine = create_async_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    return url


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from service.app import create_app

    asyncio.run(migrate(settings))
    where = (
        "embedded PostgreSQL in " + str(settings.data_dir / "postgres") if not settings.database_url else "DATABASE_URL"
    )
    print(f"llm-usage: database: {where}; migrations applied.", flush=True)
    print(f"llm-usage: GraphiQL and the API at http://{host}:{port}/graphql", flush=True)
    uvicorn.run(create_app(), host=host, port=port, log_level=settings.log_level)


async def create_workspace(name: str, slug: str) -> None:
    from service.container import ApplicationContainer
    from service.context import provide

    container = ApplicationContainer()
    await provide(container.init_resources())
    try:
        service = await provide(container.workspaces.service())
        workspace = await service.create(Principal.local_development(), name=name, slug=slug)
        print(f"{workspace.id}\t{workspace.slug}\t{workspace.name}")
    finally:
        await provide(container.shutdown_resources())


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="llm-usage", description="LLM usage tracking and analytics service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="apply migrations and serve the API with GraphiQL")
    serve_parser.add_argument("--host", default=settings.host)
    serve_parser.add_argument("--port", type=int, default=settings.port)
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("schema", help="print the GraphQL SDL")
    workspace_parser = commands.add_parser("create-workspace", help="create a workspace")
    workspace_parser.add_argument("name")
    workspace_parser.add_argument("--slug", help="short name; default: the name, lowercased with hyphens")
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if args.command == "serve":
        serve(settings, args.host, args.port)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print("llm-usage: migrations applied.")
    elif args.command == "schema":
        from service.graphql import schema_sdl

        sys.stdout.write(schema_sdl())
    elif args.command == "create-workspace":
        slug = args.slug or "-".join(args.name.lower().split())
        asyncio.run(create_workspace(args.name, slug))
