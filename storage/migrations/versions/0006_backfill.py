"""hours recorded on someone's behalf, and imported rows' keys

Revision ID: 0006_backfill
Revises: 0005_rollups
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006_backfill"
down_revision: str | Sequence[str] | None = "0005_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_behalf", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("import_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_unique_constraint("uq_attendance_import_key", ["import_key"])
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.alter_column("on_behalf", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_constraint("uq_attendance_import_key", type_="unique")
        batch_op.drop_column("import_key")
        batch_op.drop_column("on_behalf")
