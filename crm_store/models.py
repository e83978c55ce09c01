"""SQLAlchemy 2.x models of the CRM store — the schema Alembic migrates.

Conventions: integer surrogate keys; every timestamp is a timezone-aware UTC datetime
(:class:`UTCDateTime`); enums are stored as short strings guarded by CHECK constraints
(portable across SQLite and PostgreSQL, and readable in reports); constraint names follow
:data:`NAMING_CONVENTION` so migrations can refer to them on both engines.

Patient identifiers: the national id is never stored — only a keyed hash (for exact
lookup) and its last four characters (for display); see ``crm_store.identifiers``.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from acd.model import AgentState
from crm_store.enums import (
    AppointmentStatus,
    AuditAction,
    AuditEntity,
    BookingChannel,
    CallDirection,
    ComplaintCategory,
    ComplaintStatus,
    DialerCallResult,
    FreedBy,
    OfferOutcome,
    PreferredLanguage,
    RecordingStatus,
    RefillStatus,
    ReminderKind,
    ReminderResult,
    Role,
    Sex,
    WaitlistStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC (the only kind of datetime the store accepts)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes in and out, on both engines.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as
    naive UTC and marked UTC again when read. Naive datetimes are refused: guessing their
    zone is how appointment times drift by eight hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the store accepts only timezone-aware datetimes")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = (
            # values read back through SQLite JSON functions are ISO strings
            dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        )
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A string column restricted to the enum's values by a CHECK constraint."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


#: 64-bit keys on PostgreSQL; on SQLite the key must be INTEGER to alias the rowid.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


# --------------------------------------------------------------------------- people


class User(Base):
    """Someone who logs in to a console."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("length(username) > 0", name="username_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]


class Agent(Base):
    """The telephony side of a user who takes calls."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    extension: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    skills: Mapped[list[AgentSkill]] = relationship(cascade="all, delete-orphan")
    languages: Mapped[list[AgentLanguage]] = relationship(cascade="all, delete-orphan")


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 10", name="level_range"),)

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger, default=5)


class AgentLanguage(Base):
    __tablename__ = "agent_languages"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[PreferredLanguage] = mapped_column(
        _enum(PreferredLanguage, "language"), primary_key=True
    )


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint("length(full_name) > 0", name="full_name_not_empty"),
        CheckConstraint(
            "(national_id_hash IS NULL) = (national_id_last4 IS NULL)",
            name="national_id_pair",
        ),
        CheckConstraint(
            "national_id_hash IS NULL OR length(national_id_hash) = 64",
            name="national_id_hash_len",
        ),
        Index("ix_patients_full_name", "full_name"),
        Index("ix_patients_date_of_birth", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), unique=True)  # medical record number
    family_name: Mapped[str | None] = mapped_column(String(100))
    given_name: Mapped[str | None] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200))  # as the patient writes it
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"), default=Sex.UNKNOWN)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    national_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    national_id_last4: Mapped[str | None] = mapped_column(String(4))
    preferred_language: Mapped[PreferredLanguage] = mapped_column(
        _enum(PreferredLanguage, "preferred_language"), default=PreferredLanguage.MANDARIN
    )
    vip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    chronic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    allergies: Mapped[str | None] = mapped_column(Text)
    care_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    phone_numbers: Mapped[list[PhoneNumber]] = relationship(
        back_populates="patient", cascade="all, delete-orphan"
    )


class PhoneNumber(Base):
    """A number a patient calls from: their own (relation NULL) or a family member's."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        UniqueConstraint("patient_id", "e164"),
        CheckConstraint("e164 LIKE '+%' AND length(e164) BETWEEN 8 AND 16", name="e164_shape"),
        CheckConstraint("relation IS NULL OR length(relation) > 0", name="relation_not_empty"),
        # Covering index for caller-ID lookup: the number, then who it belongs to.
        Index("ix_phone_numbers_e164", "e164", "patient_id", "relation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16))
    raw: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str | None] = mapped_column(String(32))  # None: the patient's own
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="phone_numbers")


