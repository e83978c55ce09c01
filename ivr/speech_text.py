"""Speakable text, per language, for the values a prompt carries: a patient's name, dates,
times, reference and ticket numbers, and the fixed texts of greeting, hold and fallback.

Pure functions; nothing here renders audio. Everything returned is safe to hand to
:class:`ivr.prompts.PromptCache`: caller-controlled text (a patient's display name may
come from a caller ID or a web form) is cleaned here and never reaches espeak-ng raw.

Choices, for a listener on an 8 kHz phone line:

- Mandarin digits read one by one use 幺 (yāo) for 1, as Chinese telephone operators,
  carriers' hotlines (10086 is "幺零零八六") and airline staff do: 一 (yī) and 七 (qī)
  differ only in their onset, which narrow-band audio blurs. 二 (not 两) for 2.
- Long digit strings are read in groups of at most four with a pause between groups,
  smaller groups first: 11 digits are 3-4-4 like a Chinese mobile number.
- Times say the part of the day in Mandarin (凌晨/上午/中午/下午/晚上) on a 12-hour
  clock; English says "10:30 AM", "10 oh 5 AM", "12 noon".
- English dates use ordinals ("Monday, 23rd November"): espeak-ng reads "23 November"
  as "twenty three November".
"""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import unicodedata

from cti.settings import Language

#: A spoken name longer than this is cut (at a word boundary when there is one).
MAX_SPOKEN_NAME_CHARS = 32
MAX_HOSPITAL_NAME_CHARS = 60
MAX_REFERENCE_CHARS = 32

_ZH_DIGITS = "零幺二三四五六七八九"
_ZH_YEAR_DIGITS = "零一二三四五六七八九"  # years are read with 一: 二零一九年
_ZH_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip

#: Punctuation kept inside a spoken name; ``·`` and ``.`` become a pause (a space).
_NAME_JOINERS = frozenset("-'’")
_NAME_SEPARATORS = frozenset("·•・.。,，、_/")

#: What switches and forms put where a name is missing; never said as a name.
_PLACEHOLDER_NAMES = frozenset(
    {
        "unknown", "unknown caller", "anonymous", "restricted", "private", "unavailable",
        "withheld", "n a", "na", "none", "null", "nil", "未知", "匿名", "无", "未知来电",
    }
)  # fmt: skip


def _script(char: str) -> str:
    """A coarse script of a letter: "latin", "han", or "other"."""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "other"
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CJK"):
        return "han"
    return "other"


def _readable_scripts(language: Language) -> frozenset[str]:
    # en-us spells a Han character as "Chinese letter"; the Mandarin voice reads Latin
    # as pinyin (or English for words that are not pinyin) and Han as Mandarin.
    if language is Language.ENGLISH:
        return frozenset({"latin"})
    return frozenset({"latin", "han"})


def clean_spoken_text(raw: str, max_chars: int) -> str:
    """Text reduced to letters, marks, digits, spaces and name punctuation; NFKC (so
    full-width letters become plain ones), control and format characters dropped,
    whitespace collapsed, cut to ``max_chars`` at a word boundary when possible."""
    text = unicodedata.normalize("NFKC", raw)
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in ("L", "M", "N") or char in _NAME_JOINERS:
            out.append(char)
        elif category[0] == "Z" or char.isspace() or char in _NAME_SEPARATORS:
            out.append(" ")
        elif category[0] == "C":
            continue  # control, format, surrogate, private, unassigned: gone
        else:
            out.append(" ")
    words = [word.strip("".join(_NAME_JOINERS)) for word in "".join(out).split()]
    cleaned = " ".join(word for word in words if word)
    if len(cleaned) > max_chars:
        cut = cleaned[:max_chars]
        if " " in cut and cleaned[max_chars] != " ":
            cut = cut.rsplit(" ", 1)[0]
        cleaned = cut.strip()
    return cleaned


def speakable_name(raw: str | None, language: Language) -> str | None:
    """A person's name as the ``language`` voice can say it, or None when nothing of it
    can be said well (empty, symbols only, or a script the voice cannot read — an
    English greeting leaves out a name written in Chinese characters)."""
    if not raw:
        return None
    name = clean_spoken_text(raw, MAX_SPOKEN_NAME_CHARS)
    if name.casefold() in _PLACEHOLDER_NAMES:
        return None
    letters = [char for char in name if unicodedata.category(char)[0] == "L"]
    if not letters:
        return None
    readable = _readable_scripts(language)
    if any(_script(char) not in readable for char in letters):
        return None
    # Digits in a name are noise (a caller ID like "Zhang 138..."); keep the words with letters.
    words = [w for w in name.split() if any(unicodedata.category(c)[0] == "L" for c in w)]
    return " ".join(words) or None


def _hospital(hospital: str) -> str:
    name = clean_spoken_text(hospital, MAX_HOSPITAL_NAME_CHARS)
    if not name:
        raise ValueError(f"hospital name {hospital!r} has nothing speakable in it")
    return name


