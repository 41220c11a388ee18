"""The language a user chose on the web page, kept with the user's API key

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Undo this revision: the users' choices are forgotten, the tenant's language applies."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("language")
