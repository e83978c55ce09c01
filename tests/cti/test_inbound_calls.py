"""Inbound calls through the real Asterisk: greeted, identified, recorded — and safe
against whatever a caller ID carries."""

from __future__ import annotations

import asyncio

import pytest

from crm_store.enums import CallDirection
from crm_store.repositories.calls import CallRepository, CallSnapshot
from crm_store.repositories.patients import PatientRepository
from cti.ami import LinkState
from cti.service import Hotline
from cti.settings import Language
from cti.simulator import SimulatedCaller, place_call, silence
from cti.tracker import LOST_CAUSE_TEXT, TrackedCall
from ivr import speech_text
from ivr.call_adapter import PromptPlayed

pytestmark = pytest.mark.asterisk

KNOWN_NUMBER = "13800138000"


@pytest.fixture(scope="module")
async def hotline(hotline_factory):
    running = await hotline_factory()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
async def known_patient(hotline: Hotline) -> int:
    def create(session) -> int:
        return PatientRepository(session).create(
            mrn="MRN-0001", full_name="张伟", numbers=[(KNOWN_NUMBER, None)]
        )

    return await hotline.store.write(create)


class CallWatcher:
    """What Hotline said and recorded for one simulated call."""

    def __init__(self, hotline: Hotline) -> None:
        self.hotline = hotline
        self.prompts: list[PromptPlayed] = []
        self.ended: list[TrackedCall] = []
        self._subs = [
            hotline.bus.subscribe("test-prompts", ["ivr.prompt_played"], self._prompt),
            hotline.bus.subscribe("test-ended", ["call.ended"], self._ended),
        ]

    def _prompt(self, _topic: str, played: PromptPlayed) -> None:
        self.prompts.append(played)

    def _ended(self, _topic: str, call: TrackedCall) -> None:
        self.ended.append(call)

    async def record_of(self, uniqueid: str, timeout_s: float = 30.0) -> CallSnapshot:
        """Wait until the call with this leg has ended, then read it from the store."""

        async def ended_call() -> TrackedCall:
            while True:
                for call in self.ended:
                    if uniqueid in call.legs:
                        return call
                await asyncio.sleep(0.05)

        call = await asyncio.wait_for(ended_call(), timeout_s)
        await self.hotline.journal.flush()
        record = await self.hotline.store.read(lambda s: CallRepository(s).get(call.linkedid))
        assert record is not None, "the ended call was not written to the store"
        return record

    def prompts_for(self, uniqueid: str) -> list[str]:
        """The prompts this call heard to their end."""
        return [p.text for p in self.prompts if p.uniqueid == uniqueid and p.completed]

    async def close(self) -> None:
        for sub in self._subs:
            await self.hotline.bus.unsubscribe(sub)


@pytest.fixture
async def watcher(hotline: Hotline):
    w = CallWatcher(hotline)
    yield w
    await w.close()


async def call(caller_ami, **kwargs) -> str:
    placed = await place_call(caller_ami.ami, SimulatedCaller(**{"hold_s": 30, **kwargs}))
    return placed.uniqueid


async def greeted(caller_ami, watcher: CallWatcher, **kwargs) -> tuple[str, CallSnapshot]:
    """Call, listen to the greeting to its end, hang up; return the stored call record."""
    placed = await place_call(caller_ami.ami, SimulatedCaller(**{"hold_s": 30, **kwargs}))

    async def greeting_heard() -> None:
        while not watcher.prompts_for(placed.uniqueid):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(greeting_heard(), 30)
    await caller_ami.ami.send({"Action": "Hangup", "Channel": placed.channel})
    return placed.uniqueid, await watcher.record_of(placed.uniqueid)


async def test_known_patient_is_greeted_by_name_and_the_call_is_recorded(
    hotline, known_patient, caller_ami, watcher
):
    uniqueid, record = await greeted(caller_ami, watcher, number=KNOWN_NUMBER, name="ZHANG WEI")

    expected = speech_text.greeting_known(
        Language.MANDARIN, "张伟", hotline.settings.hospital_name_zh
    )
    assert watcher.prompts_for(uniqueid)[:1] == [expected]  # then the flow goes on
    assert "张伟" in expected
    assert record.patient_id == known_patient
    assert record.direction is CallDirection.INBOUND
    assert record.caller_number_e164 == "+8613800138000"
    assert record.caller_name == "ZHANG WEI"
    assert record.answered_at is not None and record.ended_at is not None
    assert record.arrived_at <= record.answered_at <= record.ended_at
    assert record.hangup_cause is not None
    assert any(leg.uniqueid == uniqueid for leg in record.legs)


async def test_the_greeting_audio_reaches_the_caller_whole(
    hotline, known_patient, caller_ami, watcher
):
    uniqueid, _ = await greeted(caller_ami, watcher, number=KNOWN_NUMBER)
    played = [p for p in watcher.prompts if p.uniqueid == uniqueid]
    prompt = await hotline.prompts.get(played[0].text, Language(played[0].language))
    # Asterisk reports the position it reached: the whole rendered file, not an empty play.
    assert played[0].samples_played >= int(prompt.duration_s * 8000) - 800


async def test_unknown_number_gets_the_generic_greeting(
    hotline, known_patient, caller_ami, watcher
):
    uniqueid, record = await greeted(caller_ami, watcher, number="13900139000")
    generic = speech_text.greeting_unknown(Language.MANDARIN, hotline.settings.hospital_name_zh)
    assert watcher.prompts_for(uniqueid)[:1] == [generic]
    assert record.patient_id is None
    assert record.caller_number_e164 == "+8613900139000"


