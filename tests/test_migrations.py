"""The migrations own the schema: after them, the database matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.tables import compared, metadata


async def test_the_migrated_database_matches_the_models(engine):
    def differences(connection):
        return compare_metadata(MigrationContext.configure(connection, opts={"include_object": compared}), metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
