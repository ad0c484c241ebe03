"""DATABASE_POOLER and DATABASE_LISTEN_URL as read from the environment: a transaction pooler without a direct
LISTEN address is refused at start (LISTEN through it would hear nothing), and so is a pooler we do not know."""

from __future__ import annotations

import pytest

from service.config import Settings


def test_pgbouncer_with_a_listen_url_is_taken():
    settings = Settings.from_env(
        {"DATABASE_POOLER": " PgBouncer ", "DATABASE_LISTEN_URL": "postgresql://db.internal/llm_usage"}
    )
    assert (settings.database_pooler, settings.database_listen_url) == (
        "pgbouncer",
        "postgresql://db.internal/llm_usage",
    )


@pytest.mark.parametrize("given", [{}, {"DATABASE_POOLER": ""}, {"DATABASE_POOLER": "none"}])
def test_no_pooler_is_the_default(given):
    assert Settings.from_env(given).database_pooler is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"DATABASE_POOLER": "pgbouncer"}, "DATABASE_POOLER=pgbouncer needs DATABASE_LISTEN_URL"),
        ({"DATABASE_POOLER": "pgpool", "DATABASE_LISTEN_URL": "postgresql://x/y"}, "must be one of none, pgbouncer"),
    ],
)
def test_a_pooler_that_cannot_work_is_refused_at_start(given, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(given)