@pytest.mark.parametrize(
    "presented",
    [
        "+8613800138000",
        "008613800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "0086-138 0013-8000",
    ],
)
async def test_other_formats_of_a_known_number_still_match(
    hotline, known_patient, caller_ami, watcher, presented
):
    uniqueid, record = await greeted(caller_ami, watcher, number=presented)
    assert record.patient_id == known_patient
    assert record.caller_number_e164 == "+8613800138000"
    assert "张伟" in watcher.prompts_for(uniqueid)[0]


@pytest.mark.parametrize(
    ("number", "name"),
    [
        ("", None),
        ("anonymous", "Anonymous"),
        ("13800138000\r\nAction: Hangup\r\nChannel: all", "x"),
        ("\x07\x1b[2J", "\x1b]0;pwned\x07"),
        ("13900139000", "Evil\r\nAction: Originate\r\nChannel: Local/s@caller-sim"),
        ("<script>alert(1)</script>", "'; DROP TABLE calls; --"),
        ("13900139000", f"Evil\nagi_callerid: {KNOWN_NUMBER}\nagi_calleridname: x"),
    ],
    ids=["empty", "anonymous", "crlf-number", "escape-codes", "crlf-name", "markup", "forged-agi"],
)
async def test_hostile_or_withheld_caller_ids_are_greeted_generically_and_recorded_safely(
    hotline, known_patient, caller_ami, watcher, number, name
):
    uniqueid, record = await greeted(caller_ami, watcher, number=number, name=name)
    generic = speech_text.greeting_unknown(Language.MANDARIN, hotline.settings.hospital_name_zh)
    assert watcher.prompts_for(uniqueid)[:1] == [generic]
    assert record.patient_id is None
    for text in (record.caller_number_raw or "", record.caller_name or ""):
        assert "\r" not in text and "\n" not in text and "\x07" not in text and "\x1b" not in text
    assert hotline.ami.state is LinkState.CONNECTED
    # The core carries on: the next ordinary call is served normally.
    _, next_record = await greeted(caller_ami, watcher, number=KNOWN_NUMBER)
    assert next_record.patient_id == known_patient


async def test_a_known_caller_who_withholds_their_number_is_not_greeted_by_name(
    hotline, known_patient, caller_ami, watcher
):
    uniqueid, record = await greeted(caller_ami, watcher, number=KNOWN_NUMBER, withheld=True)
    generic = speech_text.greeting_unknown(Language.MANDARIN, hotline.settings.hospital_name_zh)
    assert watcher.prompts_for(uniqueid)[:1] == [generic]
    assert record.direction is CallDirection.INBOUND


async def test_a_silent_caller_is_reprompted_then_waits_for_a_person(hotline, caller_ami, watcher):
    placed = await place_call(caller_ami.ami, SimulatedCaller(number=KNOWN_NUMBER, hold_s=120))
    handover = await caller_ami.log.wait_for(
        lambda e: (
            e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineHandover"
            and e.get("Uniqueid") == placed.uniqueid
        ),
        timeout_s=120,
        what="the handover to the agents after the IVR's re-prompts",
    )
    joined = await caller_ami.log.wait_for(
        lambda e: e.name == "QueueCallerJoin" and e.get("Uniqueid") == placed.uniqueid,
        what="the caller joining the agents' queue",
    )
    assert joined.get("Queue") == handover.get("Queue")
    assert watcher.prompts_for(placed.uniqueid), "handed over before the greeting finished"
    await caller_ami.ami.send({"Action": "Hangup", "Channel": placed.channel})


async def test_tracker_recovers_calls_across_a_cut_ami_link(
    hotline, known_patient, caller_ami, ami_proxy, watcher
):
    # A call that will end while Hotline cannot see Asterisk, and one that will begin.
    ends_unseen = await call(caller_ami, number=KNOWN_NUMBER, script=[silence(1)], hold_s=3)
    await asyncio.sleep(1.0)
    assert hotline.tracker.call_of_channel(ends_unseen) is not None
    logins_before = hotline.ami.logins

    ami_proxy.cut()
    unseen = await place_call(caller_ami.ami, SimulatedCaller(number="13900139000", hold_s=60))
    starts_unseen = unseen.uniqueid
    await caller_ami.log.wait_for(
        lambda e: e.name == "Hangup" and e.get("Uniqueid") == ends_unseen,
        what="hang-up of the first call",
    )
    assert hotline.tracker.call_of_channel(starts_unseen) is None  # not seen yet
    ami_proxy.restore()

    async def resynced() -> None:
        while hotline.ami.logins == logins_before or hotline.tracking.resyncs < hotline.ami.logins:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(resynced(), 30)
    ended = await watcher.record_of(ends_unseen)
    assert ended.ended_at is not None and ended.hangup_cause_text == LOST_CAUSE_TEXT
    live = hotline.tracker.call_of_channel(starts_unseen)
    assert live is not None and live.caller_number_raw == "13900139000"
    # ...and the adopted call is finished normally, with Asterisk's own cause.
    await caller_ami.ami.send({"Action": "Hangup", "Channel": unseen.channel})
    finished = await watcher.record_of(starts_unseen)
    assert finished.hangup_cause is not None
    assert finished.caller_number_e164 == "+8613900139000"
