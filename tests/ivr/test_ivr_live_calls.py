"""The production flows on live calls through the real Asterisk: simulated callers key
their way through the zh and en flows, and the store shows what they did.

The caller's keys are played on the caller's half of the Local channel (AMI PlayDTMF)
when the IVR says it is listening at the expected step (``ivr.listening`` on the bus),
so the journeys follow the flow rather than a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.enums import (
    AppointmentStatus,
    BookingChannel,
    ComplaintCategory,
    PreferredLanguage,
)
from crm_store.models import Complaint, IvrSession, IvrTurn
from crm_store.repositories import (
    AppointmentRepository,
    ComplaintRepository,
    PatientRepository,
    ScheduleRepository,
)
from cti.asterisk.media import RATE, write_wav
from cti.errors import AmiActionFailed
from cti.handover import HANDOVER_TOPIC, Handover
from cti.service import Hotline
from cti.settings import Language
from cti.simulator import ScriptStep, SimulatedCaller, place_call, play
from ivr import speech_text
from ivr.call_adapter import LISTENING_TOPIC, PROMPT_PLAYED_TOPIC, Listening, PromptPlayed
from ivr.flows import Identity

pytestmark = pytest.mark.asterisk

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
STEP_TIMEOUT_S = 60.0


@dataclass
class Clinic:
    slot_ids: list[int]
    patients: dict[str, int]  # language → patient whose number is known


NUMBERS = {"zh": "13800138011", "en": "13800138012"}
DOB = "19491231"


@pytest.fixture(scope="module")
async def hotline(hotline_factory) -> Hotline:
    return await hotline_factory()


def build_clinic(session: Session) -> Clinic:
    """Cardiology with a session tomorrow morning, and a known caller per language."""
    tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(9), TZ).astimezone(dt.UTC)
    schedule = ScheduleRepository(session)
    cardiology = schedule.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
    doctor = schedule.add_doctor(department_id=cardiology, name_zh="李明", name_en="Li Ming")
    slots = schedule.add_session(
        doctor_id=doctor, starts_at=start, ends_at=start + dt.timedelta(hours=4)
    )
    patients = PatientRepository(session)
    ids = {
        language: patients.create(
            mrn=f"MRN-{language}",
            full_name="张伟" if language == "zh" else "Emily Zhang",
            date_of_birth=dt.date(1949, 12, 31),
            preferred_language=PreferredLanguage(language),
            numbers=[(number, None)],
        )
        for language, number in NUMBERS.items()
    }
    return Clinic(slots, ids)


@pytest.fixture(scope="module")
async def clinic(hotline: Hotline) -> Clinic:
    return await hotline.store.write(build_clinic)


class LiveCall:
    """One simulated caller, keying in answer to what the IVR listens for."""

    def __init__(self, hotline: Hotline, caller_ami, language: str) -> None:
        self.hotline = hotline
        self.caller_ami = caller_ami
        self.language = language
        self.listening: list[Listening] = []
        self.handovers: list[Handover] = []
        self.uniqueid = ""
        self.channel = ""
        self._seen = 0
        self._subs = [
            hotline.bus.subscribe(f"test-listen-{id(self)}", [LISTENING_TOPIC], self._listen),
            hotline.bus.subscribe(f"test-handover-{id(self)}", [HANDOVER_TOPIC], self._handover),
        ]

    def _listen(self, _topic: str, event: Listening) -> None:
        if event.uniqueid == self.uniqueid:
            self.listening.append(event)

    def _handover(self, _topic: str, handover: Handover) -> None:
        if handover.uniqueid == self.uniqueid:
            self.handovers.append(handover)

    async def place(self, script: Sequence[ScriptStep] = ()) -> None:
        caller = SimulatedCaller(number=NUMBERS[self.language], hold_s=300, script=script)
        placed = await place_call(self.caller_ami.ami, caller)
        self.uniqueid, self.channel = placed.uniqueid, placed.channel

    async def at(self, step: str) -> None:
        """Wait until the IVR listens at ``step`` (the next listening not yet used)."""

        async def reached() -> None:
            while True:
                for i in range(self._seen, len(self.listening)):
                    if self.listening[i].step == step:
                        self._seen = i + 1
                        return
                await asyncio.sleep(0.05)

        try:
            await asyncio.wait_for(reached(), STEP_TIMEOUT_S)
        except TimeoutError:
            heard = [e.step for e in self.listening]
            raise AssertionError(f"the IVR never listened at {step}; it did at {heard}") from None

    async def press(self, digits: str) -> None:
        caller_half = self.channel[:-1] + "2"  # the ;2 half is the caller's phone
        for digit in digits:
            await self.caller_ami.ami.send(
                {"Action": "PlayDTMF", "Channel": caller_half, "Digit": digit, "Duration": "120"}
            )

    async def answer(self, step: str, digits: str) -> None:
        await self.at(step)
        await self.press(digits)

    async def hang_up(self) -> None:
        await self.caller_ami.ami.send({"Action": "Hangup", "Channel": self.channel})

    async def handover(self) -> Handover:
        async def published() -> Handover:
            while not self.handovers:
                await asyncio.sleep(0.05)
            return self.handovers[0]

        return await asyncio.wait_for(published(), STEP_TIMEOUT_S)

    async def ivr_session(self, *, ended: bool = True) -> tuple[IvrSession, list[IvrTurn]]:
        """The call's stored IVR session (once ended) and its turns."""

        def read(session: Session) -> tuple[IvrSession | None, list[IvrTurn]]:
            ivr = session.scalar(select(IvrSession).where(IvrSession.linkedid == self.uniqueid))
            if ivr is None:
                return None, []
            turns = list(
                session.scalars(
                    select(IvrTurn).where(IvrTurn.session_id == ivr.id).order_by(IvrTurn.seq)
                )
            )
            session.expunge_all()
            return ivr, turns

        async def stored() -> tuple[IvrSession, list[IvrTurn]]:
            while True:
                ivr, turns = await self.hotline.store.read(read)
                if ivr is not None and (ivr.ended_at is not None or not ended):
                    return ivr, turns
                await asyncio.sleep(0.1)

        return await asyncio.wait_for(stored(), STEP_TIMEOUT_S)

    async def close(self) -> None:
        for sub in self._subs:
            await self.hotline.bus.unsubscribe(sub)


