"""A complaint's voice message, an IVR session's findings, any flow language on a session.

- ``complaints.voice_message_path`` / ``voice_message_s``: the caller's recorded message
  (a keypad caller files a complaint by leaving one after the tone), kept in the
  configured storage, and its length in seconds.
- ``ivr_sessions.findings``: what the IVR learnt (who, verified or not, intent, slots,
  why handed over) — the same findings the agent's screen pop receives.
- ``ivr_sessions.language``: the flow language the caller used (``dialplans/ivr/<lang>/``),
  no longer limited to the patients' preferred languages (a Korean session was stored
  under the default language).

Revision ID: 0007_complaint_voice_message
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_complaint_voice_message"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("voice_message_path", sa.String(length=512), nullable=True))
        batch.add_column(sa.Column("voice_message_s", sa.Float(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_complaints_voice_message_s_not_negative"),
            "voice_message_s IS NULL OR voice_message_s >= 0",
        )
    # batch mode: SQLite cannot drop a CHECK constraint with ALTER TABLE.
    with op.batch_alter_table("ivr_sessions") as batch:
        batch.add_column(sa.Column("findings", sa.JSON(), nullable=True))
        batch.drop_constraint(op.f("ck_ivr_sessions_language"), type_="check")


def downgrade() -> None:
    op.execute("UPDATE ivr_sessions SET language = 'zh' WHERE language NOT IN ('zh', 'en')")
    with op.batch_alter_table("ivr_sessions") as batch:
        batch.create_check_constraint(op.f("ck_ivr_sessions_language"), "language IN ('zh', 'en')")
        batch.drop_column("findings")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_constraint(op.f("ck_complaints_voice_message_s_not_negative"), type_="check")
        batch.drop_column("voice_message_s")
        batch.drop_column("voice_message_path")
