"""Repositories: the only way the rest of Hotline reads and writes the store.

Each takes an open ``sqlalchemy.orm.Session`` (from ``Database.session()``) and never
commits it: the caller's ``with`` block is the transaction.
"""

from crm_store.repositories.appointments import AppointmentRepository, BookedAppointment
from crm_store.repositories.audit import AuditEntry, AuditLogRepository
from crm_store.repositories.calls import CallLegSnapshot, CallRepository, CallSnapshot
from crm_store.repositories.complaints import (
    ComplaintRepository,
    ComplaintView,
    VoiceMessageListing,
)
from crm_store.repositories.ivr import IvrRepository
from crm_store.repositories.patients import PatientHistory, PatientMatch, PatientRepository
from crm_store.repositories.recordings import (
    NewRecording,
    RecordingListing,
    RecordingRepository,
    RecordingSearch,
    RecordingView,
)
from crm_store.repositories.schedule import (
    DepartmentView,
    DoctorView,
    FreeSlot,
    ScheduleRepository,
)
from crm_store.repositories.users import UserRepository, UserView
from crm_store.repositories.waitlist import WaitlistCandidate, WaitlistRepository

__all__ = [
    "AppointmentRepository",
    "AuditEntry",
    "AuditLogRepository",
    "BookedAppointment",
    "CallLegSnapshot",
    "CallRepository",
    "CallSnapshot",
    "ComplaintRepository",
    "ComplaintView",
    "DepartmentView",
    "DoctorView",
    "FreeSlot",
    "IvrRepository",
    "NewRecording",
    "PatientHistory",
    "PatientMatch",
    "PatientRepository",
    "RecordingListing",
    "RecordingRepository",
    "RecordingSearch",
    "RecordingView",
    "ScheduleRepository",
    "UserRepository",
    "UserView",
    "VoiceMessageListing",
    "WaitlistCandidate",
    "WaitlistRepository",
]