@pytest.fixture
async def live(hotline: Hotline, caller_ami):
    calls: list[LiveCall] = []

    def make(language: str) -> LiveCall:
        call = LiveCall(hotline, caller_ami, language)
        calls.append(call)
        return call

    yield make
    for call in calls:
        with contextlib.suppress(AmiActionFailed):  # most calls have ended by now
            await call.hang_up()
        await call.close()


async def verified_at_menu_then(call: LiveCall, key: str) -> None:
    """Past the greeting, choose ``key`` at the menu and pass the date-of-birth check."""
    await call.place()
    await call.answer("main.menu", key)
    await call.answer("main.ask_dob", DOB)


def appointments_of(hotline: Hotline, patient_id: int):
    return hotline.store.read(lambda s: AppointmentRepository(s).for_patient(patient_id))


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_caller_books_by_keypad(hotline, clinic, live, language):
    call = live(language)
    patient = clinic.patients[language]
    await verified_at_menu_then(call, "1")
    await call.answer("booking.start", "1")  # cardiology
    await call.answer("booking.ask_doctor", "2")  # any doctor
    await call.answer("booking.choose_day", "8")  # the soonest
    await call.answer("booking.offers", "1")
    await call.answer("booking.confirm_new", "1")
    await call.answer("main.anything_else", "2")  # goodbye
    ivr, turns = await call.ivr_session()
    assert ivr.outcome == "completed" and ivr.identity_verified and ivr.patient_id == patient
    booked = [a for a in await appointments_of(hotline, patient) if a.booked_by.value == "ivr"]
    assert len(booked) == 1 and booked[0].status is AppointmentStatus.BOOKED
    steps = [t.step for t in turns]
    assert "booking.confirm_new" in steps and "main.ask_dob" in steps
    dob_turns = [t for t in turns if t.step == "main.ask_dob"]
    assert all(DOB not in (t.dtmf or "") for t in dob_turns)  # sensitive keys not stored
    # Tidy up for the other language's run: the slot goes back.
    await hotline.store.write(
        lambda s: AppointmentRepository(s).cancel(
            booked[0].reference, cancelled_by=BookingChannel.AGENT
        )
    )


