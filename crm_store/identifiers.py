"""Identifiers the hotline reads out or must never show: appointment references,
complaint ticket numbers and national-ID digests.

References and tickets are digits only (a caller keys them on the phone pad or reads them
to an agent), 8 random digits plus a Luhn check digit so that one mistyped or misheard
digit, or two swapped neighbours, is caught before the database is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

REFERENCE_PAYLOAD_DIGITS = 8
REFERENCE_LENGTH = REFERENCE_PAYLOAD_DIGITS + 1


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit for a string of decimal digits."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the digit right of the check digit, and every other
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def make_reference(payload: int | None = None) -> str:
    """A new reference number (9 digits, never starting with 0). ``payload`` fixes the
    8 leading digits (seeding); otherwise they are random."""
    if payload is None:
        payload = 10_000_000 + secrets.randbelow(90_000_000)
    if not 10_000_000 <= payload <= 99_999_999:
        raise ValueError("reference payload must have exactly 8 digits")
    digits = str(payload)
    return digits + luhn_check_digit(digits)


def clean_reference(text: str) -> str | None:
    """The reference as stored, from what a caller keyed or said (spaces, dashes and
    full-width digits tolerated), or None if it cannot be one (wrong length, bad check
    digit) — so the IVR can re-prompt without a database query."""
    digits = ""
    for ch in text:
        value = unicodedata.digit(ch, None)
        if value is not None:
            digits += str(value)
        elif not (ch.isspace() or ch in "-."):
            return None
    if len(digits) != REFERENCE_LENGTH or digits[0] == "0":
        return None
    if luhn_check_digit(digits[:-1]) != digits[-1]:
        return None
    return digits


def format_reference(reference: str) -> str:
    """Grouped for reading out: ``123 456 789``."""
    return " ".join(reference[i : i + 3] for i in range(0, len(reference), 3))


@dataclass(frozen=True)
class NationalIdDigest:
    """What the store keeps of a national identifier: a keyed hash for exact lookup and
    the last four characters for display. The full value is never stored."""

    digest: str  # hex HMAC-SHA256
    last4: str


class NationalIdHasher:
    """Keyed hashing of national identifiers. The key is a deployment secret (kept outside
    the database) so a stolen database does not let anyone test candidate ids."""

    #: Development-only key; production deployments pass their own.
    DEV_KEY = b"hotline-dev-national-id-key"

    def __init__(self, key: bytes = DEV_KEY) -> None:
        if len(key) < 16:
            raise ValueError("the national-id hashing key must be at least 16 bytes")
        self._key = key

    @staticmethod
    def canonical(national_id: str) -> str:
        """Uppercase, full-width folded, separators removed (``11010519491231002x`` and
        ``110105 19491231 002X`` are the same person)."""
        folded = unicodedata.normalize("NFKC", national_id).upper()
        return "".join(ch for ch in folded if ch.isalnum())

    def digest(self, national_id: str) -> NationalIdDigest:
        """Digest and display suffix of an identifier; raises ValueError when empty."""
        canonical = self.canonical(national_id)
        if len(canonical) < 4:
            raise ValueError("a national identifier has at least 4 letters or digits")
        mac = hmac.new(self._key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        return NationalIdDigest(digest=mac, last4=canonical[-4:])


def mask_national_id(last4: str) -> str:
    """Display form of a stored identifier: ``**************123X``."""
    return "*" * 14 + last4
