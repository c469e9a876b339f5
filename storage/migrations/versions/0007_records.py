"""an activity's record: photos staff attach and a short summary

Revision ID: 0007_records
Revises: 0006_backfill
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007_records"
down_revision: str | Sequence[str] | None = "0006_backfill"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("file_unique_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_path", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("download_attempts", sa.Integer(), nullable=False),
        sa.Column("download_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id", "file_unique_id", name="uq_activity_photo"),
    )
    with op.batch_alter_table("activity_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_photo_activity_id"), ["activity_id"], unique=False
        )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column("summary_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("summary_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_column("summary_at")
        batch_op.drop_column("summary_by")
        batch_op.drop_column("summary")
    with op.batch_alter_table("activity_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_photo_activity_id"))
    op.drop_table("activity_photo")
