"""Indexes for the supervisor's reports: the period's IVR sessions, complaints opened and
complaints closed are read by time, which without these meant reading each whole table.

(``acd_calls.queued_at``, ``calls.arrived_at`` and ``slot_refills.freed_at`` were
indexed already; an IVR session's last turn is found through ``ivr_turns``' unique
``(session_id, seq)``.)

Revision ID: 0009_report_indexes
Revises: 0007_complaint_voice_message
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_report_indexes"
down_revision: str | None = "0007_complaint_voice_message"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Covering (outcome, ended_at): the IVR figures read only the index.
    op.create_index(
        "ix_ivr_sessions_started_at", "ivr_sessions", ["started_at", "outcome", "ended_at"]
    )
    op.create_index("ix_complaints_created_at", "complaints", ["created_at"])
    op.create_index(
        "ix_complaint_status_changes_to_status_changed_at",
        "complaint_status_changes",
        ["to_status", "changed_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_complaint_status_changes_to_status_changed_at", table_name="complaint_status_changes"
    )
    op.drop_index("ix_complaints_created_at", table_name="complaints")
    op.drop_index("ix_ivr_sessions_started_at", table_name="ivr_sessions")
