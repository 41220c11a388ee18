"""Shipments: machine-readable details of a rejection (each document's reason and limit)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("rejection_details", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("rejection_details")
