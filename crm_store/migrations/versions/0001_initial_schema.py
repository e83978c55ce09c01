# ruff: noqa: E501
"""Initial schema of the CRM store (reviewed autogenerate).

Enums are frozen here as VARCHAR(20) + named CHECK constraints (same names as the
models' naming convention), timestamps as plain timestamptz, so this file never changes
when the models do.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 11:26:06.843553

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=32), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=20), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("national_id_hash", sa.String(length=64), nullable=True),
        sa.Column("national_id_last4", sa.String(length=4), nullable=True),
        sa.Column("preferred_language", sa.String(length=20), nullable=False),
        sa.Column("vip", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("chronic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("allergies", sa.Text(), nullable=True),
        sa.Column("care_notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(national_id_hash IS NULL) = (national_id_last4 IS NULL)",
            name=op.f("ck_patients_national_id_pair"),
        ),
        sa.CheckConstraint("length(full_name) > 0", name=op.f("ck_patients_full_name_not_empty")),
        sa.CheckConstraint(
            "national_id_hash IS NULL OR length(national_id_hash) = 64",
            name=op.f("ck_patients_national_id_hash_len"),
        ),
        sa.CheckConstraint(
            "sex IN ('female', 'male', 'other', 'unknown')", name=op.f("ck_patients_sex")
        ),
        sa.CheckConstraint(
            "preferred_language IN ('zh', 'en')", name=op.f("ck_patients_preferred_language")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
        sa.UniqueConstraint("national_id_hash", name=op.f("uq_patients_national_id_hash")),
    )
    op.create_index("ix_patients_date_of_birth", "patients", ["date_of_birth"], unique=False)
    op.create_index("ix_patients_full_name", "patients", ["full_name"], unique=False)
    op.create_table(
        "skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skills")),
        sa.UniqueConstraint("name", name=op.f("uq_skills_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(username) > 0", name=op.f("ck_users_username_not_empty")),
        sa.CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("extension", name=op.f("uq_agents_extension")),
        sa.UniqueConstraint("user_id", name=op.f("uq_agents_user_id")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR actor IS NOT NULL", name=op.f("ck_audit_log_has_actor")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.CheckConstraint(
            "action IN ('view', 'create', 'update', 'delete', 'play', 'export', 'login')",
            name=op.f("ck_audit_log_action"),
        ),
        sa.CheckConstraint(
            "entity_type IN ('patient', 'appointment', 'recording', 'complaint', 'call', 'user')",
            name=op.f("ck_audit_log_entity_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "at"], unique=False
    )
    op.create_index("ix_audit_log_user_id_at", "audit_log", ["user_id", "at"], unique=False)
    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("caller_number_raw", sa.Text(), nullable=True),
        sa.Column("caller_number_e164", sa.String(length=16), nullable=True),
        sa.Column("caller_name", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_cause_text", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_calls_patient_id_patients"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound', 'internal', 'unknown')",
            name=op.f("ck_calls_direction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("linkedid", name=op.f("uq_calls_linkedid")),
    )
    op.create_index("ix_calls_arrived_at", "calls", ["arrived_at"], unique=False)
    op.create_index("ix_calls_caller_number_e164", "calls", ["caller_number_e164"], unique=False)
    op.create_index(
        "ix_calls_open",
        "calls",
        ["arrived_at"],
        unique=False,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_calls_patient_id_arrived_at", "calls", ["patient_id", "arrived_at"], unique=False
    )
    op.create_table(
        "doctors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_doctors_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doctors")),
    )
    op.create_index(op.f("ix_doctors_department_id"), "doctors", ["department_id"], unique=False)
    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.String(length=64), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=True),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "e164 LIKE '+%' AND length(e164) BETWEEN 8 AND 16",
            name=op.f("ck_phone_numbers_e164_shape"),
        ),
        sa.CheckConstraint(
            "relation IS NULL OR length(relation) > 0",
            name=op.f("ck_phone_numbers_relation_not_empty"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_phone_numbers_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sa.UniqueConstraint("patient_id", "e164", name=op.f("uq_phone_numbers_patient_id_e164")),
    )
    op.create_index(
        "ix_phone_numbers_e164", "phone_numbers", ["e164", "patient_id", "relation"], unique=False
    )
    op.create_table(
        "agent_languages",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_languages_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("language IN ('zh', 'en')", name=op.f("ck_agent_languages_language")),
        sa.PrimaryKeyConstraint("agent_id", "language", name=op.f("pk_agent_languages")),
    )
    op.create_table(
        "agent_skills",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 10", name=op.f("ck_agent_skills_level_range")),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_skills_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name=op.f("fk_agent_skills_skill_id_skills"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", "skill_id", name=op.f("pk_agent_skills")),
    )
    op.create_index(op.f("ix_agent_skills_skill_id"), "agent_skills", ["skill_id"], unique=False)
    op.create_table(
        "call_legs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_legs_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_legs")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_call_legs_uniqueid")),
    )
    op.create_index(op.f("ix_call_legs_call_id"), "call_legs", ["call_id"], unique=False)
    op.create_table(
        "clinic_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_clinic_sessions_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_clinic_sessions_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_clinic_sessions_doctor_id_doctors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_sessions")),
        sa.UniqueConstraint(
            "doctor_id", "starts_at", name=op.f("uq_clinic_sessions_doctor_id_starts_at")
        ),
    )
    op.create_index(
        "ix_clinic_sessions_department_id_starts_at",
        "clinic_sessions",
        ["department_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=9), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("opened_via", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(description) > 0", name=op.f("ck_complaints_description_not_empty")
        ),
        sa.CheckConstraint("length(ticket_number) = 9", name=op.f("ck_complaints_ticket_len")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_complaints_call_id_calls"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_complaints_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_complaints_patient_id_patients"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "category IN ('service', 'waiting_time', 'staff_attitude', 'medical_care', 'billing', 'facilities', 'other')",
            name=op.f("ck_complaints_category"),
        ),
        sa.CheckConstraint(
            "opened_via IN ('ivr', 'agent', 'dialer', 'import')",
            name=op.f("ck_complaints_opened_via"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'responded', 'closed')",
            name=op.f("ck_complaints_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("ticket_number", name=op.f("uq_complaints_ticket_number")),
    )
    op.create_index(
        "ix_complaints_patient_id_status", "complaints", ["patient_id", "status"], unique=False
    )
    op.create_index(
        "ix_complaints_status_created_at", "complaints", ["status", "created_at"], unique=False
    )
    op.create_table(
        "ivr_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column(
            "identity_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_ivr_sessions_call_id_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_ivr_sessions_patient_id_patients"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("language IN ('zh', 'en')", name=op.f("ck_ivr_sessions_language")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_sessions")),
    )
    op.create_index("ix_ivr_sessions_call_id", "ivr_sessions", ["call_id"], unique=False)
    op.create_index(op.f("ix_ivr_sessions_linkedid"), "ivr_sessions", ["linkedid"], unique=False)
    op.create_index(
        op.f("ix_ivr_sessions_patient_id"), "ivr_sessions", ["patient_id"], unique=False
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("duration_s >= 0", name=op.f("ck_recordings_duration_not_negative")),
        sa.CheckConstraint("length(checksum_sha256) = 64", name=op.f("ck_recordings_checksum_len")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_recordings_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_recordings_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_recordings_call_id_calls"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("path", name=op.f("uq_recordings_path")),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"], unique=False)
    op.create_index("ix_recordings_retain_until", "recordings", ["retain_until"], unique=False)
    op.create_table(
        "complaint_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"],
            ["users.id"],
            name=op.f("fk_complaint_status_changes_changed_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_status_changes_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "from_status IN ('open', 'in_progress', 'responded', 'closed')",
            name=op.f("ck_complaint_status_changes_from_status"),
        ),
        sa.CheckConstraint(
            "to_status IN ('open', 'in_progress', 'responded', 'closed')",
            name=op.f("ck_complaint_status_changes_to_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_status_changes")),
    )
    op.create_index(
        op.f("ix_complaint_status_changes_complaint_id"),
        "complaint_status_changes",
        ["complaint_id"],
        unique=False,
    )
    op.create_table(
        "ivr_turns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("heard", sa.Text(), nullable=True),
        sa.Column("dtmf", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("chosen_action", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
            name=op.f("ck_ivr_turns_confidence_range"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["ivr_sessions.id"],
            name=op.f("fk_ivr_turns_session_id_ivr_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_turns")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_ivr_turns_session_id_seq")),
    )
    op.create_table(
        "slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.SmallInteger(), nullable=False),
        sa.Column("booked", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name=op.f("ck_slots_booked_within_capacity")
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_slots_capacity_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_slots_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_slots_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_slots_doctor_id_doctors")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["clinic_sessions.id"],
            name=op.f("fk_slots_session_id_clinic_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("session_id", "starts_at", name=op.f("uq_slots_session_id_starts_at")),
    )
    op.create_index(
        "ix_slots_department_id_starts_at", "slots", ["department_id", "starts_at"], unique=False
    )
    op.create_index(
        "ix_slots_doctor_id_starts_at", "slots", ["doctor_id", "starts_at"], unique=False
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=9), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("booked_by", sa.String(length=20), nullable=False),
        sa.Column("booked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=20), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("rescheduled_from_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL",
            name=op.f("ck_appointments_cancelled_has_time"),
        ),
        sa.CheckConstraint("length(reference) = 9", name=op.f("ck_appointments_reference_len")),
        sa.ForeignKeyConstraint(
            ["booked_by_user_id"],
            ["users.id"],
            name=op.f("fk_appointments_booked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_from_id"],
            ["appointments.id"],
            name=op.f("fk_appointments_rescheduled_from_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_appointments_slot_id_slots")
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'attended', 'no_show')",
            name=op.f("ck_appointments_status"),
        ),
        sa.CheckConstraint(
            "booked_by IN ('ivr', 'agent', 'dialer', 'import')",
            name=op.f("ck_appointments_booked_by"),
        ),
        sa.CheckConstraint(
            "cancelled_by IN ('ivr', 'agent', 'dialer', 'import')",
            name=op.f("ck_appointments_cancelled_by"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("reference", name=op.f("uq_appointments_reference")),
    )
    op.create_index("ix_appointments_patient_id", "appointments", ["patient_id"], unique=False)
    op.create_index("ix_appointments_slot_id", "appointments", ["slot_id"], unique=False)
    op.create_index(
        "uq_appointments_active_patient_slot",
        "appointments",
        ["patient_id", "slot_id"],
        unique=True,
        sqlite_where=sa.text("status = 'booked'"),
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("earliest_date", sa.Date(), nullable=False),
        sa.Column("latest_date", sa.Date(), nullable=False),
        sa.Column("earliest_time", sa.Time(), nullable=True),
        sa.Column("latest_time", sa.Time(), nullable=True),
        sa.Column("clinical_priority", sa.SmallInteger(), nullable=False),
        sa.Column("consent_to_call", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "clinical_priority BETWEEN 1 AND 5", name=op.f("ck_waitlist_entries_priority_range")
        ),
        sa.CheckConstraint(
            "earliest_time IS NULL OR latest_time IS NULL OR earliest_time < latest_time",
            name=op.f("ck_waitlist_entries_time_range"),
        ),
        sa.CheckConstraint(
            "latest_date >= earliest_date", name=op.f("ck_waitlist_entries_date_range")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_entries_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_waitlist_entries_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_waitlist_entries_doctor_id_doctors")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_waitlist_entries_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'booked', 'withdrawn', 'expired')",
            name=op.f("ck_waitlist_entries_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        "ix_waitlist_entries_candidates",
        "waitlist_entries",
        ["department_id", "status", "clinical_priority", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_waitlist_entries_patient_id", "waitlist_entries", ["patient_id"], unique=False
    )
    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_linkedid", sa.String(length=64), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_offers_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entries.id"],
            name=op.f("fk_waitlist_offers_entry_id_waitlist_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_waitlist_offers_slot_id_slots")
        ),
        sa.CheckConstraint(
            "outcome IN ('pending', 'accepted', 'refused', 'no_answer', 'failed')",
            name=op.f("ck_waitlist_offers_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offers")),
    )
    op.create_index(
        "ix_waitlist_offers_entry_id", "waitlist_offers", ["entry_id", "outcome"], unique=False
    )
    op.create_index("ix_waitlist_offers_slot_id", "waitlist_offers", ["slot_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_waitlist_offers_slot_id", table_name="waitlist_offers")
    op.drop_index("ix_waitlist_offers_entry_id", table_name="waitlist_offers")
    op.drop_table("waitlist_offers")
    op.drop_index("ix_waitlist_entries_patient_id", table_name="waitlist_entries")
    op.drop_index("ix_waitlist_entries_candidates", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    op.drop_index(
        "uq_appointments_active_patient_slot",
        table_name="appointments",
        sqlite_where=sa.text("status = 'booked'"),
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.drop_index("ix_appointments_slot_id", table_name="appointments")
    op.drop_index("ix_appointments_patient_id", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_slots_doctor_id_starts_at", table_name="slots")
    op.drop_index("ix_slots_department_id_starts_at", table_name="slots")
    op.drop_table("slots")
    op.drop_table("ivr_turns")
    op.drop_index(
        op.f("ix_complaint_status_changes_complaint_id"), table_name="complaint_status_changes"
    )
    op.drop_table("complaint_status_changes")
    op.drop_index("ix_recordings_retain_until", table_name="recordings")
    op.drop_index("ix_recordings_call_id", table_name="recordings")
    op.drop_table("recordings")
    op.drop_index(op.f("ix_ivr_sessions_patient_id"), table_name="ivr_sessions")
    op.drop_index(op.f("ix_ivr_sessions_linkedid"), table_name="ivr_sessions")
    op.drop_index("ix_ivr_sessions_call_id", table_name="ivr_sessions")
    op.drop_table("ivr_sessions")
    op.drop_index("ix_complaints_status_created_at", table_name="complaints")
    op.drop_index("ix_complaints_patient_id_status", table_name="complaints")
    op.drop_table("complaints")
    op.drop_index("ix_clinic_sessions_department_id_starts_at", table_name="clinic_sessions")
    op.drop_table("clinic_sessions")
    op.drop_index(op.f("ix_call_legs_call_id"), table_name="call_legs")
    op.drop_table("call_legs")
    op.drop_index(op.f("ix_agent_skills_skill_id"), table_name="agent_skills")
    op.drop_table("agent_skills")
    op.drop_table("agent_languages")
    op.drop_index("ix_phone_numbers_e164", table_name="phone_numbers")
    op.drop_table("phone_numbers")
    op.drop_index(op.f("ix_doctors_department_id"), table_name="doctors")
    op.drop_table("doctors")
    op.drop_index("ix_calls_patient_id_arrived_at", table_name="calls")
    op.drop_index(
        "ix_calls_open",
        table_name="calls",
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_index("ix_calls_caller_number_e164", table_name="calls")
    op.drop_index("ix_calls_arrived_at", table_name="calls")
    op.drop_table("calls")
    op.drop_index("ix_audit_log_user_id_at", table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("agents")
    op.drop_table("users")
    op.drop_table("skills")
    op.drop_index("ix_patients_full_name", table_name="patients")
    op.drop_index("ix_patients_date_of_birth", table_name="patients")
    op.drop_table("patients")
    op.drop_table("departments")
