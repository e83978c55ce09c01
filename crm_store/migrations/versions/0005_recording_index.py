"""Recordings: patient, queue, channel and the last verification's result.

A supervisor searches recordings by patient and queue, and a missing or damaged file must
be reported rather than listed as if it played; ``status`` holds what the last check
found and ``checked_at`` when. Existing rows count as verified until checked.

Revision ID: 0005
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key or CHECK constraint with ALTER TABLE.
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("queue", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("channel_uniqueid", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "status",
                sa.String(length=20),
                server_default=sa.text("'verified'"),
                nullable=False,
            )
        )
        batch.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_recordings_patient_id_patients"),
            "patients",
            ["patient_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(
            op.f("ck_recordings_recording_status"),
            "status IN ('verified', 'missing', 'damaged', 'deleted')",
        )
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recordings_started_at", table_name="recordings")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_constraint(op.f("ck_recordings_recording_status"), type_="check")
        batch.drop_constraint(op.f("fk_recordings_patient_id_patients"), type_="foreignkey")
        batch.drop_column("checked_at")
        batch.drop_column("status")
        batch.drop_column("channel_uniqueid")
        batch.drop_column("queue")
        batch.drop_column("patient_id")
