"""The IVR's actions against the CRM store: what a flow's ``RunAction`` does.

:class:`ActionExecutor` implements every action of :data:`ivr.flows.ACTIONS` that the
engine does not carry out itself, through the :class:`~crm_store.gateway.StoreGateway`
(reads on the reader pool, changes on the single writer). Each returns an
:class:`~ivr.flows.ActionResult` with one of the action's declared outcomes and its values;
text a prompt says (dates, times, reference numbers) comes speakable in the session's
language (:mod:`ivr.speech_text`). A failure of any kind becomes the outcome ``failed``
(the flow routes it, by default to a person): nothing raises into the call.
"""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_store.enums import BookingChannel, ComplaintCategory, ComplaintStatus
from crm_store.errors import (
    AlreadyBooked,
    AppointmentNotCancellable,
    AppointmentNotFound,
    ComplaintNotFound,
    SlotFull,
    SlotInPast,
    SlotNotFound,
)
from crm_store.gateway import StoreGateway
from crm_store.models import utcnow
from crm_store.repositories.appointments import AppointmentRepository, BookedAppointment
from crm_store.repositories.complaints import ComplaintRepository
from crm_store.repositories.patients import PatientRepository
from crm_store.repositories.schedule import (
    DepartmentView,
    DoctorView,
    FreeSlot,
    ScheduleRepository,
)
from cti.settings import Language, Settings
from ivr import speech_text
from ivr.flows import ACTIONS, MAX_OFFERS, ActionResult, RunAction

log = logging.getLogger(__name__)

#: How far ahead "soonest" and a weekday look for free slots.
SOONEST_DAYS = 28
#: How far ahead a doctor's clinic days are read out.
DOCTOR_DAYS_AHEAD = 14
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_STATUS_TEXT: Mapping[Language, Mapping[ComplaintStatus, str]] = {
    Language.MANDARIN: {
        ComplaintStatus.OPEN: "您的投诉已受理，正在等待处理。",
        ComplaintStatus.IN_PROGRESS: "您的投诉正在处理中。",
        ComplaintStatus.RESPONDED: "我们已经答复了您的投诉。",
        ComplaintStatus.CLOSED: "您的投诉已处理完毕并关闭。",
    },
    Language.ENGLISH: {
        ComplaintStatus.OPEN: "Your complaint has been received and is waiting to be handled.",
        ComplaintStatus.IN_PROGRESS: "Your complaint is being handled.",
        ComplaintStatus.RESPONDED: "We have responded to your complaint.",
        ComplaintStatus.CLOSED: "Your complaint has been resolved and closed.",
    },
}
_OPENING_HOURS: Mapping[str, str] = {
    "zh": "门诊时间为星期一至星期六，上午8点至中午12点，下午1点30分至5点30分。急诊二十四小时开放。",
    "en": (
        "Outpatient clinics are open Monday to Saturday, 8 AM to 12 noon and 1:30 to "
        "5:30 PM. The emergency department is open around the clock."
    ),
    "ko": "진료 시간은 월요일부터 토요일까지 오전 여덟 시부터 오후 다섯 시 반까지입니다.",
}


