"""API keys may carry their own rate limit (requests per second per server process); NULL: the default.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:20:19.118104

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("api_keys", sa.Column("rate_limit_per_second", sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("api_keys", "rate_limit_per_second")