# --------------------------------------------------------------------------- schedule


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Doctor(Base):
    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class ClinicSession(Base):
    """A doctor's clinic (e.g. Tuesday morning) in which slots are booked."""

    __tablename__ = "clinic_sessions"
    __table_args__ = (
        UniqueConstraint("doctor_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_clinic_sessions_department_id_starts_at", "department_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    location: Mapped[str | None] = mapped_column(String(100))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Slot(Base):
    """A bookable time within a clinic session. ``booked`` counts active appointments and
    only moves by conditional UPDATE (see AppointmentRepository.book)."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("session_id", "starts_at"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_slots_department_id_starts_at", "department_id", "starts_at"),
        Index("ix_slots_doctor_id_starts_at", "doctor_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id", ondelete="CASCADE"))
    # Copied from the session so free-slot searches need no join.
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int] = mapped_column(SmallInteger, default=1)
    booked: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_has_time"
        ),
        CheckConstraint("length(reference) = 9", name="reference_len"),
        # One live booking per patient per slot; cancelled ones may repeat.
        Index(
            "uq_appointments_active_patient_slot",
            "patient_id",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_appointments_patient_id", "patient_id"),
        Index("ix_appointments_slot_id", "slot_id"),
        # The dialer looks for cancelled and no-show appointments every few seconds.
        Index("ix_appointments_status_slot_id", "status", "slot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(9), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    status: Mapped[AppointmentStatus] = mapped_column(
        _enum(AppointmentStatus, "status"), default=AppointmentStatus.BOOKED
    )
    booked_by: Mapped[BookingChannel] = mapped_column(_enum(BookingChannel, "booked_by"))
    booked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    booked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[BookingChannel | None] = mapped_column(
        _enum(BookingChannel, "cancelled_by")
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    rescheduled_from_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    notes: Mapped[str | None] = mapped_column(Text)


class WaitlistEntry(Base):
    """A patient waiting for an earlier or any slot, to be phoned when one frees up."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("latest_date >= earliest_date", name="date_range"),
        CheckConstraint(
            "earliest_time IS NULL OR latest_time IS NULL OR earliest_time < latest_time",
            name="time_range",
        ),
        CheckConstraint("clinical_priority BETWEEN 1 AND 5", name="priority_range"),
        Index(
            "ix_waitlist_entries_candidates",
            "department_id",
            "status",
            "clinical_priority",
            "created_at",
        ),
        Index("ix_waitlist_entries_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))  # None: any doctor
    earliest_date: Mapped[dt.date] = mapped_column(Date)
    latest_date: Mapped[dt.date] = mapped_column(Date)
    earliest_time: Mapped[dt.time | None] = mapped_column(Time)  # local clinic time
    latest_time: Mapped[dt.time | None] = mapped_column(Time)
    clinical_priority: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1 most urgent
    consent_to_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[WaitlistStatus] = mapped_column(
        _enum(WaitlistStatus, "status"), default=WaitlistStatus.WAITING
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_refused_at: Mapped[dt.datetime | None]
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    note: Mapped[str | None] = mapped_column(Text)


class WaitlistOffer(Base):
    """One offer of a freed slot to a waitlisted patient (the dialer's record)."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (
        Index("ix_waitlist_offers_entry_id", "entry_id", "outcome"),
        Index("ix_waitlist_offers_slot_id", "slot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    offered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    outcome: Mapped[OfferOutcome] = mapped_column(
        _enum(OfferOutcome, "outcome"), default=OfferOutcome.PENDING
    )
    responded_at: Mapped[dt.datetime | None]
    call_linkedid: Mapped[str | None] = mapped_column(String(64))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))


class SlotRefill(Base):
    """A place that came free in a slot (a cancellation or an in-time no-show) and the
    dialer's work to refill it from the waitlist: one row per freed appointment."""

    __tablename__ = "slot_refills"
    __table_args__ = (
        Index("ix_slot_refills_status", "status"),
        Index("ix_slot_refills_slot_id", "slot_id"),
        Index("ix_slot_refills_freed_at", "freed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    freed_appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), unique=True)
    freed_by: Mapped[FreedBy] = mapped_column(_enum(FreedBy, "freed_by"))
    freed_at: Mapped[dt.datetime]
    status: Mapped[RefillStatus] = mapped_column(
        _enum(RefillStatus, "status"), default=RefillStatus.OPEN
    )
    closed_at: Mapped[dt.datetime | None]
    filled_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))


class DialerCall(Base):
    """One offer call the dialer placed: to whom, about which refill, and how it ended."""

    __tablename__ = "dialer_calls"
    __table_args__ = (
        Index("ix_dialer_calls_refill_id", "refill_id"),
        Index("ix_dialer_calls_patient_id_started_at", "patient_id", "started_at"),
        Index("ix_dialer_calls_result", "result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refill_id: Mapped[int] = mapped_column(ForeignKey("slot_refills.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("waitlist_offers.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    number_e164: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    result: Mapped[DialerCallResult] = mapped_column(
        _enum(DialerCallResult, "result"), default=DialerCallResult.PENDING
    )
    detail: Mapped[str | None] = mapped_column(String(64))  # AMD cause, originate reason


class ReminderCall(Base):
    """One call to a patient about an appointment of theirs — the day-before reminder or
    the post-visit follow-up survey — and how it ended (with the survey's answers)."""

    __tablename__ = "reminder_calls"
    __table_args__ = (
        Index("ix_reminder_calls_appointment_id", "appointment_id"),
        Index("ix_reminder_calls_result", "result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    kind: Mapped[ReminderKind] = mapped_column(
        _enum(ReminderKind, "kind"), default=ReminderKind.REMINDER
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    number_e164: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    result: Mapped[ReminderResult] = mapped_column(
        _enum(ReminderResult, "result"), default=ReminderResult.PENDING
    )
    detail: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # follow-up survey


# --------------------------------------------------------------------------- calls


class Call(Base):
    """A call as the CTI tracker sees it (Asterisk linkedid); text from the caller side
    is stored as received (Text), never truncated."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_patient_id_arrived_at", "patient_id", "arrived_at"),
        Index("ix_calls_caller_number_e164", "caller_number_e164"),
        Index("ix_calls_arrived_at", "arrived_at"),
        Index(
            "ix_calls_open",
            "arrived_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[CallDirection] = mapped_column(_enum(CallDirection, "direction"))
    caller_number_raw: Mapped[str | None] = mapped_column(Text)
    caller_number_e164: Mapped[str | None] = mapped_column(String(16))
    caller_name: Mapped[str | None] = mapped_column(Text)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    arrived_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    hangup_cause: Mapped[int | None]
    hangup_cause_text: Mapped[str | None] = mapped_column(String(64))

    legs: Mapped[list[CallLeg]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallLeg.created_at"
    )


class CallLeg(Base):
    """One Asterisk channel (uniqueid) of a call."""

    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    hangup_cause: Mapped[int | None]

    call: Mapped[Call] = relationship(back_populates="legs")


class IvrSession(Base):
    """One caller's pass through an IVR flow."""

    __tablename__ = "ivr_sessions"
    __table_args__ = (
        Index("ix_ivr_sessions_call_id", "call_id"),
        # Reports read a period's sessions; outcome and ended_at ride along so that
        # reading a third of the table needs no lookup of each row (measured: a plain
        # started_at index made SQLite's IVR figures 3x slower than a full scan).
        Index("ix_ivr_sessions_started_at", "started_at", "outcome", "ended_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("calls.id", ondelete="SET NULL")
    )
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="SET NULL"), index=True
    )
    # 0007: the flow language the caller used (dialplans/ivr/<language>/): flows are data,
    # so this is any flow directory's name (a Korean test session is "ko"), not an enum.
    language: Mapped[str] = mapped_column(String(20))
    flow: Mapped[str] = mapped_column(String(64))
    identity_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # e.g. booked, to_agent, hangup
    # 0007: what the IVR learnt (who, verified or not, intent, slots, why handed over),
    # written when the session ends; see IvrRepository.end_session.
    findings: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    turns: Mapped[list[IvrTurn]] = relationship(
        cascade="all, delete-orphan", order_by="IvrTurn.seq"
    )


class IvrTurn(Base):
    """One prompt and what the caller answered."""

    __tablename__ = "ivr_turns"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence_range"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("ivr_sessions.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    step: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str | None] = mapped_column(Text)
    heard: Mapped[str | None] = mapped_column(Text)
    dtmf: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    chosen_action: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int | None]


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (
        CheckConstraint("duration_s >= 0", name="duration_not_negative"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        CheckConstraint("length(checksum_sha256) = 64", name="checksum_len"),
        Index("ix_recordings_call_id", "call_id"),
        Index("ix_recordings_retain_until", "retain_until"),
        Index("ix_recordings_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("calls.id", ondelete="SET NULL")
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    path: Mapped[str] = mapped_column(String(512), unique=True)
    format: Mapped[str] = mapped_column(String(16), default="wav")
    duration_s: Mapped[float] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime]
    retain_until: Mapped[dt.datetime]
    deleted_at: Mapped[dt.datetime | None]
    # 0005: what a supervisor searches by, and what the last verification found.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    queue: Mapped[str | None] = mapped_column(String(64))
    channel_uniqueid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[RecordingStatus] = mapped_column(
        _enum(RecordingStatus, "recording_status"),
        default=RecordingStatus.VERIFIED,
        server_default=text("'verified'"),
    )
    checked_at: Mapped[dt.datetime | None]


# --------------------------------------------------------------------------- complaints


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint("length(ticket_number) = 9", name="ticket_len"),
        CheckConstraint("length(description) > 0", name="description_not_empty"),
        CheckConstraint(
            "voice_message_s IS NULL OR voice_message_s >= 0",
            name="voice_message_s_not_negative",
        ),
        Index("ix_complaints_patient_id_status", "patient_id", "status"),
        Index("ix_complaints_status_created_at", "status", "created_at"),
        Index("ix_complaints_created_at", "created_at"),  # opened in a report's period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(9), unique=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("calls.id", ondelete="SET NULL")
    )
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    category: Mapped[ComplaintCategory] = mapped_column(_enum(ComplaintCategory, "category"))
    opened_via: Mapped[BookingChannel] = mapped_column(_enum(BookingChannel, "opened_via"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[ComplaintStatus] = mapped_column(
        _enum(ComplaintStatus, "status"), default=ComplaintStatus.OPEN
    )
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # 0007: the caller's voice message (a file in the configured storage) and its length.
    voice_message_path: Mapped[str | None] = mapped_column(String(512))
    voice_message_s: Mapped[float | None] = mapped_column(Float)

    history: Mapped[list[ComplaintStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="ComplaintStatusChange.id"
    )


class ComplaintStatusChange(Base):
    __tablename__ = "complaint_status_changes"
    # Reports count the complaints closed in a period.
    __table_args__ = (
        Index("ix_complaint_status_changes_to_status_changed_at", "to_status", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[ComplaintStatus | None] = mapped_column(
        _enum(ComplaintStatus, "from_status")
    )
    to_status: Mapped[ComplaintStatus] = mapped_column(_enum(ComplaintStatus, "to_status"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)


# --------------------------------------------------------------------------- audit


class AuditLogEntry(Base):
    """Who viewed or changed which record or recording. Rows are only ever inserted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("user_id IS NOT NULL OR actor IS NOT NULL", name="has_actor"),
        Index("ix_audit_log_entity", "entity_type", "entity_id", "at"),
        Index("ix_audit_log_user_id_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str | None] = mapped_column(String(32))  # system actor: ivr, dialer, import
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction, "action"))
    entity_type: Mapped[AuditEntity] = mapped_column(_enum(AuditEntity, "entity_type"))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --------------------------------------------------------------------------- ACD


class AcdAgentState(Base):
    """An agent's last ACD state, so a pause and its reason survive a restart. Keyed by
    the agent's ACD id (their console login)."""

    __tablename__ = "acd_agent_states"

    agent_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[AgentState] = mapped_column(_enum(AgentState, "state"))
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[dt.datetime]


class AcdCall(Base):
    """What the ACD did with one caller: queued, offered to whom, answered by whom, how
    long they waited, abandoned or not. Keyed by the caller's channel Uniqueid."""

    __tablename__ = "acd_calls"
    __table_args__ = (
        CheckConstraint("offers >= 0", name="offers_not_negative"),
        Index("ix_acd_calls_queued_at", "queued_at"),
    )

    call_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    queued_at: Mapped[dt.datetime]
    offers: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    offered_to: Mapped[str | None] = mapped_column(String(64))  # the latest offer
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[dt.datetime | None]
    wait_s: Mapped[float | None] = mapped_column(Float)  # queued -> answered or abandoned
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ended_at: Mapped[dt.datetime | None]
    # The agent's wrap-up (migration 0006): disposition (CallDisposition value), notes.
    disposition: Mapped[str | None] = mapped_column(String(32))
    agent_notes: Mapped[str | None] = mapped_column(Text)
    wrapped_up_by: Mapped[str | None] = mapped_column(String(64))
    wrapped_up_at: Mapped[dt.datetime | None]