async def test_caller_hears_and_cancels_an_appointment(hotline, clinic, live):
    patient = clinic.patients["zh"]
    slot = clinic.slot_ids[5]
    booked = await hotline.store.write(
        lambda s: AppointmentRepository(s).book(
            patient_id=patient, slot_id=slot, booked_by=BookingChannel.AGENT
        )
    )
    call = live("zh")
    await verified_at_menu_then(call, "2")
    await call.answer("appointments.list", "1")  # the first (only) appointment
    await call.answer("appointments.chosen", "2")  # cancel it
    await call.answer("appointments.confirm_cancel", "1")
    await call.answer("main.anything_else", "2")
    ivr, _ = await call.ivr_session()
    assert ivr.outcome == "completed"
    mine = await hotline.store.read(lambda s: AppointmentRepository(s).get(booked.reference))
    assert mine.status is AppointmentStatus.CANCELLED
    place = await hotline.store.read(lambda s: ScheduleRepository(s).slot(slot))
    assert place.places_left == 1  # freed for the waitlist


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_caller_hears_a_complaint_status_by_ticket_number(hotline, clinic, live, language):
    ticket = await hotline.store.write(
        lambda s: ComplaintRepository(s).open(
            category=ComplaintCategory.WAITING_TIME,
            description="waited too long",
            opened_via=BookingChannel.AGENT,
        )
    )
    call = live(language)
    await call.place()
    await call.answer("main.menu", "5")
    await call.answer("complaints.status", ticket + "#")
    await call.answer("main.anything_else", "2")
    ivr, turns = await call.ivr_session()
    assert ivr.outcome == "completed"
    assert any(t.step == "complaints.status" and ticket in (t.dtmf or "") for t in turns)
    # The "#" after the nine digits belongs to the ticket number, not to the next question.
    assert not any(t.step == "main.anything_else" and t.dtmf == "#" for t in turns)
    assert any((t.chosen_action or "").startswith("complaint_status") for t in turns)


async def test_caller_asks_for_a_person_and_the_findings_go_along(
    hotline, clinic, live, caller_ami
):
    call = live("zh")
    await verified_at_menu_then(call, "1")
    await call.answer("booking.start", "1")
    await call.answer("booking.ask_doctor", "0")  # a person, please
    handover = await call.handover()
    assert handover.channel == call.channel
    assert handover.patient_id == clinic.patients["zh"] and handover.verified
    assert handover.caller_number == NUMBERS["zh"]  # for the pop's likely matches
    assert handover.findings.intent == "book"
    assert handover.findings.slots.get("department") == "CARD"
    assert "dob" not in handover.findings.slots
    await caller_ami.log.wait_for(
        lambda e: e.name == "QueueCallerJoin" and e.get("Uniqueid") == call.uniqueid,
        what="the caller joining the agents' queue",
    )
    ivr, _ = await call.ivr_session()
    assert ivr.outcome == "to_agent" and ivr.identity_verified


async def test_garbage_keys_are_reprompted_then_a_person_never_dropped(
    hotline, clinic, live, caller_ami
):
    call = live("en")
    await call.place()
    await call.answer("main.menu", "7")  # no such choice
    await call.answer("main.menu", "*")  # asked again; garbage again
    handover = await call.handover()
    assert handover.reason == "no_match"
    assert handover.findings.identity is not Identity.VERIFIED
    await caller_ami.log.wait_for(
        lambda e: e.name == "QueueCallerJoin" and e.get("Uniqueid") == call.uniqueid,
        what="the caller joining the agents' queue",
    )


async def test_keys_pressed_at_once_over_a_two_part_question_all_count(hotline, clinic, live):
    """After a wrong date of birth, "it does not match" and the question again play as
    one file in the AGI command that reads the answer: the caller keys the whole date
    over them at once, and no key falls between two AGI commands (where Asterisk would
    throw it away)."""
    call = live("zh")
    played: list[PromptPlayed] = []
    sub = hotline.bus.subscribe(
        "test-two-part-question",
        [PROMPT_PLAYED_TOPIC],
        lambda _t, p: played.append(p) if p.uniqueid == call.uniqueid else None,
    )
    await verified_at_menu_then_wrong_first(call)
    await call.answer("main.ask_dob", DOB)  # at once, over both parts
    await call.at("booking.start")
    await hotline.bus.unsubscribe(sub)
    await call.hang_up()
    ivr, turns = await call.ivr_session()
    assert ivr.identity_verified  # the second date, keyed whole
    assert len([t for t in turns if t.step == "main.ask_dob" and t.dtmf]) == 2
    mismatch = next(p for p in played if "不符" in p.text)
    question = [p for p in played if "出生日期" in p.text and p.text != mismatch.text][-1]
    assert mismatch.asterisk_file == question.asterisk_file  # one file, one command
    assert not mismatch.completed and mismatch.interrupted_by == DOB[0]


async def verified_at_menu_then_wrong_first(call: LiveCall) -> None:
    await call.place()
    await call.answer("main.menu", "1")
    await call.answer("main.ask_dob", "19500101")  # not the caller's


