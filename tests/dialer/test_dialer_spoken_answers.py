# ruff: noqa: RUF001  (Chinese prompt text uses full-width punctuation on purpose)
"""Spoken answers on offer calls, the pure parts: which words mean which key in each
language, what a recognised turn amounts to, and what the offer asks the patient to do."""

from __future__ import annotations

import datetime as dt

from cti.dialer import texts
from cti.dialer.config import DialerPolicy
from cti.dialer.voice import first_words, spoken_answers, spoken_choice
from cti.settings import Language
from ivr.recognition import Outcome, RecognitionResult

POLICY = DialerPolicy(speech_yes_en=("yes", "sure  thing"), speech_no_en=("no",))
ANSWERS = spoken_answers(POLICY, Language.ENGLISH)
OFFER = texts.SlotOffer(
    doctor_name="Li",
    department_name="Cardiology",
    starts_at=dt.datetime(2026, 12, 3, 2, 30, tzinfo=dt.UTC),
    timezone="Asia/Shanghai",
)


def test_words_per_language_map_to_keys() -> None:
    assert ANSWERS == {"yes": "1", "sure thing": "1", "no": "2"}
    assert spoken_answers(POLICY, Language.MANDARIN) == {
        "是": "1",
        "好": "1",
        "要": "1",
        "不": "2",
        "不要": "2",
    }
    assert first_words(ANSWERS) == ("yes", "no")
    assert first_words({"yes": "1"}) is None
    # Without words for both answers a language is keypad only.
    assert spoken_answers(POLICY.model_copy(update={"speech_no_zh": ()}), Language.MANDARIN) == {}


def test_a_turn_amounts_to_a_key_or_nothing() -> None:
    said = RecognitionResult(outcome=Outcome.MATCH, text="sure thing")
    assert spoken_choice(said, ANSWERS, "12") == "1"
    assert spoken_choice(RecognitionResult(outcome=Outcome.MATCH, text="no"), ANSWERS, "12") == "2"
    assert spoken_choice(RecognitionResult(outcome=Outcome.KEYS, digits="2"), ANSWERS, "12") == "2"
    # A key the question does not offer, a word outside the answers, silence, noise: nothing.
    assert spoken_choice(RecognitionResult(outcome=Outcome.KEYS, digits="9"), ANSWERS, "12") == ""
    assert (
        spoken_choice(RecognitionResult(outcome=Outcome.MATCH, text="maybe"), ANSWERS, "12") == ""
    )
    assert spoken_choice(RecognitionResult(outcome=Outcome.NO_INPUT), ANSWERS, "12") == ""
    assert (
        spoken_choice(RecognitionResult(outcome=Outcome.NO_MATCH, heard="yes"), ANSWERS, "12") == ""
    )


def test_the_offer_names_the_words_only_when_it_listens() -> None:
    keypad = texts.offer_text(Language.ENGLISH, OFFER, "City Hospital")
    assert keypad.endswith("To take it, press 1. To decline, press 2.")
    spoken = texts.offer_text(Language.ENGLISH, OFFER, "City Hospital", spoken=("yes", "no"))
    assert spoken.endswith("To take it, say yes or press 1. To decline, say no or press 2.")
    zh = texts.offer_text(Language.MANDARIN, OFFER, "市医院", spoken=("是", "不"))
    assert zh.endswith("接受请说“是”或按1，不需要请说“不”或按2。")
