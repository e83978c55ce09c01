"""Enumerations stored in the CRM database.

Values are the strings written to the database (lowercase, stable): renaming a member is
free, changing a value needs a migration.
"""

# (str, Enum) rather than StrEnum: str() of a member stays "Role.ADMIN" in logs and reprs.
from __future__ import annotations

import enum


class CallDirection(str, enum.Enum):
    """Which way a call goes, as the CTI tracker classifies it."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


class Role(str, enum.Enum):
    """A console user's duty. Roles are not ranks: each gets its own set of accesses
    (``screenpop.auth.ROLES_WITH``) — agents handle calls, supervisors see patient data
    and operations, admins manage users and see operations but no patient data."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Sex(str, enum.Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class PreferredLanguage(str, enum.Enum):
    """Prompt language of a patient, and the hotline's prompt languages
    (``cti.settings.Language`` is this enum)."""

    MANDARIN = "zh"
    ENGLISH = "en"


class AppointmentStatus(str, enum.Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class BookingChannel(str, enum.Enum):
    """Who or what booked (or cancelled) an appointment."""

    IVR = "ivr"
    AGENT = "agent"
    DIALER = "dialer"
    IMPORT = "import"


class WaitlistStatus(str, enum.Enum):
    WAITING = "waiting"
    OFFERED = "offered"  # a slot offer is in flight (the dialer is calling)
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OfferOutcome(str, enum.Enum):
    """What happened when a freed slot was offered to a waitlisted patient."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    FAILED = "failed"


class ComplaintCategory(str, enum.Enum):
    SERVICE = "service"
    WAITING_TIME = "waiting_time"
    STAFF_ATTITUDE = "staff_attitude"
    MEDICAL_CARE = "medical_care"
    BILLING = "billing"
    FACILITIES = "facilities"
    OTHER = "other"


class ComplaintStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESPONDED = "responded"
    CLOSED = "closed"


#: Statuses a caller would call "still open".
OPEN_COMPLAINT_STATUSES = frozenset(
    {ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESPONDED}
)


class AuditAction(str, enum.Enum):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PLAY = "play"
    EXPORT = "export"
    LOGIN = "login"


class RecordingStatus(str, enum.Enum):
    """What the last check of a recording's file found."""

    VERIFIED = "verified"  # present, checksum as indexed
    MISSING = "missing"  # the file is gone
    DAMAGED = "damaged"  # present but its size/checksum/header is not what was indexed
    DELETED = "deleted"  # removed at the end of its retention (the row stays as the trace)


class AuditEntity(str, enum.Enum):
    PATIENT = "patient"
    APPOINTMENT = "appointment"
    RECORDING = "recording"
    COMPLAINT = "complaint"
    CALL = "call"
    USER = "user"


class RefillStatus(str, enum.Enum):
    """Where the dialer is with one freed slot."""

    OPEN = "open"  # being offered
    FILLED = "filled"  # a waitlisted patient took it
    TOO_SOON = "too_soon"  # it started too soon to be offered any longer
    EXHAUSTED = "exhausted"  # nobody left on the waitlist to phone
    DISABLED = "disabled"  # the dialer is switched off


class FreedBy(str, enum.Enum):
    """Why a slot's place came free."""

    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class DialerCallResult(str, enum.Enum):
    """How one offer call ended (finer than the waitlist offer's outcome)."""

    PENDING = "pending"  # dialling or talking
    ACCEPTED = "accepted"  # pressed 1 and got the place
    SLOT_TAKEN = "slot_taken"  # pressed 1, but another patient had just taken the last place
    DECLINED = "declined"  # pressed 2
    NO_INPUT = "no_input"  # answered, never chose
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"  # Asterisk's AMD heard an answering machine
    FAILED = "failed"  # could not be placed, or never reported back


class ReminderKind(str, enum.Enum):
    """Why the dialer phones a patient about an appointment of theirs."""

    REMINDER = "reminder"  # the day before: confirm or cancel
    FOLLOW_UP = "follow_up"  # after the visit: a short survey


class ReminderResult(str, enum.Enum):
    """How one reminder or follow-up call ended."""

    PENDING = "pending"
    CONFIRMED = "confirmed"  # reminder: pressed 1
    COMPLETED = "completed"  # follow-up: every survey question answered
    CANCELLED = "cancelled"  # pressed 2: the appointment is cancelled and its place refilled
    NO_INPUT = "no_input"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"
    FAILED = "failed"


class CallDisposition(str, enum.Enum):
    """How the agent closed a call (stored on the ACD's call row, read by reports)."""

    RESOLVED = "resolved"
    BOOKED = "booked"
    CHANGED = "changed"  # cancelled or rescheduled
    INFORMATION = "information"
    COMPLAINT = "complaint"
    CALL_BACK = "call_back"  # the hospital owes the caller a call
    WRONG_NUMBER = "wrong_number"
    OTHER = "other"
