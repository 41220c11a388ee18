"""Re-checks: every report version kept with what changed, documents by upload round, stages

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("stage", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rounds", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("shipment_documents") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("replaced_in", sa.Integer(), nullable=True))
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("uq_reports_shipment_id", type_="unique")
        batch.alter_column("id", type_=sa.String(length=48), existing_nullable=False)
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch.create_unique_constraint("uq_reports_shipment_version", ["shipment_id", "version"])
        batch.create_index("ix_reports_shipment_id", ["shipment_id"], unique=False)


def downgrade() -> None:
    """Undo this revision: only the latest version of each report is kept."""
    op.execute(
        "DELETE FROM reports WHERE version < "
        "(SELECT MAX(r.version) FROM reports r WHERE r.shipment_id = reports.shipment_id)"
    )
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_shipment_id")
        batch.drop_constraint("uq_reports_shipment_version", type_="unique")
        batch.drop_column("changes")
        batch.drop_column("version")
        batch.alter_column("id", type_=sa.String(length=40), existing_nullable=False)
        batch.create_unique_constraint("uq_reports_shipment_id", ["shipment_id"])
    with op.batch_alter_table("shipment_documents") as batch:
        batch.drop_column("replaced_in")
        batch.drop_column("round")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("rounds")
        batch.drop_column("stage")
