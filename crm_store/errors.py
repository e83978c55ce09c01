"""Domain errors of the CRM store.

Every error the repositories raise derives from :class:`StoreError`; database-library
errors are translated at the repository boundary (``raise SlotFull(...) from exc``), so
callers never catch SQLAlchemy exceptions. Messages say what to do next and never carry
patient identifiers (names, numbers, national ids) — they may end up in logs.

::

    StoreError
    ├── NotFound
    │   ├── PatientNotFound
    │   ├── SlotNotFound
    │   ├── AppointmentNotFound
    │   ├── WaitlistEntryNotFound
    │   ├── ComplaintNotFound
    │   └── UserNotFound
    ├── BookingRefused
    │   ├── SlotFull
    │   ├── SlotInPast
    │   ├── AlreadyBooked
    │   └── AppointmentNotCancellable
    ├── InvalidRecord
    ├── InvalidTransition
    ├── DuplicateUser
    ├── StoreBusy
    └── MigrationError
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error raised by crm_store."""


class NotFound(StoreError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class RecordingNotFound(NotFound):
    def __init__(self, recording_id: int, why: str = "no such recording") -> None:
        super().__init__(f"recording {recording_id}: {why}")
        self.recording_id = recording_id


class PatientNotFound(NotFound):
    def __init__(self, patient_id: int) -> None:
        super().__init__(f"no patient with id {patient_id}; look the patient up again")
        self.patient_id = patient_id


class AcdCallNotFound(NotFound):
    def __init__(self, call_key: str) -> None:
        super().__init__(
            f"call {call_key[:64]!r} never reached the agents' queue; nothing to wrap up"
        )
        self.call_key = call_key


class SlotNotFound(NotFound):
    def __init__(self, slot_id: int) -> None:
        super().__init__(f"no bookable slot with id {slot_id}; list free slots again")
        self.slot_id = slot_id


class AppointmentNotFound(NotFound):
    def __init__(self, reference: str) -> None:
        super().__init__(
            f"no appointment with reference {reference!r} for this patient; "
            "ask the caller to read the reference number again"
        )
        self.reference = reference


class WaitlistEntryNotFound(NotFound):
    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no waitlist entry with id {entry_id}")
        self.entry_id = entry_id


class ComplaintNotFound(NotFound):
    def __init__(self, ticket_number: str) -> None:
        super().__init__(
            f"no complaint with ticket number {ticket_number!r}; "
            "ask the caller to read the ticket number again"
        )
        self.ticket_number = ticket_number


class VoiceMessageNotFound(NotFound):
    def __init__(self, complaint_id: int) -> None:
        super().__init__(f"complaint {complaint_id} has no voice message (or does not exist)")
        self.complaint_id = complaint_id


class UserNotFound(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user named {username!r}")
        self.username = username


class BookingRefused(StoreError):
    """A booking, cancellation or reschedule could not be made; nothing was changed."""


class SlotFull(BookingRefused):
    def __init__(self, slot_id: int) -> None:
        super().__init__(
            f"slot {slot_id} has no place left; offer another free slot or the waitlist"
        )
        self.slot_id = slot_id


class SlotInPast(BookingRefused):
    def __init__(self, slot_id: int) -> None:
        super().__init__(f"slot {slot_id} has already started; offer a later slot")
        self.slot_id = slot_id


class AlreadyBooked(BookingRefused):
    def __init__(self, slot_id: int) -> None:
        super().__init__(
            f"the patient already holds a booking in slot {slot_id}; "
            "read out the existing reference instead of booking again"
        )
        self.slot_id = slot_id


class AppointmentNotCancellable(BookingRefused):
    def __init__(self, reference: str, status: str) -> None:
        super().__init__(
            f"appointment {reference!r} is {status}, only booked appointments can be "
            "cancelled or rescheduled"
        )
        self.reference = reference
        self.status = status


class InvalidTransition(StoreError):
    def __init__(self, what: str, current: str, wanted: str) -> None:
        super().__init__(f"{what} cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


class DuplicateUser(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} exists already; pick another username")
        self.username = username


class StoreBusy(StoreError):
    """SQLite refused a write because another writer holds the database."""

    def __init__(self) -> None:
        super().__init__(
            "the database is busy with another writer; retry the operation in a fresh "
            "session (on SQLite, open write sessions with Database.session(immediate=True))"
        )


class MigrationError(StoreError):
    """The schema could not be brought to the current revision."""


class InvalidRecord(StoreError):
    """Input that would put bad data in the store (never echoes patient identifiers)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
