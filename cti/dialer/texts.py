"""What a patient hears on an offer call, per language (pure; no audio here).

Names of doctors and departments come from the store (typed by staff) and are cleaned
by :func:`ivr.speech_text.clean_spoken_text` before they reach the speech engine.
"""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from cti.settings import Language
from ivr import speech_text

MAX_NAME_CHARS = 40


@dataclass(frozen=True)
class SlotOffer:
    """The slot on offer, as said to the patient."""

    doctor_name: str
    department_name: str
    starts_at: dt.datetime  # aware
    timezone: str


def _clean(raw: str) -> str:
    return speech_text.clean_spoken_text(raw, MAX_NAME_CHARS)


def _spoken(language: Language, offer: SlotOffer, hospital: str) -> tuple[str, ...]:
    """Day, time, doctor, department and hospital as the voice says them."""
    local = offer.starts_at.astimezone(zoneinfo.ZoneInfo(offer.timezone))
    return (
        speech_text.date_text(local.date(), language),
        speech_text.time_text(local.time(), language),
        _clean(offer.doctor_name),
        _clean(offer.department_name),
        _clean(hospital),
    )


def offer_text(
    language: Language,
    offer: SlotOffer,
    hospital: str,
    *,
    spoken: tuple[str, str] | None = None,
) -> str:
    """ "Hello, this is <hospital>. An appointment has come free: Dr. Li, cardiology,
    Thursday, 4th March, 10:30 AM. To take it, press 1. To decline, press 2." With
    ``spoken`` (the yes and no words, when the call listens for speech): "say yes or
    press 1", "say no or press 2"."""
    day, time, doctor, department, hospital = _spoken(language, offer, hospital)
    if language is Language.MANDARIN:
        if spoken:
            choose = f"接受请说“{spoken[0]}”或按1，不需要请说“{spoken[1]}”或按2。"
        else:
            choose = "接受请按1，不需要请按2。"
        return (
            f"您好，这里是{hospital}。您在候补名单上的预约有空位了：{department}，{doctor}，"
            f"{day}，{time}。{choose}"
        )
    if spoken:
        choose = f"To take it, say {spoken[0]} or press 1. To decline, say {spoken[1]} or press 2."
    else:
        choose = "To take it, press 1. To decline, press 2."
    return (
        f"Hello, this is {hospital}. An appointment you are waiting for has come free: "
        f"Dr. {doctor}, {department}, {day}, at {time}. {choose}"
    )


def accepted_text(language: Language, reference: str) -> str:
    spoken = speech_text.reference_text(reference, language)
    if language is Language.MANDARIN:
        return f"预约成功。您的预约号是{spoken}。再见。"
    return f"It is booked. Your reference is {spoken}. Goodbye."


def taken_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "抱歉，这个号刚刚被其他患者预约了。您仍在候补名单上。再见。"
    return (
        "Sorry, that appointment was just taken by another patient. "
        "You stay on the waiting list. Goodbye."
    )


def declined_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "好的，您仍在候补名单上。再见。"
    return "Thank you. You stay on the waiting list. Goodbye."


def no_choice_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "我们没有收到您的选择。您仍在候补名单上。再见。"
    return "We did not hear a choice. You stay on the waiting list. Goodbye."


def reminder_text(language: Language, offer: SlotOffer, hospital: str) -> str:
    """ "Hello, this is <hospital>. A reminder of your appointment tomorrow, Thursday,
    4th March, at 10:30 AM, with Dr. Li, cardiology. To confirm, press 1. If you cannot
    come, press 2 to cancel it." """
    day, time, doctor, department, hospital = _spoken(language, offer, hospital)
    if language is Language.MANDARIN:
        return (
            f"您好，这里是{hospital}。提醒您明天的预约：{day}，{time}，{department}，{doctor}。"
            "确认请按1，如不能前来，取消请按2。"
        )
    return (
        f"Hello, this is {hospital}. A reminder of your appointment tomorrow, {day}, at "
        f"{time}, with Dr. {doctor}, {department}. To confirm, press 1. If you cannot come, "
        "press 2 to cancel it."
    )


def confirmed_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "谢谢，您的预约已确认。再见。"
    return "Thank you, your appointment is confirmed. Goodbye."


def reminder_cancelled_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "您的预约已取消，这个号会留给其他患者。再见。"
    return "Your appointment is cancelled; the time will go to another patient. Goodbye."


def reminder_no_choice_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "我们没有收到您的选择，您的预约保持不变。再见。"
    return "We did not hear a choice; your appointment stays booked. Goodbye."


@dataclass(frozen=True)
class SurveyQuestion:
    """One question of the post-visit follow-up; answered with one of ``keys``."""

    key: str  # the name its answer is stored under
    keys: str
    zh: str
    en: str

    def text(self, language: Language) -> str:
        return self.zh if language is Language.MANDARIN else self.en


#: The follow-up survey: short, keypad only, answers stored as digits.
SURVEY = (
    SurveyQuestion(
        "satisfaction",
        "12345",
        "请为本次就诊打分：非常满意请按1，依次到非常不满意请按5。",
        "How satisfied were you with your visit? Press 1 for very satisfied, "
        "up to 5 for very dissatisfied.",
    ),
    SurveyQuestion(
        "feeling_better",
        "12",
        "您现在感觉好些了吗？是请按1，否请按2。",
        "Do you feel better since your visit? Press 1 for yes, 2 for no.",
    ),
)


def follow_up_intro_text(language: Language, visit: SlotOffer, hospital: str) -> str:
    day, _time, doctor, department, hospital = _spoken(language, visit, hospital)
    if language is Language.MANDARIN:
        return f"您好，这里是{hospital}。您{day}在{department}就诊，我们想做一个简短的回访。"
    return (
        f"Hello, this is {hospital}, following up on your visit to Dr. {doctor}, "
        f"{department}, on {day}. Two short questions."
    )


def follow_up_thanks_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "谢谢您的回答，祝您早日康复。再见。"
    return "Thank you for your answers. We wish you well. Goodbye."
