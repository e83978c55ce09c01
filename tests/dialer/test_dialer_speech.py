"""Spoken answers on offer calls through the real Asterisk: Hotline with a recogniser
(the real vosk Korean model — the only one installable here) hears simulated patients
say yes (네) or no (아니요) in TTS Korean over the call's AudioSocket, and the store shows
the booking. The patients' language is configured with Korean words for the test, as a
site configures its own language's words for its model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from crm_store.enums import DialerCallResult, RefillStatus
from crm_store.models import utcnow
from cti.asterisk import AsteriskRunner
from cti.dialer import texts
from cti.dialer.offer_call import OfferCallApp
from cti.service import Hotline
from cti.settings import Language
from ivr.recognition import packaged_model_path
from tests.dialer.builders import build_clinic
from tests.dialer.test_dialer_calls import (
    TEST_POLICY,
    Prompts,
    _booked_patients,
    _cancel_and_wait_for_refill,
)

pytestmark = pytest.mark.asterisk

SPEAKING_POLICY = TEST_POLICY.model_copy(
    update={
        "parallel_offers_per_slot": 1,  # one after the other: the "no" first, then the "yes"
        "speech_yes_en": ("네",),
        "speech_no_en": ("아니요",),
    }
)


@pytest.fixture(scope="module")
async def hotline(
    hotline_factory: Callable[..., Any], asterisk: AsteriskRunner
) -> AsyncIterator[Hotline]:
    running: Hotline = await hotline_factory(
        dialer=SPEAKING_POLICY, vosk_model_path=packaged_model_path()
    )
    assert running.audio is not None, "Hotline started without its recogniser"
    # The simulated patients' mouths: TTS Korean, rendered by Hotline's own prompt cache
    # (Asterisk reads the files where Hotline wrote them).
    for kind, word in (("7", "네"), ("8", "아니요")):
        prompt = await running.prompts.get(word, "ko")
        sound = asterisk.layout.to_asterisk(prompt.path).with_suffix("")
        await running.ami.send(
            {"Action": "Setvar", "Variable": f"HOTLINE_SIM_SAY_{kind}", "Value": str(sound)}
        )
    yield running
    await running.stop()


async def test_a_spoken_no_then_a_spoken_yes_books_the_place(hotline: Hotline) -> None:
    says_no, says_yes = "+8613900139108", "+8613900139107"  # ranked in this order
    prompts = Prompts(hotline.bus)
    clinic = await hotline.store.write(
        lambda s: build_clinic(s, now=utcnow(), numbers=[says_no, says_yes], tag="S")
    )
    refill = await _cancel_and_wait_for_refill(hotline, clinic)

    assert refill.status is RefillStatus.FILLED
    results = {c.patient_id: c.result for c in refill.calls}
    assert results == {
        clinic.waitlisted[says_no]: DialerCallResult.DECLINED,
        clinic.waitlisted[says_yes]: DialerCallResult.ACCEPTED,
    }
    booked = await hotline.store.read(lambda s: _booked_patients(s, clinic.slot_id))
    assert booked == [clinic.waitlisted[says_yes]]

    # Each was asked to say the word or press the key, and heard their outcome.
    accepted = next(c for c in refill.calls if c.result is DialerCallResult.ACCEPTED)
    declined = next(c for c in refill.calls if c.result is DialerCallResult.DECLINED)
    heard_yes = await prompts.of(accepted.offer_id, 2)
    heard_no = await prompts.of(declined.offer_id, 2)
    assert "say 네 or press 1" in heard_yes[0] and "say 아니요 or press 2" in heard_yes[0]
    assert heard_no[-1] == texts.declined_text(Language.ENGLISH)
    assert heard_yes[-1].startswith("It is booked.")
    # The spoken word (not a key) cut the question short.
    cut = [p.interrupted_by for p in prompts.heard if p.call_id == accepted.offer_id]
    assert cut[0] == "네"


async def test_keys_still_work_when_speech_is_on(hotline: Hotline) -> None:
    presses_1 = "+8613900139201"
    clinic = await hotline.store.write(
        lambda s: build_clinic(s, now=utcnow(), numbers=[presses_1], tag="K")
    )
    refill = await asyncio.wait_for(_cancel_and_wait_for_refill(hotline, clinic), 120)
    assert refill.status is RefillStatus.FILLED
    assert [c.result for c in refill.calls] == [DialerCallResult.ACCEPTED]
    booked = await hotline.store.read(lambda s: _booked_patients(s, clinic.slot_id))
    assert booked == [clinic.waitlisted[presses_1]]


async def test_words_the_model_lacks_are_dropped_and_keys_only_without_both(
    hotline: Hotline,
) -> None:
    # The offer app's voice, over Hotline's real recogniser (the Korean model).
    app = hotline.agi.routes["dialer-offer"]
    assert isinstance(app, OfferCallApp)
    voice = app.voice
    assert voice.understood({"yes": "1", "네": "1", "아니요": "2"}) == {"네": "1", "아니요": "2"}
    assert voice.understood({"yes": "1", "아니요": "2"}) == {}