class _Outcome(Exception):
    """Ends an action early with an outcome (and no values)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class _Call:
    params: Mapping[str, str]
    language: str
    speech: Language  # the language speech_text renders in
    patient_id: int | None


_Done = tuple[str, dict[str, str]]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _joined(texts: list[str], speech: Language) -> str:
    return ("；" if speech is Language.MANDARIN else "; ").join(texts)


class ActionExecutor:
    """Carries out a flow's actions on the store; one serves every call."""

    def __init__(self, store: StoreGateway, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.timezone = zoneinfo.ZoneInfo(settings.clinic_timezone)
        self._handlers: Mapping[str, Callable[[_Call], Awaitable[_Done]]] = {
            "lookup": self._lookup,
            "verify_identity": self._verify_identity,
            "list_free_slots": self._list_free_slots,
            "book": self._book,
            "cancel": self._cancel,
            "reschedule": self._reschedule,
            "open_complaint": self._open_complaint,
            "complaint_status": self._complaint_status,
            "hospital_info": self._hospital_info,
        }

    async def run(self, action: RunAction) -> ActionResult:
        """Run ``action``; never raises (a failure is the outcome ``failed``)."""
        handler = self._handlers.get(action.name)
        if handler is None:
            log.error("IVR action %r has no implementation", action.name)
            return ActionResult(action.name, "failed")
        try:
            speech = Language(action.language)
        except ValueError:
            speech = self.settings.language
        call = _Call(action.params, action.language, speech, _int(action.patient_id))
        try:
            outcome, data = await handler(call)
        except _Outcome as early:
            return ActionResult(action.name, early.outcome)
        except Exception:
            log.exception("IVR action %s failed", action.name)
            return ActionResult(action.name, "failed")
        spec = ACTIONS[action.name]
        if outcome not in spec.outcomes:
            log.error("IVR action %s gave undeclared outcome %r", action.name, outcome)
            return ActionResult(action.name, "failed")
        return ActionResult(action.name, outcome, data)

    # -- text --

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.timezone)

    def _when_text(self, moment: dt.datetime, speech: Language) -> str:
        local = self._local(moment)
        date = speech_text.date_text(local.date(), speech)
        time = speech_text.time_text(local.time(), speech)
        if speech is Language.MANDARIN:
            return f"{date}{time}"
        return f"{date} at {time}"

    def _offer_text(self, slot: FreeSlot, speech: Language) -> str:
        when = self._when_text(slot.starts_at, speech)
        if speech is Language.MANDARIN:
            doctor = speech_text.speakable_name(slot.doctor_zh, speech)
            return f"{when}，{doctor}医生" if doctor else when
        doctor = speech_text.speakable_name(slot.doctor_en, speech)
        return f"{when} with Doctor {doctor}" if doctor else when

    def _department_name(self, department: DepartmentView, speech: Language) -> str:
        return department.name_zh if speech is Language.MANDARIN else department.name_en

    @staticmethod
    def _need_patient(call: _Call) -> int:
        if call.patient_id is None:
            raise _Outcome("failed")
        return call.patient_id

    # -- actions --

    async def _lookup(self, call: _Call) -> tuple[str, dict[str, str]]:
        patient_id = self._need_patient(call)
        if call.params.get("what") == "patient":
            record = await self.store.read(lambda s: PatientRepository(s).get(patient_id))
            name = speech_text.speakable_name(record.full_name, call.speech) or ""
            return "found", {"patient_id": str(patient_id), "patient_name": name}
        now = utcnow()
        booked = await self.store.read(
            lambda s: self._appointments_with_departments(s, patient_id, now)
        )
        if not booked:
            return "not_found", {"appointment_count": "0", "appointments_text": ""}
        data = {"appointment_count": str(len(booked))}
        texts = []
        for i, (appointment, department) in enumerate(booked[:MAX_OFFERS], start=1):
            text = self._when_text(appointment.starts_at, call.speech)
            if department is not None:
                name = self._department_name(department, call.speech)
                text = f"{name}，{text}" if call.speech is Language.MANDARIN else f"{name}, {text}"
            data[f"appointment_{i}_reference"] = appointment.reference
            data[f"appointment_{i}_text"] = text
            data[f"appointment_{i}_department"] = department.code if department else ""
            texts.append(text)
        data["appointments_text"] = (
            "；".join(texts) if call.speech is Language.MANDARIN else "; ".join(texts)
        )
        return "found", data

    @staticmethod
    def _appointments_with_departments(
        session: Session, patient_id: int, now: dt.datetime
    ) -> list[tuple[BookedAppointment, DepartmentView | None]]:
        booked = AppointmentRepository(session).for_patient(patient_id, upcoming_only=True, now=now)
        schedule = ScheduleRepository(session)
        out: list[tuple[BookedAppointment, DepartmentView | None]] = []
        for appointment in booked[:MAX_OFFERS]:
            slot = schedule.slot(appointment.slot_id)
            out.append((appointment, schedule.department(slot.department_id)))
        return out

    async def _verify_identity(self, call: _Call) -> tuple[str, dict[str, str]]:
        method = call.params.get("method", "")
        value = call.params.get("value", "").strip()
        mrn = call.params.get("mrn", "").strip() if method == "mrn_dob" else value
        try:
            dob = dt.datetime.strptime(value, "%Y%m%d").date() if method != "mrn" else None
        except ValueError:
            return "failed", {}

        def check(session: Session) -> tuple[int, str] | None:
            patients = PatientRepository(session)
            patient_id = call.patient_id if method == "dob" else patients.find_by_mrn(mrn)
            if patient_id is None:
                return None
            if dob is not None and not patients.verify_identity(patient_id, date_of_birth=dob):
                return None
            return patient_id, patients.get(patient_id).full_name

        if method not in ("dob", "mrn", "mrn_dob") or (method != "dob" and not mrn):
            return "failed", {}
        found = await self.store.read(check)
        if found is None:
            return "failed", {}
        patient_id, full_name = found
        name = speech_text.speakable_name(full_name, call.speech) or ""
        return "verified", {"patient_id": str(patient_id), "patient_name": name}

    def _day_range(self, day: str) -> tuple[dt.datetime, dt.datetime, dt.date | None]:
        """UTC bounds of the wanted day (or of the next weeks for "soonest")."""
        today = dt.datetime.now(self.timezone).date()
        wanted: dt.date | None
        if day in _WEEKDAYS:
            ahead = (_WEEKDAYS.index(day) - today.weekday()) % 7
            wanted = today + dt.timedelta(days=ahead)
        elif day == "today":
            wanted = today
        elif day == "tomorrow":
            wanted = today + dt.timedelta(days=1)
        elif day in ("soonest", ""):
            wanted = None
        else:
            try:
                wanted = dt.date.fromisoformat(day)
            except ValueError:
                raise _Outcome("failed") from None
        if wanted is None:
            start = dt.datetime.combine(today, dt.time(), self.timezone)
            return start, start + dt.timedelta(days=SOONEST_DAYS), None
        start = dt.datetime.combine(wanted, dt.time(), self.timezone)
        return start, start + dt.timedelta(days=1), wanted

    async def _list_free_slots(self, call: _Call) -> tuple[str, dict[str, str]]:
        code = call.params.get("department", "")
        doctor_id = _int(call.params.get("doctor"))
        start, end, wanted = self._day_range(call.params.get("day", ""))

        def find(session: Session) -> tuple[DepartmentView, list[FreeSlot]]:
            schedule = ScheduleRepository(session)
            department = schedule.department_by_code(code)
            if department is None:
                raise _Outcome("failed")
            slots = schedule.free_slots(
                department_id=department.department_id,
                doctor_id=doctor_id,
                start=start.astimezone(dt.UTC),
                end=end.astimezone(dt.UTC),
                limit=MAX_OFFERS,
            )
            return department, slots

        department, slots = await self.store.read(find)
        data = {
            "department_name": self._department_name(department, call.speech),
            "day_text": "" if wanted is None else speech_text.date_text(wanted, call.speech),
            "offer_count": str(len(slots)),
        }
        if not slots:
            data["offers_text"] = ""
            return "none", data
        texts = []
        for i, slot in enumerate(slots, start=1):
            text = self._offer_text(slot, call.speech)
            data[f"offer_{i}_id"] = str(slot.slot_id)
            data[f"offer_{i}_text"] = text
            texts.append(text)
        data["offers_text"] = (
            "；".join(texts) if call.speech is Language.MANDARIN else "; ".join(texts)
        )
        return "found", data

    def _booked_values(self, booked: BookedAppointment, speech: Language) -> dict[str, str]:
        when = self._when_text(booked.starts_at, speech)
        return {
            "reference": booked.reference,
            "reference_text": speech_text.reference_text(booked.reference, speech),
            "booked_text": f"就诊时间{when}。" if speech is Language.MANDARIN else f"{when}.",
        }

    async def _book(self, call: _Call) -> tuple[str, dict[str, str]]:
        patient_id = self._need_patient(call)
        slot_id = _int(call.params.get("slot_id"))
        if slot_id is None:
            return "failed", {}
        try:
            booked = await self.store.write(
                lambda s: AppointmentRepository(s).book(
                    patient_id=patient_id, slot_id=slot_id, booked_by=BookingChannel.IVR
                )
            )
        except (SlotFull, SlotInPast, AlreadyBooked, SlotNotFound):
            return "taken", {}
        return "booked", self._booked_values(booked, call.speech)

    async def _cancel(self, call: _Call) -> tuple[str, dict[str, str]]:
        patient_id = self._need_patient(call)
        reference = call.params.get("reference", "")
        try:
            cancelled = await self.store.write(
                lambda s: AppointmentRepository(s).cancel(
                    reference, cancelled_by=BookingChannel.IVR, patient_id=patient_id
                )
            )
        except (AppointmentNotFound, AppointmentNotCancellable):
            return "not_found", {}
        when = self._when_text(cancelled.starts_at, call.speech)
        text = f"{when}的预约已取消。" if call.speech is Language.MANDARIN else f"{when}."
        return "cancelled", {"cancelled_text": text}

    async def _reschedule(self, call: _Call) -> tuple[str, dict[str, str]]:
        patient_id = self._need_patient(call)
        reference = call.params.get("reference", "")
        slot_id = _int(call.params.get("slot_id"))
        if slot_id is None:
            return "failed", {}
        try:
            booked = await self.store.write(
                lambda s: AppointmentRepository(s).reschedule(
                    reference,
                    new_slot_id=slot_id,
                    changed_by=BookingChannel.IVR,
                    patient_id=patient_id,
                )
            )
        except (AppointmentNotFound, AppointmentNotCancellable):
            return "not_found", {}
        except (SlotFull, SlotInPast, AlreadyBooked, SlotNotFound):
            return "taken", {}
        return "rescheduled", self._booked_values(booked, call.speech)

    async def _open_complaint(self, call: _Call) -> tuple[str, dict[str, str]]:
        try:
            category = ComplaintCategory(call.params.get("category", "other"))
        except ValueError:
            category = ComplaintCategory.OTHER
        description = call.params.get("description", "").strip() or "(IVR)"
        code = call.params.get("department", "")
        # The caller's voice message (keypad mode): a file the adapter kept in storage.
        voice_message = call.params.get("voice_message", "").strip() or None
        try:
            voice_message_s = float(call.params.get("voice_message_s", ""))
        except ValueError:
            voice_message_s = None

        def open_(session: Session) -> str:
            department = ScheduleRepository(session).department_by_code(code) if code else None
            department_id = None if department is None else department.department_id
            return ComplaintRepository(session).open(
                category=category,
                description=description,
                opened_via=BookingChannel.IVR,
                patient_id=call.patient_id,
                department_id=department_id,
                voice_message_path=voice_message,
                voice_message_s=voice_message_s if voice_message else None,
            )

        ticket = await self.store.write(open_)
        return "opened", {
            "ticket_number": ticket,
            "ticket_number_text": speech_text.reference_text(ticket, call.speech),
        }

    async def _complaint_status(self, call: _Call) -> tuple[str, dict[str, str]]:
        ticket = "".join(c for c in call.params.get("ticket", "") if c.isdigit())
        if not ticket:
            return "not_found", {}
        try:
            status = await self.store.lookup(lambda s: ComplaintRepository(s).status_of(ticket))
        except ComplaintNotFound:
            return "not_found", {}
        texts = _STATUS_TEXT.get(call.speech, _STATUS_TEXT[Language.ENGLISH])
        return "found", {"complaint_status_text": texts[status]}

    async def _hospital_info(self, call: _Call) -> tuple[str, dict[str, str]]:
        topic = call.params.get("topic", "")
        if topic == "opening_hours":
            text = _OPENING_HOURS.get(call.language, _OPENING_HOURS["en"])
            return "found", {"info_text": text}
        if topic == "departments":
            departments = await self.store.read(lambda s: ScheduleRepository(s).departments())
            if not departments:
                return "not_found", {}
            shown = [self._department_name(d, call.speech) for d in departments]
            if call.speech is Language.MANDARIN:
                return "found", {"info_text": "本院设有" + "、".join(shown) + "。"}
            return "found", {"info_text": "Our departments are " + ", ".join(shown) + "."}
        if topic == "doctor_days":
            doctor_id = _int(call.params.get("doctor"))
            if doctor_id is None:
                return "not_found", {}
            now = utcnow()

            def days(session: Session) -> tuple[DoctorView | None, list[dt.datetime]]:
                schedule = ScheduleRepository(session)
                starts = schedule.session_starts(
                    doctor_id, start=now, end=now + dt.timedelta(days=DOCTOR_DAYS_AHEAD)
                )
                return schedule.doctor(doctor_id), starts

            doctor, starts = await self.store.read(days)
            if doctor is None or not starts:
                return "not_found", {}
            seen: dict[str, None] = {}
            for start in starts:
                seen[self._when_text(start, call.speech)] = None
            shown = list(seen)[:4]
            if call.speech is Language.MANDARIN:
                name = speech_text.speakable_name(doctor.name_zh, call.speech) or ""
                return "found", {"info_text": f"{name}医生近期出诊时间：" + "；".join(shown) + "。"}
            name = speech_text.speakable_name(doctor.name_en, call.speech) or ""
            return "found", {"info_text": f"Doctor {name} sees patients " + "; ".join(shown) + "."}
        return "failed", {}
