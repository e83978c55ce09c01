"""Repositories on SQLite and PostgreSQL (the ``database`` fixture runs each test on both)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError

from crm_store.database import Database
from crm_store.enums import (
    AppointmentStatus,
    AuditAction,
    AuditEntity,
    BookingChannel,
    CallDirection,
    ComplaintCategory,
    ComplaintStatus,
    OfferOutcome,
    PreferredLanguage,
    Role,
    Sex,
)
from crm_store.errors import (
    AlreadyBooked,
    AppointmentNotCancellable,
    AppointmentNotFound,
    ComplaintNotFound,
    InvalidRecord,
    InvalidTransition,
    SlotFull,
    SlotInPast,
)
from crm_store.identifiers import clean_reference
from crm_store.models import IvrSession, Patient, Slot
from crm_store.repositories import (
    AppointmentRepository,
    AuditLogRepository,
    CallLegSnapshot,
    CallRepository,
    CallSnapshot,
    ComplaintRepository,
    PatientRepository,
    ScheduleRepository,
    UserRepository,
    WaitlistRepository,
)

NOW = dt.datetime(2030, 3, 4, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, a Monday
NATIONAL_ID = "11010519491231002X"


@dataclass
class Hospital:
    department_id: int
    other_department_id: int
    doctor_id: int
    other_doctor_id: int
    slot_ids: list[int]  # Monday 2030-03-04 10:00-12:00 Shanghai, 15 min, capacity 1
    patient_id: int
    daughter_id: int


def build_hospital(database: Database) -> Hospital:
    with database.session() as session:
        schedule = ScheduleRepository(session)
        cardiology = schedule.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
        derm = schedule.add_department(code="DERM", name_zh="皮肤科", name_en="Dermatology")
        doctor = schedule.add_doctor(department_id=cardiology, name_zh="李明", name_en="Li Ming")
        other = schedule.add_doctor(department_id=cardiology, name_zh="王芳", name_en="Wang Fang")
        start = dt.datetime(2030, 3, 4, 2, 0, tzinfo=dt.UTC)
        slot_ids = schedule.add_session(
            doctor_id=doctor, starts_at=start, ends_at=start + dt.timedelta(hours=2)
        )
        patients = PatientRepository(session)
        mother = patients.create(
            mrn="MRN0001",
            full_name="张秀英",
            family_name="张",
            given_name="秀英",
            sex=Sex.FEMALE,
            date_of_birth=dt.date(1949, 12, 31),
            national_id=NATIONAL_ID,
            chronic=True,
            numbers=[("138 0013 8000", None), ("010-6552 8899", None)],
        )
        daughter = patients.create(
            mrn="MRN0002",
            full_name="Emily Zhang",
            preferred_language=PreferredLanguage.ENGLISH,
            vip=True,
            numbers=[("+86 139 1000 2000", None)],
        )
        # The daughter's mobile is also a family number on the mother's record.
        patients.add_phone_number(mother, "0086 139-1000-2000", relation="daughter")
    return Hospital(cardiology, derm, doctor, other, slot_ids, mother, daughter)


def test_find_by_phone_returns_own_numbers_first(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        patients = PatientRepository(session)
        matches = patients.find_by_phone("+8613910002000")
        assert [(m.patient_id, m.relation) for m in matches] == [
            (h.daughter_id, None),
            (h.patient_id, "daughter"),
        ]
        assert matches[0].display_name == "Emily Zhang"
        assert matches[0].preferred_language == "en" and matches[0].vip
        landline = patients.find_by_phone("+861065528899")
        assert [m.patient_id for m in landline] == [h.patient_id]
        assert landline[0].chronic and landline[0].preferred_language == "zh"
        assert patients.find_by_phone("+8613700000000") == []


def test_find_by_phone_sees_changes_not_yet_flushed(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        patients = PatientRepository(session)
        # Re-adding a number the patient has only changes its relation, in memory.
        patients.add_phone_number(h.patient_id, "13910002000", relation="granddaughter")
        matches = patients.find_by_phone("+8613910002000")
        assert [(m.patient_id, m.relation) for m in matches] == [
            (h.daughter_id, None),
            (h.patient_id, "granddaughter"),
        ]


def test_national_id_is_never_stored_in_full(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        patients = PatientRepository(session)
        assert patients.find_by_national_id("110105 19491231 002x") == h.patient_id
        assert patients.get(h.patient_id).national_id_masked == "*" * 14 + "002X"
        row = session.execute(select(Patient.__table__)).mappings().all()
        dumped = repr(row)
        assert NATIONAL_ID not in dumped and NATIONAL_ID.lower() not in dumped
        assert patients.verify_identity(h.patient_id, date_of_birth=dt.date(1949, 12, 31))
        assert not patients.verify_identity(h.patient_id, date_of_birth=dt.date(1950, 1, 1))


def test_invalid_patient_input_is_refused(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        patients = PatientRepository(session)
        with pytest.raises(InvalidRecord):
            patients.create(mrn="MRN0001", full_name="Duplicate")
        with pytest.raises(InvalidRecord) as info:
            patients.add_phone_number(h.patient_id, "call me maybe")
        assert "call me" not in str(info.value)
        with pytest.raises(InvalidRecord):
            patients.create(mrn="X1", full_name="  ")


def test_constraints_keep_bad_rows_out(database: Database) -> None:
    h = build_hospital(database)
    with pytest.raises(IntegrityError), database.session() as session:
        session.execute(update(Slot).where(Slot.id == h.slot_ids[0]).values(booked=5))
    with pytest.raises(IntegrityError), database.session() as session:
        session.execute(
            text(
                "INSERT INTO phone_numbers (patient_id, e164, raw, is_primary, created_at) "
                "VALUES (:p, '13800138000', 'x', false, '2030-01-01')"
            ),
            {"p": h.patient_id},
        )
    with pytest.raises(IntegrityError), database.session() as session:
        session.execute(
            text("UPDATE patients SET sex = 'robot' WHERE id = :p"), {"p": h.patient_id}
        )


def count_statements(database: Database) -> list[str]:
    statements: list[str] = []

    @event.listens_for(database.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.startswith(("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK")):
            statements.append(statement)

    return statements


def test_screen_pop_history_is_one_statement(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        appointments = AppointmentRepository(session)
        first = appointments.book(
            patient_id=h.patient_id, slot_id=h.slot_ids[0], booked_by=BookingChannel.IVR, now=NOW
        )
        second = appointments.book(
            patient_id=h.patient_id, slot_id=h.slot_ids[3], booked_by=BookingChannel.AGENT, now=NOW
        )
        appointments.cancel(second.reference, cancelled_by=BookingChannel.IVR, now=NOW)
        CallRepository(session).save(make_call("1700000000.1", patient_id=h.patient_id))
        ticket = ComplaintRepository(session).open(
            category=ComplaintCategory.WAITING_TIME,
            description="waited two hours",
            opened_via=BookingChannel.IVR,
            patient_id=h.patient_id,
        )
    statements = count_statements(database)
    with database.session() as session:
        history = PatientRepository(session).history(h.patient_id, now=NOW)
    assert len(statements) == 1, statements
    assert history.patient.full_name == "张秀英" and history.patient.chronic
    masked = history.patient.national_id_masked
    assert masked is not None and masked.endswith("002X")
    assert [a.reference for a in history.upcoming_appointments] == [first.reference]
    upcoming = history.upcoming_appointments[0]
    assert upcoming.starts_at == dt.datetime(2030, 3, 4, 2, 0, tzinfo=dt.UTC)
    assert upcoming.department_en == "Cardiology" and upcoming.doctor_zh == "李明"
    assert history.recent_appointments == ()  # the cancelled one is in the future too
    assert [c.linkedid for c in history.recent_calls] == ["1700000000.1"]
    assert history.recent_calls[0].arrived_at.tzinfo is not None
    assert [c.ticket_number for c in history.open_complaints] == [ticket]
    assert {n.e164 for n in history.numbers} == {
        "+8613800138000",
        "+861065528899",
        "+8613910002000",
    }
    assert history.numbers[0].is_primary
    # Later, everything is in the past.
    with database.session() as session:
        later = PatientRepository(session).history(h.patient_id, now=NOW + dt.timedelta(days=30))
    assert later.upcoming_appointments == ()
    assert [a.status for a in later.recent_appointments] == [
        AppointmentStatus.CANCELLED,
        AppointmentStatus.BOOKED,
    ]


def test_free_slots_and_booking_lifecycle(database: Database) -> None:
    h = build_hospital(database)
    end = NOW + dt.timedelta(days=7)
    with database.session() as session:
        schedule = ScheduleRepository(session)
        free = schedule.free_slots(department_id=h.department_id, end=end, now=NOW)
        assert [s.slot_id for s in free] == h.slot_ids and len(free) == 8
        assert free[0].places_left == 1 and free[0].doctor_en == "Li Ming"
        assert schedule.free_slots(doctor_id=h.other_doctor_id, end=end, now=NOW) == []
        assert schedule.free_slots(department_id=h.other_department_id, end=end, now=NOW) == []

        appointments = AppointmentRepository(session)
        booked = appointments.book(
            patient_id=h.patient_id, slot_id=h.slot_ids[0], booked_by=BookingChannel.IVR, now=NOW
        )
        assert clean_reference(booked.reference) == booked.reference
        assert booked.starts_at == free[0].starts_at
        with pytest.raises(SlotFull):
            appointments.book(
                patient_id=h.daughter_id,
                slot_id=h.slot_ids[0],
                booked_by=BookingChannel.AGENT,
                now=NOW,
            )
        with pytest.raises(SlotInPast):
            appointments.book(
                patient_id=h.daughter_id,
                slot_id=h.slot_ids[1],
                booked_by=BookingChannel.AGENT,
                now=NOW + dt.timedelta(days=1),
            )
        free_after = schedule.free_slots(department_id=h.department_id, end=end, now=NOW)
        assert h.slot_ids[0] not in [s.slot_id for s in free_after]
        # Someone else's reference is not found for this caller.
        with pytest.raises(AppointmentNotFound):
            appointments.cancel(
                booked.reference, cancelled_by=BookingChannel.IVR, patient_id=h.daughter_id, now=NOW
            )
        moved = appointments.reschedule(
            booked.reference,
            new_slot_id=h.slot_ids[2],
            changed_by=BookingChannel.IVR,
            patient_id=h.patient_id,
            now=NOW,
        )
        assert moved.reference != booked.reference and moved.slot_id == h.slot_ids[2]
        assert appointments.get(booked.reference).status is AppointmentStatus.CANCELLED
        assert schedule.slot(h.slot_ids[0]).places_left == 1
        assert schedule.slot(h.slot_ids[2]).places_left == 0
        # A failed reschedule changes nothing.
        appointments.book(
            patient_id=h.daughter_id, slot_id=h.slot_ids[4], booked_by=BookingChannel.AGENT, now=NOW
        )
        with pytest.raises(SlotFull):
            appointments.reschedule(
                moved.reference, new_slot_id=h.slot_ids[4], changed_by=BookingChannel.AGENT, now=NOW
            )
        assert appointments.get(moved.reference).status is AppointmentStatus.BOOKED
        assert schedule.slot(h.slot_ids[2]).places_left == 0

        cancelled = appointments.cancel(
            moved.reference, cancelled_by=BookingChannel.AGENT, reason="feeling better", now=NOW
        )
        assert cancelled.slot_id == h.slot_ids[2]
        assert schedule.slot(h.slot_ids[2]).places_left == 1
        with pytest.raises(AppointmentNotCancellable):
            appointments.cancel(moved.reference, cancelled_by=BookingChannel.AGENT, now=NOW)
        with pytest.raises(AppointmentNotFound):
            appointments.get("123456789")


def test_same_patient_cannot_hold_a_slot_twice(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        schedule = ScheduleRepository(session)
        start = dt.datetime(2030, 3, 5, 2, 0, tzinfo=dt.UTC)
        [group_slot] = schedule.add_session(
            doctor_id=h.other_doctor_id,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            slot_minutes=60,
            capacity=5,
        )
        appointments = AppointmentRepository(session)
        first = appointments.book(
            patient_id=h.patient_id, slot_id=group_slot, booked_by=BookingChannel.IVR, now=NOW
        )
        with pytest.raises(AlreadyBooked):
            appointments.book(
                patient_id=h.patient_id, slot_id=group_slot, booked_by=BookingChannel.AGENT, now=NOW
            )
        assert schedule.slot(group_slot).places_left == 4  # the refused booking took nothing
        appointments.cancel(first.reference, cancelled_by=BookingChannel.IVR, now=NOW)
        appointments.book(
            patient_id=h.patient_id, slot_id=group_slot, booked_by=BookingChannel.IVR, now=NOW
        )  # allowed again after cancel


def test_waitlist_candidates_fit_and_rank(database: Database) -> None:
    h = build_hospital(database)
    slot = h.slot_ids[0]  # 2030-03-04 10:00-10:15 Shanghai, cardiology, doctor Li
    monday = dt.date(2030, 3, 4)
    with database.session() as session:
        patients = PatientRepository(session)
        ids = [
            patients.create(
                mrn=f"W{i}", full_name=f"Waiting {i}", numbers=[(f"1391111{i:04d}", None)]
            )
            for i in range(8)
        ]
        waitlist = WaitlistRepository(session)

        def add(i: int, **kw: object) -> int:
            args: dict[str, object] = dict(
                patient_id=ids[i],
                department_id=h.department_id,
                earliest_date=monday - dt.timedelta(days=3),
                latest_date=monday + dt.timedelta(days=3),
                consent_to_call=True,
            )
            args.update(kw)
            return waitlist.add(**args)  # type: ignore[arg-type]

        early_p3 = add(0, clinical_priority=3)
        urgent = add(1, clinical_priority=1)
        later_p3 = add(2, clinical_priority=3)
        add(3, consent_to_call=False)  # no consent
        add(4, department_id=h.other_department_id)  # wrong department
        add(5, doctor_id=h.other_doctor_id)  # asked for another doctor
        add(6, earliest_time=dt.time(14, 0))  # afternoons only
        refused = add(7, doctor_id=h.doctor_id, latest_time=dt.time(10, 15))
        # created_at ordering: make the waits distinct and known
        from crm_store.models import WaitlistEntry

        for offset, entry in enumerate([early_p3, urgent, later_p3]):
            session.get_one(WaitlistEntry, entry).created_at = NOW - dt.timedelta(days=10 - offset)
        session.get_one(WaitlistEntry, refused).created_at = NOW - dt.timedelta(days=20)
        session.flush()

        found = waitlist.candidates_for_slot(slot, now=NOW)
        assert [c.entry_id for c in found] == [urgent, refused, early_p3, later_p3]
        assert found[0].phone_e164 == "+8613911110001"

        offer = waitlist.record_offer(refused, slot, now=NOW)
        with pytest.raises(InvalidTransition):
            waitlist.record_offer(refused, slot, now=NOW)
        assert refused not in [c.entry_id for c in waitlist.candidates_for_slot(slot, now=NOW)]
        waitlist.record_outcome(offer, OfferOutcome.REFUSED, now=NOW)
        soon = waitlist.candidates_for_slot(slot, now=NOW + dt.timedelta(days=1))
        assert refused not in [c.entry_id for c in soon]
        much_later = waitlist.candidates_for_slot(slot, now=NOW + dt.timedelta(days=8))
        assert refused in [c.entry_id for c in much_later]

        offer = waitlist.record_offer(urgent, slot, now=NOW)
        booked = AppointmentRepository(session).book(
            patient_id=ids[1], slot_id=slot, booked_by=BookingChannel.DIALER, now=NOW
        )
        waitlist.record_outcome(
            offer, OfferOutcome.ACCEPTED, appointment_id=booked.appointment_id, now=NOW
        )
        assert urgent not in [c.entry_id for c in waitlist.candidates_for_slot(slot, now=NOW)]


def test_complaints_by_ticket_number(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        complaints = ComplaintRepository(session)
        ticket = complaints.open(
            category=ComplaintCategory.STAFF_ATTITUDE,
            description="rude at the desk",
            opened_via=BookingChannel.IVR,
            patient_id=h.patient_id,
            department_id=h.department_id,
        )
        assert clean_reference(ticket) == ticket
        view = complaints.get(ticket, patient_id=h.patient_id)
        assert view.status is ComplaintStatus.OPEN and len(view.history) == 1
        with pytest.raises(ComplaintNotFound):
            complaints.get(ticket, patient_id=h.daughter_id)
        complaints.change_status(ticket, ComplaintStatus.IN_PROGRESS, note="assigned")
        done = complaints.change_status(
            ticket, ComplaintStatus.RESPONDED, response="We apologise; staff retrained."
        )
        assert [c.to_status for c in done.history] == [
            ComplaintStatus.OPEN,
            ComplaintStatus.IN_PROGRESS,
            ComplaintStatus.RESPONDED,
        ]
        assert done.response and done.opened_at.tzinfo is not None
        complaints.change_status(ticket, ComplaintStatus.CLOSED)
        assert complaints.status_of(ticket) is ComplaintStatus.CLOSED
        with pytest.raises(InvalidTransition):
            complaints.change_status(ticket, ComplaintStatus.RESPONDED)
        with pytest.raises(ComplaintNotFound):
            complaints.get("000000000")
        with pytest.raises(ComplaintNotFound):
            complaints.status_of("000000000")


def test_audit_log_write_and_read(database: Database) -> None:
    h = build_hospital(database)
    with database.session() as session:
        users = UserRepository(session)
        agent = users.create(
            username="agent1", display_name="Agent One", role=Role.AGENT, password="agent-dev-pass"
        )
        audit = AuditLogRepository(session)
        audit.write(
            action=AuditAction.VIEW,
            entity_type=AuditEntity.PATIENT,
            entity_id=h.patient_id,
            user_id=agent,
            detail={"screen": "pop"},
            now=NOW,
        )
        audit.write(
            action=AuditAction.UPDATE,
            entity_type=AuditEntity.PATIENT,
            entity_id=h.patient_id,
            actor="ivr",
            now=NOW + dt.timedelta(seconds=1),
        )
        with pytest.raises(InvalidRecord):
            audit.write(action=AuditAction.VIEW, entity_type=AuditEntity.PATIENT, entity_id=1)
    with database.session() as session:
        audit = AuditLogRepository(session)
        entries = audit.for_entity(AuditEntity.PATIENT, h.patient_id)
        assert [(e.action, e.actor) for e in entries] == [
            (AuditAction.UPDATE, "ivr"),
            (AuditAction.VIEW, None),
        ]
        assert entries[1].detail == {"screen": "pop"} and entries[1].at == NOW
        assert [e.action for e in audit.by_user(agent)] == [AuditAction.VIEW]


def test_users_authenticate(database: Database) -> None:
    with database.session() as session:
        users = UserRepository(session)
        users.create(
            username="sup",
            display_name="Supervisor",
            role=Role.SUPERVISOR,
            password="correct horse",
        )
        supervisor = users.authenticate("sup", "correct horse")
        assert supervisor is not None and supervisor.role is Role.SUPERVISOR
        assert users.authenticate("sup", "wrong") is None
        assert users.authenticate("nobody", "correct horse") is None
        agent_user = users.create(
            username="a1", display_name="A", role=Role.AGENT, password="agent-pass"
        )
        users.add_agent(
            agent_user,
            extension="1001",
            skills=[("booking", 7)],
            languages=[PreferredLanguage.MANDARIN, PreferredLanguage.ENGLISH],
        )


def make_call(
    linkedid: str, *, patient_id: int | None = None, ended: bool = False, name: str | None = "ZHANG"
) -> CallSnapshot:
    arrived = NOW
    return CallSnapshot(
        linkedid=linkedid,
        direction=CallDirection.INBOUND,
        caller_number_raw="13800138000",
        caller_number_e164="+8613800138000",
        caller_name=name,
        patient_id=patient_id,
        arrived_at=arrived,
        answered_at=None,
        ended_at=arrived + dt.timedelta(minutes=3) if ended else None,
        hangup_cause=16 if ended else None,
        hangup_cause_text="Normal Clearing" if ended else None,
        legs=(
            CallLegSnapshot(
                uniqueid=linkedid,
                channel="PJSIP/trunk-00000001",
                created_at=arrived,
                answered_at=None,
                ended_at=None,
                hangup_cause=None,
            ),
        ),
    )


def test_calls_upsert_idempotently(database: Database) -> None:
    h = build_hospital(database)
    first = make_call("1700000001.5", patient_id=h.patient_id, name="evil\x00name\r\nInject: x")
    with database.session() as session:
        calls = CallRepository(session)
        calls.save(first)
        calls.save(first)  # idempotent
        calls.save(make_call("1700000002.9"))
    with database.session() as session:
        calls = CallRepository(session)
        assert [c.linkedid for c in calls.open_calls()] == ["1700000001.5", "1700000002.9"]
        stored = calls.get("1700000001.5")
        assert stored is not None and stored.caller_name == "evil\\x00name\r\nInject: x"
        assert stored.arrived_at == NOW and stored.patient_id == h.patient_id
        answered = NOW + dt.timedelta(seconds=20)
        agent_leg = CallLegSnapshot(
            uniqueid="1700000001.6",
            channel="PJSIP/agent-1",
            created_at=answered,
            answered_at=answered,
            ended_at=None,
            hangup_cause=None,
        )
        later = make_call("1700000001.5", patient_id=h.patient_id, ended=True)
        later = CallSnapshot(
            **{**later.__dict__, "answered_at": answered, "legs": (*later.legs, agent_leg)}
        )
        calls.save(later)
    with database.session() as session:
        calls = CallRepository(session)
        stored = calls.get("1700000001.5")
        assert stored is not None
        assert stored.ended_at == NOW + dt.timedelta(minutes=3) and stored.hangup_cause == 16
        assert stored.answered_at == answered
        assert [leg.uniqueid for leg in stored.legs] == ["1700000001.5", "1700000001.6"]
        assert [c.linkedid for c in calls.open_calls()] == ["1700000002.9"]
        assert calls.get("nope") is None


def test_ivr_sessions_and_turns(database: Database) -> None:
    from crm_store.repositories.ivr import IvrRepository

    h = build_hospital(database)
    with database.session() as session:
        CallRepository(session).save(make_call("1700000009.1"))
        ivr = IvrRepository(session)
        sid = ivr.start_session(
            linkedid="1700000009.1", flow="main", language=PreferredLanguage.MANDARIN, now=NOW
        )
        assert (
            ivr.add_turn(
                sid,
                step="menu",
                prompt="请说预约或咨询",
                heard="预约",
                confidence=0.93,
                chosen_action="book",
                now=NOW,
            )
            == 1
        )
        assert ivr.add_turn(sid, step="dob", dtmf="19491231", chosen_action="verify") == 2
        ivr.end_session(sid, outcome="booked", identity_verified=True, patient_id=h.patient_id)
        assert [t.step for t in ivr.turns(sid)] == ["menu", "dob"]
    with pytest.raises(IntegrityError), database.session() as session:
        IvrRepository(session).add_turn(sid, step="bad", confidence=1.5)


def test_ivr_session_keeps_its_findings_and_the_flow_language(database: Database) -> None:
    from crm_store.repositories.ivr import IvrRepository

    findings = {
        "reason": "caller_asked",
        "identity": "verified",
        "patient_id": "7",
        "intent": "book",
        "intents": ["book"],
        "slots": {"department": "CARD", "day": "明天"},
    }
    with database.session() as session:
        ivr = IvrRepository(session)
        sid = ivr.start_session(linkedid="1700000010.1", flow="main", language="ko", now=NOW)
        ivr.end_session(sid, outcome="to_agent", identity_verified=True, findings=findings)
    with database.session() as session:
        stored = session.get(IvrSession, sid)
        assert stored is not None
        assert (stored.language, stored.outcome) == ("ko", "to_agent")
        assert stored.findings == findings  # JSON round trip, non-ASCII included


def test_complaint_keeps_the_callers_voice_message(database: Database) -> None:
    with database.session() as session:
        complaints = ComplaintRepository(session)
        ticket = complaints.open(
            category=ComplaintCategory.WAITING_TIME,
            description="Voice message, 7 seconds",
            opened_via=BookingChannel.IVR,
            voice_message_path="/srv/hotline/voice-messages/2026/11/29/1.wav",
            voice_message_s=7.2,
        )
        view = complaints.get(ticket)
        assert view.voice_message_path == "/srv/hotline/voice-messages/2026/11/29/1.wav"
        assert view.voice_message_s == pytest.approx(7.2)
        with pytest.raises(InvalidRecord):
            complaints.open(
                category=ComplaintCategory.OTHER,
                description="x",
                opened_via=BookingChannel.IVR,
                voice_message_s=-1.0,
            )
