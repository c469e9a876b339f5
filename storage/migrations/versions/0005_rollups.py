"""tally roll-ups: closed weeks' figures per station

Revision ID: 0005_rollups
Revises: 0004_i10b
Create Date: 2026-12-01 22:00:00

The tables start empty: a closed week's rows are built by the weekly job, or on
demand the first time its tally is asked for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005_rollups"
down_revision: str | Sequence[str] | None = "0004_i10b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tally_week",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("week_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("built_version", sa.Integer(), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("week_start", "week_end", name="uq_tally_week"),
    )
    op.create_table(
        "tally_rollup",
        sa.Column("week_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("own", sa.Boolean(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("participations", sa.Integer(), nullable=False),
        sa.Column("volunteers", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.BigInteger(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("new_volunteers", sa.Integer(), nullable=False),
        sa.Column("pledges", sa.Integer(), nullable=False),
        sa.Column("pledged_fen", sa.BigInteger(), nullable=False),
        sa.Column("received_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["week_id"], ["tally_week.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("week_id", "station_id", "own"),
    )


def downgrade() -> None:
    op.drop_table("tally_rollup")
    op.drop_table("tally_week")
