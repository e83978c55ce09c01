"""ACD call rows: callbacks (requested, number, placed, attempts, outcome), overflow
(reason, target) and the expected wait the caller was told beside the wait they had.

Revision ID: 0008_acd_callbacks
Revises: 0007_complaint_voice_message
Create Date: 2026-11-29 04:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_acd_callbacks"
down_revision: str | Sequence[str] | None = "0007_complaint_voice_message"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("callback_number", sa.String(length=20)),
    ("callback_requested_at", sa.DateTime(timezone=True)),
    ("callback_placed_at", sa.DateTime(timezone=True)),
    ("callback_outcome", sa.String(length=20)),
    ("overflow_reason", sa.String(length=20)),
    ("overflow_target", sa.String(length=40)),
    ("expected_wait_told_s", sa.Float()),
    ("expected_wait_told_at", sa.DateTime(timezone=True)),
    ("wait_after_told_s", sa.Float()),
)


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column("acd_calls", sa.Column(name, type_, nullable=True))
    op.add_column(
        "acd_calls",
        sa.Column("callback_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("acd_calls") as batch:
        batch.drop_column("callback_attempts")
        for name, _type in reversed(_COLUMNS):
            batch.drop_column(name)
