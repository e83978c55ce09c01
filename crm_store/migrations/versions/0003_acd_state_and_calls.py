"""ACD: agents' last state (pauses survive a restart) and what happened to each caller.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRESENCE = (
    "logged_out",
    "available",
    "ringing",
    "on_call",
    "wrap_up",
    "paused",
    "not_responding",
)


def upgrade() -> None:
    op.create_table(
        "acd_agent_states",
        sa.Column("agent_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("pause_reason", sa.String(length=64), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN (" + ", ".join(f"'{v}'" for v in _PRESENCE) + ")",
            name=op.f("ck_acd_agent_states_state"),
        ),
        sa.PrimaryKeyConstraint("agent_key", name=op.f("pk_acd_agent_states")),
    )
    op.create_table(
        "acd_calls",
        sa.Column("call_key", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offers", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("offered_to", sa.String(length=64), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("offers >= 0", name=op.f("ck_acd_calls_offers_not_negative")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_acd_calls_patient_id_patients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("call_key", name=op.f("pk_acd_calls")),
    )
    op.create_index("ix_acd_calls_queued_at", "acd_calls", ["queued_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_acd_calls_queued_at", table_name="acd_calls")
    op.drop_table("acd_calls")
    op.drop_table("acd_agent_states")
