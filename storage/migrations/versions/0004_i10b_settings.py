"""settings kept by the bot; a broadcast's sender may be erased

Revision ID: 0004_i10b
Revises: 0003
Create Date: 2026-12-01 16:00:00

The certificate key is stored in ``setting`` by the first start after this
revision (``services.certificate_key``), not here: only the running bot knows the
token the old key was derived from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004_i10b"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # A sender who erased their data is no one: 0, which is no Telegram user.
    op.execute("UPDATE broadcast SET created_by = 0 WHERE created_by IS NULL")
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("setting")