async def test_hang_up_mid_booking_leaves_no_booking(hotline, clinic, live):
    patient = clinic.patients["en"]
    before = await appointments_of(hotline, patient)
    call = live("en")
    await verified_at_menu_then(call, "1")
    await call.answer("booking.start", "1")
    await call.answer("booking.ask_doctor", "2")
    await call.answer("booking.choose_day", "8")
    await call.answer("booking.offers", "1")
    await call.at("booking.confirm_new")
    await call.hang_up()
    ivr, turns = await call.ivr_session()
    assert ivr.outcome == "caller_hangup"
    assert turns[-1].chosen_action == "caller_hangup"
    assert await appointments_of(hotline, patient) == before


@pytest.fixture(scope="module")
def talking(asterisk) -> list[ScriptStep]:
    """A caller who talks all through the call (a warbling tone standing in for a voice:
    keypad mode ignores it until a voice message is recorded)."""
    path = asterisk.layout.share_host / "ivr-tests" / "talking.wav"
    samples = [
        int(4000 * math.sin(2 * math.pi * (300 + 150 * math.sin(i / 900)) * i / RATE))
        for i in range(RATE * 120)
    ]
    write_wav(path, samples)
    return [play(asterisk.layout.to_asterisk(path))]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_keypad_caller_files_a_complaint_by_voice_message(
    hotline, clinic, live, talking, language
):
    call = live(language)
    said: list[str] = []
    sub = hotline.bus.subscribe(
        f"test-said-{language}",
        [PROMPT_PLAYED_TOPIC],
        lambda _t, p: said.append(p.text) if p.uniqueid == call.uniqueid else None,
    )
    await call.place(talking)
    await call.answer("main.menu", "4")
    await call.answer("complaints.start", "2")  # waiting time
    await call.at("complaints.describe")  # the tone: the caller talks...
    await asyncio.sleep(4)
    await call.press("#")  # ...and keys "#" when done
    await call.answer("complaints.confirm", "1")
    await call.answer("main.anything_else", "2")
    ivr, turns = await call.ivr_session()
    assert ivr.outcome == "completed" and ivr.language == language
    assert any(t.chosen_action == "voice_message" for t in turns)

    def complaint(session: Session) -> Complaint:
        found = session.scalar(
            select(Complaint)
            .where(Complaint.voice_message_path.is_not(None))
            .order_by(Complaint.id.desc())
        )
        assert found is not None
        session.expunge(found)
        return found

    filed = await hotline.store.read(complaint)
    assert filed.category is ComplaintCategory.WAITING_TIME
    assert filed.voice_message_path is not None and filed.voice_message_s is not None
    message = Path(filed.voice_message_path)
    assert message.is_relative_to(hotline.settings.state_dir)
    assert (await asyncio.to_thread(message.stat)).st_size > 44  # more than a WAV header
    assert filed.voice_message_s >= 1
    seconds = f"{round(filed.voice_message_s)}"
    assert seconds in filed.description and ("留言" in filed.description) == (language == "zh")
    assert ivr.findings is not None and ivr.findings["slots"]["category"] == "waiting_time"
    assert ivr.findings["reason"] == "completed"
    await hotline.bus.unsubscribe(sub)
    ticket = speech_text.reference_text(filed.ticket_number, Language(language))
    assert any(ticket in text for text in said), "the caller hears the ticket number"


async def test_zero_during_a_voice_message_reaches_a_person_and_drops_the_partial_message(
    hotline, clinic, live, talking, caller_ami, asterisk
):
    def complaints(session: Session) -> int:
        return len(session.scalars(select(Complaint.id)).all())

    before = await hotline.store.read(complaints)
    call = live("en")
    await call.place(talking)
    await call.answer("main.menu", "4")
    await call.answer("complaints.start", "2")  # waiting time
    await call.at("complaints.describe")  # the tone: the caller talks...
    await asyncio.sleep(3)
    await call.press("0")  # ...then wants a person after all
    handover = await call.handover()
    assert handover.channel == call.channel
    assert handover.findings.slots.get("category") == "waiting_time"
    assert "voice_message" not in handover.findings.slots  # the partial message is dropped
    await caller_ami.log.wait_for(
        lambda e: e.name == "QueueCallerJoin" and e.get("Uniqueid") == call.uniqueid,
        what="the caller joining the agents' queue",
    )
    ivr, turns = await call.ivr_session()
    assert ivr.outcome == "to_agent"
    assert not any(t.chosen_action == "voice_message" for t in turns)
    assert await hotline.store.read(complaints) == before  # nothing filed
    # Neither Asterisk's recording nor a kept copy is left of the partial message.
    left = [
        p
        for where in (asterisk.layout.monitor_host, hotline.settings.state_dir / "voice-messages")
        if where.exists()
        for p in where.rglob("vm-*")
        if call.uniqueid in p.name
    ]
    assert left == []
