"""Speakable text per language: names, dates, times, reference numbers, greetings."""

# Chinese text uses full-width punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.settings import Language
from ivr import speech_text
from ivr.prompts import normalise_prompt_text
from ivr.speech_text import (
    MAX_SPOKEN_NAME_CHARS,
    date_text,
    greeting_known,
    greeting_unknown,
    reference_text,
    speakable_name,
    time_text,
)

ZH, EN = Language.MANDARIN, Language.ENGLISH
HOSPITAL = {ZH: "市人民医院", EN: "City People's Hospital"}


def test_greets_a_known_patient_by_name() -> None:
    assert (
        greeting_known(ZH, "张伟", "市人民医院") == "您好，张伟，欢迎致电市人民医院患者服务热线。"
    )
    assert (
        greeting_known(EN, "Zhang Wei", "City People's Hospital")
        == "Hello Zhang Wei, welcome to the City People's Hospital patient hotline."
    )


def test_greets_an_unknown_caller_generically() -> None:
    assert greeting_unknown(ZH, "市人民医院") == "您好，欢迎致电市人民医院患者服务热线。"
    assert greeting_unknown(EN, "City Hospital") == (
        "Hello, welcome to the City Hospital patient hotline."
    )


@pytest.mark.parametrize(
    "name",
    [None, "", "   ", "\x00\x07", "☎☎☎", "12345", "<unknown>", "Anonymous", "未知"],
)
def test_a_name_with_nothing_speakable_gets_the_generic_greeting(name: str | None) -> None:
    assert greeting_known(EN, name, "City Hospital") == greeting_unknown(EN, "City Hospital")
    assert greeting_known(ZH, name, "市人民医院") == greeting_unknown(ZH, "市人民医院")


def test_english_leaves_out_a_name_written_in_chinese_characters() -> None:
    # en-us would say "Chinese letter, Chinese letter"
    assert speakable_name("张伟", EN) is None
    assert speakable_name("张伟", ZH) == "张伟"
    assert speakable_name("Zhang Wei", ZH) == "Zhang Wei"  # the Mandarin voice reads pinyin
    assert speakable_name("김민준", ZH) is None


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("Zhang\r\nWei", "Zhang Wei"),  # CR/LF from a caller ID name
        ("Zhang\x00Wei", "ZhangWei"),
        ("  O'Brien-Smith ", "O'Brien-Smith"),
        ("买买提·艾力", "买买提 艾力"),  # the middle dot becomes a pause
        ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),  # full-width letters and space
        ("<speak>Bob</speak>", "speak Bob speak"),  # markup is just words
        ("Zhang Wei 13800138000", "Zhang Wei"),
        ("Ms. Li", "Ms Li"),
        ("José", "José"),
        ("\u202eevil\u202c", "evil"),  # bidi overrides dropped
    ],
)
def test_names_are_cleaned(raw: str, spoken: str) -> None:
    language = ZH if any("\u4e00" <= c <= "\u9fff" for c in raw) else EN
    assert speakable_name(raw, language) == spoken


def test_long_names_are_cut_at_a_word() -> None:
    name = speakable_name("Alexandra " * 10, EN)
    assert name is not None and len(name) <= MAX_SPOKEN_NAME_CHARS
    assert name.split() == ["Alexandra"] * 3
    assert len(speakable_name("张" * 100, ZH) or "") == MAX_SPOKEN_NAME_CHARS


def test_hospital_name_must_say_something() -> None:
    with pytest.raises(ValueError, match="nothing speakable"):
        greeting_unknown(EN, "\x00 ")


@pytest.mark.parametrize(
    ("day", "zh", "en"),
    [
        (dt.date(2026, 11, 23), "11月23日 星期一", "Monday, 23rd November"),
        (dt.date(2026, 1, 1), "1月1日 星期四", "Thursday, 1st January"),
        (dt.date(2026, 3, 2), "3月2日 星期一", "Monday, 2nd March"),
        (dt.date(2026, 3, 11), "3月11日 星期三", "Wednesday, 11th March"),
        (dt.date(2026, 3, 22), "3月22日 星期日", "Sunday, 22nd March"),
    ],
)
def test_dates(day: dt.date, zh: str, en: str) -> None:
    assert date_text(day, ZH) == zh
    assert date_text(day, EN) == en


