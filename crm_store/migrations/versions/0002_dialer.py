"""The outbound dialer's records: freed slots being refilled, every offer call, and
appointment reminder and follow-up calls.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_appointments_status_slot_id", "appointments", ["status", "slot_id"], unique=False
    )
    op.create_table(
        "slot_refills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("freed_appointment_id", sa.Integer(), nullable=False),
        sa.Column("freed_by", sa.String(length=20), nullable=False),
        sa.Column("freed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("filled_appointment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_slot_refills_slot_id_slots")
        ),
        sa.ForeignKeyConstraint(
            ["freed_appointment_id"],
            ["appointments.id"],
            name=op.f("fk_slot_refills_freed_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["filled_appointment_id"],
            ["appointments.id"],
            name=op.f("fk_slot_refills_filled_appointment_id_appointments"),
        ),
        sa.CheckConstraint(
            "freed_by IN ('cancelled', 'no_show')", name=op.f("ck_slot_refills_freed_by")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'filled', 'too_soon', 'exhausted', 'disabled')",
            name=op.f("ck_slot_refills_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_refills")),
        sa.UniqueConstraint(
            "freed_appointment_id", name=op.f("uq_slot_refills_freed_appointment_id")
        ),
    )
    op.create_index("ix_slot_refills_status", "slot_refills", ["status"], unique=False)
    op.create_index("ix_slot_refills_slot_id", "slot_refills", ["slot_id"], unique=False)
    op.create_index("ix_slot_refills_freed_at", "slot_refills", ["freed_at"], unique=False)
    op.create_table(
        "dialer_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refill_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("number_e164", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["refill_id"],
            ["slot_refills.id"],
            name=op.f("fk_dialer_calls_refill_id_slot_refills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["waitlist_offers.id"],
            name=op.f("fk_dialer_calls_offer_id_waitlist_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_dialer_calls_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "result IN ('pending', 'accepted', 'slot_taken', 'declined', 'no_input', "
            "'no_answer', 'busy', 'machine', 'failed')",
            name=op.f("ck_dialer_calls_result"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_calls")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_dialer_calls_offer_id")),
    )
    op.create_index("ix_dialer_calls_refill_id", "dialer_calls", ["refill_id"], unique=False)
    op.create_index(
        "ix_dialer_calls_patient_id_started_at",
        "dialer_calls",
        ["patient_id", "started_at"],
        unique=False,
    )
    op.create_index("ix_dialer_calls_result", "dialer_calls", ["result"], unique=False)

    op.create_table(
        "reminder_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("number_e164", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('reminder', 'follow_up')", name=op.f("ck_reminder_calls_kind")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_reminder_calls_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_reminder_calls_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "result IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_input', "
            "'no_answer', 'busy', 'machine', 'failed')",
            name=op.f("ck_reminder_calls_result"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_calls")),
    )
    op.create_index(
        "ix_reminder_calls_appointment_id", "reminder_calls", ["appointment_id"], unique=False
    )
    op.create_index("ix_reminder_calls_result", "reminder_calls", ["result"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reminder_calls_result", table_name="reminder_calls")
    op.drop_index("ix_reminder_calls_appointment_id", table_name="reminder_calls")
    op.drop_table("reminder_calls")
    op.drop_index("ix_dialer_calls_result", table_name="dialer_calls")
    op.drop_index("ix_dialer_calls_patient_id_started_at", table_name="dialer_calls")
    op.drop_index("ix_dialer_calls_refill_id", table_name="dialer_calls")
    op.drop_table("dialer_calls")
    op.drop_index("ix_slot_refills_freed_at", table_name="slot_refills")
    op.drop_index("ix_slot_refills_slot_id", table_name="slot_refills")
    op.drop_index("ix_slot_refills_status", table_name="slot_refills")
    op.drop_table("slot_refills")
    op.drop_index("ix_appointments_status_slot_id", table_name="appointments")
