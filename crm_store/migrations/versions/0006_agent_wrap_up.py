"""The agent's wrap-up on the ACD's call row: disposition, notes, who and when.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 02:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("acd_calls", sa.Column("disposition", sa.String(length=32), nullable=True))
    op.add_column("acd_calls", sa.Column("agent_notes", sa.Text(), nullable=True))
    op.add_column("acd_calls", sa.Column("wrapped_up_by", sa.String(length=64), nullable=True))
    op.add_column(
        "acd_calls", sa.Column("wrapped_up_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("acd_calls") as batch:
        batch.drop_column("wrapped_up_at")
        batch.drop_column("wrapped_up_by")
        batch.drop_column("agent_notes")
        batch.drop_column("disposition")