def test_dates_with_year() -> None:
    assert date_text(dt.date(2026, 11, 23), ZH, with_year=True) == "二零二六年11月23日 星期一"
    assert date_text(dt.date(2026, 11, 23), EN, with_year=True) == "Monday, 23rd November 2026"


@pytest.mark.parametrize(
    ("moment", "zh", "en"),
    [
        (dt.time(10, 30), "上午10点30分", "10:30 AM"),
        (dt.time(10, 0), "上午10点", "10 AM"),
        (dt.time(14, 5), "下午2点零5分", "2 oh 5 PM"),
        (dt.time(12, 0), "中午12点", "12 noon"),
        (dt.time(12, 45), "中午12点45分", "12:45 PM"),
        (dt.time(0, 0), "凌晨0点", "12 midnight"),
        (dt.time(0, 15), "凌晨0点15分", "12:15 AM"),
        (dt.time(19, 10), "晚上7点10分", "7:10 PM"),
        (dt.time(8, 59, 59), "上午8点59分", "8:59 AM"),
    ],
)
def test_times(moment: dt.time, zh: str, en: str) -> None:
    assert time_text(moment, ZH) == zh
    assert time_text(moment, EN) == en


@pytest.mark.parametrize(
    ("reference", "zh", "en"),
    [
        ("4712", "四 七 幺 二", "4 7 1 2"),
        ("471239", "四 七 幺，二 三 九", "4 7 1, 2 3 9"),
        ("13800138000", "幺 三 八，零 零 幺 三，八 零 零 零", "1 3 8, 0 0 1 3, 8 0 0 0"),
        ("C-2026-0471", "C，二 零 二 六，零 四 七 幺", "C, 2 0 2 6, 0 4 7 1"),
        ("ab 12", "A B，幺 二", "A B, 1 2"),
        ("０４７１", "零 四 七 幺", "0 4 7 1"),  # full-width digits
    ],
)
def test_reference_numbers_are_read_digit_by_digit(reference: str, zh: str, en: str) -> None:
    assert reference_text(reference, ZH) == zh
    assert reference_text(reference, EN) == en


@pytest.mark.parametrize("reference", ["", "---", "☎", "1" * 33])
def test_unreadable_references_are_refused(reference: str) -> None:
    with pytest.raises(ValueError):
        reference_text(reference, EN)


def test_static_texts_cover_greeting_fallback_hold_goodbye_and_recording_notice() -> None:
    for language in Language:
        texts = speech_text.static_texts(language, HOSPITAL[language])
        assert set(texts) == {
            "greeting.unknown",
            "fallback",
            "hold",
            "goodbye",
            "recording-notice",
        }
        for text in texts.values():
            assert normalise_prompt_text(text) == text


# -------------------------------------------------------------------- properties

names = st.one_of(st.none(), st.text(max_size=300), st.text(alphabet=st.characters(), max_size=50))


@given(raw=names, language=st.sampled_from(Language))
def test_any_name_is_cleaned_without_raising(raw: str | None, language: Language) -> None:
    name = speakable_name(raw, language)
    if name is None:
        return
    assert name and name == name.strip() and "  " not in name
    assert len(name) <= MAX_SPOKEN_NAME_CHARS
    assert not any(unicodedata.category(c)[0] == "C" for c in name)
    assert any(unicodedata.category(c)[0] == "L" for c in name)


@given(raw=names, language=st.sampled_from(Language))
def test_any_greeting_is_renderable_text(raw: str | None, language: Language) -> None:
    text = greeting_known(language, raw, HOSPITAL[language])
    assert normalise_prompt_text(text) == text  # would be accepted by the renderer as-is


@given(day=st.dates(), moment=st.times(), language=st.sampled_from(Language))
def test_any_date_and_time_is_renderable_text(
    day: dt.date, moment: dt.time, language: Language
) -> None:
    assert normalise_prompt_text(date_text(day, language, with_year=True))
    assert normalise_prompt_text(time_text(moment, language))


@given(reference=st.text(max_size=80), language=st.sampled_from(Language))
def test_any_reference_is_read_or_refused_with_value_error(
    reference: str, language: Language
) -> None:
    try:
        text = reference_text(reference, language)
    except ValueError:
        return
    assert normalise_prompt_text(text) == text
