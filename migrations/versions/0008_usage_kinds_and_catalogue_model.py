"""Every genai-prices usage kind of an event, and the catalogue model that prices it.

usage_events gains `usage_kinds` (JSONB: the kinds beyond the token columns — audio, image and video tokens,
5-minute and 1-hour cache writes, tool-use tokens, web searches… — by genai-prices' own keys, what re-pricing
reads), `audio_tokens` (input + output audio tokens, a column so that sums stay plain SUMs) and
`catalogue_model` (the catalogue's id of the reported model: `gpt-4o` for `gpt-4o-2024-08-06`, so a model's
dated snapshots group as one). Every rollup gains `audio_tokens`.

Existing rows keep their costs and counts: they reported no other kind (usage_kinds '{}', audio 0), and their
catalogue model is filled in here from genai-prices' catalogue, once per distinct (provider, model). No index:
catalogue-model queries read the events through the (workspace, time) index like any other filter.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from genai_prices.data_snapshot import get_snapshot
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = ("usage_daily", "usage_hourly", "usage_user_daily")


def catalogue_id(provider: str, model: str) -> str | None:
    try:
        return get_snapshot().find_provider_model(model, None, provider, None)[1].id
    except LookupError:
        return None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "usage_events", sa.Column("audio_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "usage_events",
        sa.Column(
            "usage_kinds",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("usage_events", sa.Column("catalogue_model", sa.Text(), nullable=True))
    for table in ROLLUPS:
        op.add_column(table, sa.Column("audio_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    connection = op.get_bind()
    pairs = connection.execute(sa.text("SELECT DISTINCT provider, model FROM usage_events")).all()
    known = [(provider, model, found) for provider, model in pairs if (found := catalogue_id(provider, model))]
    for provider, model, found in known:
        connection.execute(
            sa.text("UPDATE usage_events SET catalogue_model = :found WHERE provider = :provider AND model = :model"),
            {"found": found, "provider": provider, "model": model},
        )


def downgrade() -> None:
    """Downgrade schema."""
    for table in ROLLUPS:
        op.drop_column(table, "audio_tokens")
    op.drop_column("usage_events", "catalogue_model")
    op.drop_column("usage_events", "usage_kinds")
    op.drop_column("usage_events", "audio_tokens")