def greeting_known(language: Language, display_name: str | None, hospital: str) -> str:
    """The first words a known caller hears: by name when the name can be said, else
    the generic greeting."""
    hospital = _hospital(hospital)
    name = speakable_name(display_name, language)
    if language is Language.MANDARIN:
        if name:
            return f"您好，{name}，欢迎致电{hospital}患者服务热线。"
        return f"您好，欢迎致电{hospital}患者服务热线。"
    if name:
        return f"Hello {name}, welcome to the {hospital} patient hotline."
    return f"Hello, welcome to the {hospital} patient hotline."


def greeting_unknown(language: Language, hospital: str) -> str:
    """The first words a caller whose number is unknown (or withheld) hears."""
    return greeting_known(language, None, hospital)


def fallback_text(language: Language) -> str:
    """Said when the call goes to a person (by request or after failed attempts)."""
    if language is Language.MANDARIN:
        return "正在为您转接人工服务，请稍候。"
    return "Please hold while we connect you to a member of our team."


def hold_text(language: Language) -> str:
    """Said at intervals while the caller waits for a person."""
    if language is Language.MANDARIN:
        return "所有服务人员正忙，请您稍候，我们将尽快为您服务。"
    return "All our staff are busy. Please stay on the line; we will be with you shortly."


def recording_notice_text(language: Language) -> str:
    """Said to a caller before an agent who records the call is connected."""
    if language is Language.MANDARIN:
        return "为了提高服务质量，您的通话可能会被录音。"
    return "This call may be recorded for quality and training purposes."


def goodbye_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "感谢您的来电，再见。"
    return "Thank you for calling. Goodbye."


def static_texts(language: Language, hospital: str) -> dict[str, str]:
    """The fixed prompts of ``language`` by name, for pre-rendering."""
    return {
        "greeting.unknown": greeting_unknown(language, hospital),
        "fallback": fallback_text(language),
        "hold": hold_text(language),
        "goodbye": goodbye_text(language),
        "recording-notice": recording_notice_text(language),
    }


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def date_text(day: dt.date, language: Language, *, with_year: bool = False) -> str:
    """zh "11月23日 星期一" (year as digits: "二零二六年11月23日 星期一");
    en "Monday, 23rd November" ("Monday, 23rd November 2026")."""
    weekday = day.weekday()
    if language is Language.MANDARIN:
        year = ""
        if with_year:
            year = "".join(_ZH_YEAR_DIGITS[int(d)] for d in f"{day.year:04d}") + "年"
        return f"{year}{day.month}月{day.day}日 {_ZH_WEEKDAYS[weekday]}"
    year = f" {day.year}" if with_year else ""
    return f"{_EN_WEEKDAYS[weekday]}, {_ordinal(day.day)} {_EN_MONTHS[day.month - 1]}{year}"


def time_text(moment: dt.time, language: Language) -> str:
    """zh "上午10点30分", "下午2点零5分", "中午12点"; en "10:30 AM", "2 oh 5 PM", "12 noon"."""
    hour, minute = moment.hour, moment.minute
    if language is Language.MANDARIN:
        if hour < 6:
            period, shown = "凌晨", hour
        elif hour < 12:
            period, shown = "上午", hour
        elif hour == 12:
            period, shown = "中午", 12
        elif hour < 18:
            period, shown = "下午", hour - 12
        else:
            period, shown = "晚上", hour - 12
        if minute == 0:
            minutes = ""
        elif minute < 10:
            minutes = f"零{minute}分"
        else:
            minutes = f"{minute}分"
        return f"{period}{shown}点{minutes}"
    if minute == 0 and hour == 12:
        return "12 noon"
    if minute == 0 and hour == 0:
        return "12 midnight"
    suffix = "AM" if hour < 12 else "PM"
    shown = hour % 12 or 12
    if minute == 0:
        return f"{shown} {suffix}"
    if minute < 10:
        return f"{shown} oh {minute} {suffix}"
    return f"{shown}:{minute:02d} {suffix}"


def _group_sizes(length: int, largest: int = 4) -> list[int]:
    count = -(-length // largest)
    base, extra = divmod(length, count)
    return [base] * (count - extra) + [base + 1] * extra  # smaller groups first


def reference_text(reference: str, language: Language) -> str:
    """A reference or ticket number read character by character, in groups.

    Digits: zh 零幺二三四五六七八九, en "4 7 1". Latin letters are spelled (upper case);
    anything else separates groups. Raises ValueError when nothing is left to read.
    """
    text = unicodedata.normalize("NFKC", reference)[: MAX_REFERENCE_CHARS * 2]
    runs: list[str] = []
    current = ""
    for char in text:
        if char.isascii() and char.isalnum():
            current += char.upper()
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    if not runs or sum(map(len, runs)) > MAX_REFERENCE_CHARS:
        raise ValueError(
            f"reference {reference!r} has no letters or digits to read"
            if not runs
            else f"reference {reference!r} is longer than {MAX_REFERENCE_CHARS} characters"
        )
    groups: list[str] = []
    for run in runs:
        start = 0
        for size in _group_sizes(len(run)):
            groups.append(run[start : start + size])
            start += size

    def spoken(char: str) -> str:
        if char.isdigit() and language is Language.MANDARIN:
            return _ZH_DIGITS[int(char)]
        return char

    if language is Language.MANDARIN:
        return "，".join(" ".join(spoken(c) for c in group) for group in groups)
    return ", ".join(" ".join(spoken(c) for c in group) for group in groups)
