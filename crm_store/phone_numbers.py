"""Caller numbers normalised to E.164, backed by Google's libphonenumber rules
(the ``phonenumbers`` package).

:func:`normalise` takes whatever a trunk, a form or a CSV file calls a number and says
whether it is a valid number (with its E.164 and national display forms), a withheld one,
or garbage. It never raises: caller IDs are caller-controlled text.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

#: What trunks and phones send when the caller hides their number.
WITHHELD_MARKERS = frozenset(
    {
        "",
        "0",
        "anonymous",
        "unknown",
        "restricted",
        "private",
        "withheld",
        "unavailable",
        "not available",
        "blocked",
        "no caller id",
        "-",
        "匿名",
        "未知",
        "隐藏",
        "私人号码",
    }
)

#: Longest input worth parsing; anything longer is not a phone number.
MAX_RAW_LENGTH = 64

# An extension marker and everything after it: "ext. 12", "x12", "#12", "转12", "分机12".
_EXTENSION = re.compile(r"(?i)\s*(?:ext\.?|extension|x|转|分机|#|,|;|p|w).*$")
# What may remain of a number once the extension is cut off.
_NUMBER_CHARS = re.compile(r"^[0-9+\-\s().\/]+$")


class NumberKind(enum.Enum):
    VALID = "valid"
    WITHHELD = "withheld"
    INVALID = "invalid"


@dataclass(frozen=True)
class NormalisedNumber:
    """A caller number as received and as understood."""

    raw: str
    kind: NumberKind
    e164: str | None = None  # "+8613800138000" when VALID

    @property
    def is_valid(self) -> bool:
        return self.kind is NumberKind.VALID

    @property
    def national(self) -> str | None:
        """The display form, "138 0013 8000", when VALID. Formatted on demand: choosing
        the national pattern costs more than parsing, and the call path never shows it."""
        if self.e164 is None:
            return None
        return phonenumbers.format_number(phonenumbers.parse(self.e164), PhoneNumberFormat.NATIONAL)


def normalise(raw: str | None, region: str = "CN") -> NormalisedNumber:
    """Classify and normalise a phone number. National forms (with or without the 0
    trunk prefix) are read as ``region``'s; ``+CC`` and the region's international
    prefix (``00`` in China) as international. Extensions are dropped. Never raises."""
    text = "" if raw is None else str(raw)
    try:
        return _normalise(text, region)
    except Exception:  # belt and braces: caller IDs must never crash the caller
        return NormalisedNumber(raw=text, kind=NumberKind.INVALID)


def _normalise(text: str, region: str) -> NormalisedNumber:
    invalid = NormalisedNumber(raw=text, kind=NumberKind.INVALID)
    if len(text) > MAX_RAW_LENGTH:
        return invalid
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        return invalid  # control / format / unassigned characters: never a real caller ID
    folded = unicodedata.normalize("NFKC", text).strip()
    marker = folded.strip("<>\"' ").lower()
    if marker in WITHHELD_MARKERS:
        return NormalisedNumber(raw=text, kind=NumberKind.WITHHELD)
    main = _EXTENSION.sub("", folded)
    if not main or not _NUMBER_CHARS.match(main) or not any(ch.isdigit() for ch in main):
        return invalid
    if set(main) <= set("0+-() ./"):
        return NormalisedNumber(raw=text, kind=NumberKind.WITHHELD)  # "000", "+0"
    try:
        parsed = phonenumbers.parse(main, region.upper())
    except NumberParseException:
        return invalid
    if not phonenumbers.is_valid_number(parsed):
        return invalid
    parsed.extension = None
    return NormalisedNumber(
        raw=text,
        kind=NumberKind.VALID,
        e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
    )
