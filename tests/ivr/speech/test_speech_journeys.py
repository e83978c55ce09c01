"""Speech journeys on live calls: the IVR call adapter with the real vosk Korean model and
the Korean test flow (dialplans/ivr/ko/), through the real Asterisk. A simulated caller
plays espeak-ng Korean words (with silence between, as a phone sends) into the
production handoff context ([hotline-speech-agi-sim]: AGI, then AudioSocket); the store
and the bus show what the IVR made of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Complaint, IvrSession, IvrTurn
from cti.asterisk import AsteriskRunner
from cti.fastagi import FastAgiServer
from cti.handover import HANDOVER_TOPIC, Handover
from cti.service import Hotline
from cti.settings import Settings
from cti.simulator import ScriptStep, SimulatedCaller, play, silence
from ivr.action_executor import ActionExecutor
from ivr.audiosocket import AudioHub
from ivr.call_adapter import IvrCallApp
from ivr.cli import flows_dir, hospital_names
from ivr.flows import FlowEngine, load_flows
from ivr.recognition import Recognizer
from ivr.voice_messages import VoiceMessageStore
from tests.fixtures.hotline import CallerSide
from tests.ivr.speech.conftest import Utterance, render_set, sox_noise
from tests.ivr.speech.test_speech_asterisk import in_asterisk, originate, speech_event

pytestmark = pytest.mark.asterisk

AGENTS = "hotline-agents"  # no ACD configured: Asterisk's queue takes hand-overs


@dataclass
class SpeechIvr:
    hotline: Hotline
    port: int
    handovers: list[Handover]


@pytest.fixture(scope="module")
async def speech_ivr(
    hotline_factory, recognizer: Recognizer, asterisk: AsteriskRunner, test_settings: Settings
) -> AsyncIterator[SpeechIvr]:
    hotline: Hotline = await hotline_factory()
    hub = AudioHub(recognizer, "127.0.0.1", 0)
    await hub.start()
    app = IvrCallApp(
        engine=FlowEngine(load_flows(flows_dir(hotline.settings)), default_language="ko"),
        executor=ActionExecutor(hotline.store, hotline.settings),
        identifier=hotline.identifier,
        prompts=hotline.prompts,
        renderer=hotline.renderer,
        layout=asterisk.layout,
        journal=hotline.ivr_journal,
        bus=hotline.bus,
        hospital_names=hospital_names(hotline.settings),
        handover_context=hotline.handover_target,
        default_language=hotline.settings.language,
        voice_messages=VoiceMessageStore(asterisk.layout, hotline.settings.state_dir / "vm"),
        hub=hub,
    )
    port = test_settings.agi_port + 12
    server = FastAgiServer({"ko": app}, "127.0.0.1", port)
    await server.start()
    handovers: list[Handover] = []
    sub = hotline.bus.subscribe(
        "test-ko-handover", [HANDOVER_TOPIC], lambda _t, h: handovers.append(h)
    )
    yield SpeechIvr(hotline, port, handovers)
    await hotline.bus.unsubscribe(sub)
    await server.close()
    await hub.close()


@pytest.fixture(scope="module")
async def words(asterisk: AsteriskRunner) -> dict[tuple[str, int], Utterance]:
    return await render_set(asterisk.layout.share_host / "speech-journeys")


async def run_call(
    ivr: SpeechIvr, side: CallerSide, asterisk: AsteriskRunner, script: list[ScriptStep]
) -> tuple[str, IvrSession, list[IvrTurn]]:
    """Place the call, wait until the IVR has let go of it; its stored session and turns."""
    caller = SimulatedCaller(number="1009", script=script, hold_s=0)
    channel = await originate(
        side,
        caller,
        context="hotline-speech-agi-sim",
        variables={"SPEECH_SIM_AGI": f"agi://127.0.0.1:{ivr.port}/ko"},
    )
    done = await side.log.wait_for(speech_event(channel, "agi-done"), timeout_s=90, what="AGI")

    def read(session: Session) -> tuple[IvrSession, list[IvrTurn]]:
        ivr_session = session.scalars(
            select(IvrSession).order_by(IvrSession.id.desc()).limit(1)
        ).one()
        turns = list(
            session.scalars(
                select(IvrTurn).where(IvrTurn.session_id == ivr_session.id).order_by(IvrTurn.seq)
            )
        )
        session.expunge_all()
        return ivr_session, turns

    stored = await ivr.hotline.store.read(read)
    # UserEvent splits its arguments at commas: "Next" carries HOTLINE_NEXT's context.
    return str(done.get("Next")), *stored


def say(
    words: dict[tuple[str, int], Utterance], asterisk: AsteriskRunner, word: str, rate: int = 160
) -> ScriptStep:
    return play(in_asterisk(asterisk, words[(word, rate)].path))


def heard(turns: list[IvrTurn]) -> list[str]:
    return [t.heard for t in turns if t.heard]


async def test_booking_by_voice_is_confirmed_then_handed_over(
    speech_ivr: SpeechIvr, caller_ami: CallerSide, asterisk: AsteriskRunner, words
) -> None:
    script = [
        silence(2),
        say(words, asterisk, "예약"),
        silence(4),
        say(words, asterisk, "네"),
        silence(6),
    ]
    before = len(speech_ivr.handovers)
    next_context, session, turns = await run_call(speech_ivr, caller_ami, asterisk, script)
    assert next_context == AGENTS
    assert heard(turns) == ["예약", "네"]
    assert session.outcome == "to_agent"
    assert session.language == "ko"  # the flow language used, not the default
    handover = speech_ivr.handovers[before]
    assert handover.reason == "booking" and handover.findings.intent == "book"
    assert session.findings == handover.findings.to_json()  # kept on the session too
    assert handover.language == "ko"


async def test_an_inquiry_by_voice_is_answered_then_goodbye(
    speech_ivr: SpeechIvr, caller_ami: CallerSide, asterisk: AsteriskRunner, words
) -> None:
    # 문의 at 160 wpm is a coin toss against 민원 for this model: shifted by a few ms of
    # leading silence it came out 민원 in 2 of 8 offsets (decoding the whole turn or
    # from 0.4 s before the onset alike); at 190 wpm it was right at every offset.
    script = [silence(2), say(words, asterisk, "문의", rate=190), silence(25)]
    next_context, session, turns = await run_call(speech_ivr, caller_ami, asterisk, script)
    assert heard(turns) == ["문의"]
    assert session.outcome == "completed"
    assert next_context == "hotline-hangup"


async def test_no_then_asking_for_a_person(
    speech_ivr: SpeechIvr, caller_ami: CallerSide, asterisk: AsteriskRunner, words
) -> None:
    script = [
        silence(2),
        say(words, asterisk, "민원"),
        silence(4),
        say(words, asterisk, "아니요"),
        silence(3),
        say(words, asterisk, "상담원"),
        silence(8),
    ]
    before = len(speech_ivr.handovers)
    next_context, session, turns = await run_call(speech_ivr, caller_ami, asterisk, script)
    assert heard(turns)[:3] == ["민원", "아니요", "상담원"]
    assert next_context == AGENTS and session.outcome == "to_agent"
    assert speech_ivr.handovers[before].reason == "caller_asked"


async def test_noise_and_silence_are_reprompted_then_a_person(
    speech_ivr: SpeechIvr, caller_ami: CallerSide, asterisk: AsteriskRunner, words
) -> None:
    noise = sox_noise(
        asterisk.layout.share_host / "speech-journeys" / "noise.wav", "pinknoise", 1.5, 0.3
    )
    script = [silence(2), play(in_asterisk(asterisk, noise)), silence(60)]
    before = len(speech_ivr.handovers)
    next_context, session, turns = await run_call(speech_ivr, caller_ami, asterisk, script)
    assert next_context == AGENTS, "a caller saying nothing useful is never dropped"
    assert session.outcome == "to_agent"
    assert speech_ivr.handovers[before].reason in ("no_input", "no_match")
    assert not heard(turns) or all(h == "" for h in heard(turns))


async def test_speaking_over_any_prompt_of_a_turn_cuts_the_turn_short(
    speech_ivr: SpeechIvr, caller_ami: CallerSide, asterisk: AsteriskRunner, words
) -> None:
    """After "no" the caller hears "back to the menu" and then the menu: one turn of two
    prompts. They answer while the first still plays, and are heard."""
    script = [
        silence(2),
        say(words, asterisk, "민원"),
        silence(3),
        say(words, asterisk, "아니요"),
        silence(2),  # "back to the menu…" is playing
        say(words, asterisk, "예약"),
        silence(4),
        say(words, asterisk, "네"),
        silence(6),
    ]
    before = len(speech_ivr.handovers)
    next_context, _session, turns = await run_call(speech_ivr, caller_ami, asterisk, script)
    assert heard(turns) == ["민원", "아니요", "예약", "네"]
    assert next_context == AGENTS and speech_ivr.handovers[before].reason == "booking"


async def test_a_spoken_complaint_keeps_its_words_and_their_audio(
    speech_ivr: SpeechIvr, caller_ami: CallerSide, asterisk: AsteriskRunner, words
) -> None:
    script = [
        silence(2),
        say(words, asterisk, "민원"),
        silence(3),
        say(words, asterisk, "네"),  # yes, a complaint
        silence(4),
        say(words, asterisk, "예약"),  # what happened (free-form)
        silence(3),
        say(words, asterisk, "네"),  # yes, file it
        silence(40),
    ]
    _next, session, turns = await run_call(speech_ivr, caller_ami, asterisk, script)
    assert session.outcome == "completed", [(t.step, t.heard, t.chosen_action) for t in turns]
    assert any(t.chosen_action == "open_complaint:opened" for t in turns)

    def latest(s: Session) -> Complaint:
        found = s.scalars(select(Complaint).order_by(Complaint.id.desc()).limit(1)).one()
        s.expunge(found)
        return found

    filed = await speech_ivr.hotline.store.read(latest)
    heard_there = next(t.heard for t in turns if t.step == "main.describe")
    assert heard_there and filed.description == heard_there  # the transcription
    assert filed.voice_message_path is not None and filed.voice_message_s is not None
    audio = Path(filed.voice_message_path)
    assert (await asyncio.to_thread(audio.stat)).st_size > 44 and filed.voice_message_s >= 1
