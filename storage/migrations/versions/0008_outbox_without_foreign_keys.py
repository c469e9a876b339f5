"""the outbox keeps no foreign keys: it is a queue written in bulk

Queueing a broadcast writes one row per recipient in one INSERT ... SELECT. On
PostgreSQL the two foreign keys (station, broadcast) each ran a trigger per row:
about half the time of queueing 100,000 recipients. Every value they checked is read
in the same transaction from rows that hold it under their own keys (the volunteer's
station, the broadcast just created), and neither stations nor broadcasts are ever
deleted; ``user_id`` never had one.

Revision ID: 0008_outbox_without_foreign_keys
Revises: 0007_records
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008_outbox_without_foreign_keys"
down_revision: str | Sequence[str] | None = "0007_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The names PostgreSQL gave the constraints when 0003 created them without one.
_FOREIGN_KEYS = {
    "outbox_station_id_fkey": ("station", "station_id"),
    "outbox_broadcast_id_fkey": ("broadcast", "broadcast_id"),
}
# SQLite keeps them unnamed: batch mode names them by this convention to drop them.
_SQLITE_NAMES = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("outbox", naming_convention=_SQLITE_NAMES) as batch_op:
            for name in _FOREIGN_KEYS:
                batch_op.drop_constraint(name, type_="foreignkey")
        return
    for name in _FOREIGN_KEYS:
        op.drop_constraint(name, "outbox", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name, (table, column) in _FOREIGN_KEYS.items():
            batch_op.create_foreign_key(name, table, [column], ["id"])
