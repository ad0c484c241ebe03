"""`llm-usage serve | migrate | schema | create-workspace | create-api-key`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from modules.access.service import AccessService
from modules.core.principal import Principal, Scope
from service.config import Settings, positive_days
from service.container import ApplicationContainer
from service.context import provide
from service.database import asyncpg_url, resolve_database_url
from service.migrations import upgrade_to_head
from service.observability import configure_logging
from service.resources import start_resources, stop_resources

T = TypeVar("T")
FIRST_START_LOCK_ID = 7_245_811_002


async def migrate(settings: Settings) -> str:
    """Start the embedded PostgreSQL if needed, apply the migrations; the URL used."""
    url = await resolve_database_url(settings.database_url, settings.data_dir)
    # Behind PgBouncer the migrations take the direct connection LISTEN uses: a plain engine's named prepared
    # statements would meet another process's of the same name on a server connection PgBouncer hands round.
    engine = create_async_engine(asyncpg_url(settings.database_listen_url) if settings.database_listen_url else url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    return url


async def with_container(work: Callable[[ApplicationContainer], Awaitable[T]]) -> T:
    container = ApplicationContainer()
    await start_resources(container)
    try:
        return await work(container)
    finally:
        await stop_resources(container)


async def prepare(settings: Settings, graphql_url: str) -> tuple[str, str | None]:
    """Migrate, then the first-start message (keys of a new database), if any; and the database's URL."""
    from service.bootstrap import first_start

    url = await migrate(settings)

    async def bootstrap(container: ApplicationContainer) -> str | None:
        database = await provide(container.database())
        # Two servers starting at once on an empty database: only one creates the first keys.
        async with database.engine.connect() as lock:
            await lock.execute(text("SELECT pg_advisory_lock(:id)"), {"id": FIRST_START_LOCK_ID})
            try:
                return await first_start(
                    access=await provide(container.access.service()),
                    workspaces=await provide(container.workspaces.service()),
                    graphql_url=graphql_url,
                )
            finally:
                await lock.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": FIRST_START_LOCK_ID})

    return url, await with_container(bootstrap)


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """One process per worker (each with its own pool; LISTEN/NOTIFY carries the live stream between them)."""
    from service.app import create_served_app
    from service.server import exit_normally_on_sigterm, run, server_config

    exit_normally_on_sigterm()
    graphql_url = f"http://{host}:{port}/graphql"
    url, message = asyncio.run(prepare(settings, graphql_url))
    where = "DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {settings.data_dir / 'postgres'}"
    print(f"llm-usage: database: {where}; migrations applied.", flush=True)
    if message:
        print(message, flush=True)
    print(f"llm-usage: the dashboard at http://{host}:{port}/, GraphiQL and the API at {graphql_url}", flush=True)
    if workers > 1 and not settings.database_url:
        # The workers reach this process's embedded PostgreSQL by its URL, so that this process alone is on its
        # list of users and stops it on exit (a worker ends by SIGTERM, which skips its atexit handlers).
        os.environ["DATABASE_URL"] = url
    app = "service.app:create_served_app" if workers > 1 else create_served_app()
    run(server_config(app, host=host, port=port, workers=workers, log_level=settings.log_level))


async def create_workspace(container: ApplicationContainer, name: str, slug: str) -> str:
    service = await provide(container.workspaces.service())
    workspace = await service.create(Principal.system(), name=name, slug=slug)
    return f"{workspace.id}\t{workspace.slug}\t{workspace.name}"


async def create_api_key(container: ApplicationContainer, workspace: str | None, name: str, scopes: list[Scope]) -> str:
    service: AccessService = await provide(container.access.service())
    created = await service.create(Principal.system(), workspace_ref=workspace, name=name, scopes=scopes)
    return created.secret


async def rebuild_rollups(container: ApplicationContainer) -> str:
    from modules.usage.rollups.writer import rebuild

    database = await provide(container.database())
    async with database.session_factory.begin() as session:
        rows = await rebuild(session)
    return "\n".join(f"{name}\t{count} rows" for name, count in rows.items())


async def prune(container: ApplicationContainer, days: int | None) -> str:
    from modules.usage.retention.service import UsageRetention

    retention_days = days or container.settings().retention_days
    if not retention_days:
        raise SystemExit("llm-usage prune: set LLM_USAGE_RETENTION_DAYS or give --days N")
    retention = UsageRetention(database=await provide(container.database()), retention_days=retention_days)
    return f"deleted {await retention.prune()} events older than {retention_days} days"


def days_argument(text: str) -> int | None:
    try:
        return positive_days(text, name="the retention")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_scopes(text: str) -> list[Scope]:
    try:
        return [Scope(part.strip().upper()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("scopes are a comma-separated list of INGEST, READ, ADMIN, CONTENT") from None


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="llm-usage", description="LLM usage tracking and analytics service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="apply migrations and serve the API with GraphiQL")
    serve_parser.add_argument("--host", default=settings.host)
    serve_parser.add_argument("--port", type=int, default=settings.port)
    serve_parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")), help="server processes"
    )
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("schema", help="print the GraphQL SDL")
    commands.add_parser(
        "rebuild-rollups", help="rebuild the rollups from the events (after loading events around the API)"
    )
    prune_parser = commands.add_parser("prune", help="delete events older than the retention now")
    prune_parser.add_argument(
        "--days", type=days_argument, help="retention in days (default: LLM_USAGE_RETENTION_DAYS)"
    )
    workspace_parser = commands.add_parser("create-workspace", help="create a workspace")
    workspace_parser.add_argument("name")
    workspace_parser.add_argument("--slug", help="short name; default: the name, lowercased with hyphens")
    key_parser = commands.add_parser("create-api-key", help="create an API key and print it (shown once)")
    target = key_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--workspace", help="the workspace's slug or id")
    target.add_argument("--admin", action="store_true", help="an instance-wide ADMIN key")
    key_parser.add_argument("--scopes", type=parse_scopes, help="INGEST,READ,ADMIN,CONTENT (with --workspace)")
    key_parser.add_argument("--name", default="cli")
    args = parser.parse_args(argv)
    configure_logging(settings.log_level, as_json=settings.log_format == "json")

    if args.command == "serve":
        serve(settings, args.host, args.port, args.workers)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print("llm-usage: migrations applied.")
    elif args.command == "schema":
        from service.graphql import schema_sdl

        sys.stdout.write(schema_sdl())
    elif args.command == "rebuild-rollups":
        print(asyncio.run(with_container(rebuild_rollups)))
    elif args.command == "prune":
        print(asyncio.run(with_container(lambda c: prune(c, args.days))))
    elif args.command == "create-workspace":
        slug = args.slug or "-".join(args.name.lower().split())
        print(asyncio.run(with_container(lambda c: create_workspace(c, args.name, slug))))
    elif args.command == "create-api-key":
        if args.workspace and not args.scopes:
            parser.error("--workspace needs --scopes, e.g. --scopes INGEST,READ")
        scopes = [Scope.ADMIN] if args.admin else args.scopes
        print(asyncio.run(with_container(lambda c: create_api_key(c, args.workspace, args.name, scopes))))


if __name__ == "__main__":
    main()
