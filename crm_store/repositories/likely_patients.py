"""Likely patients for a caller the IVR could not name: the screen pop's "unknown number"
suggestions, which the agent confirms with the caller before attaching the call.

Three sources, each one indexed look-up with a small limit (fast at a million patients):

* **same number** — the caller ID read in every format it could be in (E.164, national,
  with the country code but no "+", a stray trunk prefix) and found on file: typically a
  number several patients share (a family), which the IVR never names on its own;
* **same line** — a fixed line that differs only in its last two digits (a switchboard's
  extensions: a care home, a company). Mobile numbers are never widened this way: a
  neighbouring mobile number is a stranger. The block's hundred numbers are probed in
  ``ix_phone_numbers_e164``;
* **name** — the name the caller gave in the IVR, exactly as on file
  (``ix_patients_full_name``).

A suggestion carries only what an agent needs to ask the right question: the name, the
number masked to its country code and last four digits, and the year of birth.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import TypeAlias

import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy import ScalarSelect, Select, select
from sqlalchemy.orm import Session

from crm_store.models import Patient, PhoneNumber
from crm_store.phone_numbers import normalise

#: How many suggestions of each kind, and in all, a pop shows.
PER_SOURCE = 5
MOST = 8
#: Digits a switchboard's extensions differ in ("same line").
LINE_DIGITS = 2
#: Fewer digits than this in a garbled caller ID are not worth reading.
MIN_DIGITS = 7

_NON_DIGITS = re.compile(r"\D")

#: A suggestion's row: patient id, name, date of birth, the number shown masked.
_Suggestions: TypeAlias = "Select[int, str, dt.date | None, str | None]"


class MatchReason(str, enum.Enum):
    SAME_NUMBER = "same_number"
    SAME_LINE = "same_line"
    NAME = "name"


@dataclass(frozen=True)
class LikelyPatient:
    """A patient the caller may be: only what an agent needs to verify them."""

    patient_id: int
    name: str
    masked_number: str | None
    birth_year: int | None
    reason: MatchReason


@dataclass(frozen=True)
class NumberCandidates:
    """What a caller ID could be: exact E.164 numbers, and a fixed line's prefix."""

    exact: tuple[str, ...]
    line_prefix: str | None  # E.164 without its last LINE_DIGITS digits


def mask_number(e164: str) -> str:
    """``+8613800138000`` → ``+86*******8000``: the country code and the last four."""
    code = phonenumbers.parse(e164).country_code
    head = f"+{code}"
    hidden = max(len(e164) - len(head) - 4, 0)
    return f"{head}{'*' * hidden}{e164[-4:]}"


def number_candidates(raw: str | None, region: str = "CN") -> NumberCandidates:
    """The E.164 numbers a caller ID may stand for (pure). A valid one is itself; a
    garbled one (missing "+", a stray prefix, extra digits) is read as the international
    form of its digits, its national form, and its last eleven digits (a mobile)."""
    number = normalise(raw, region)
    if number.e164 is not None:
        exact: list[str] = [number.e164]
    else:
        digits = _NON_DIGITS.sub("", raw or "")
        exact = []
        if len(digits) >= MIN_DIGITS:
            for guess in (f"+{digits}", digits, digits[-11:]):
                e164 = normalise(guess, region).e164
                if e164 is not None and e164 not in exact:
                    exact.append(e164)
    prefix = None
    if len(exact) == 1 and _is_fixed_line(exact[0]):
        prefix = exact[0][:-LINE_DIGITS]
    return NumberCandidates(tuple(exact), prefix)


def _is_fixed_line(e164: str) -> bool:
    return bool(phonenumbers.number_type(phonenumbers.parse(e164)) == PhoneNumberType.FIXED_LINE)


class LikelyPatientFinder:
    """The look-ups behind :func:`number_candidates` and the IVR's name."""

    def __init__(self, session: Session, *, region: str = "CN") -> None:
        self.session = session
        self.region = region

    def find(self, caller_number: str | None, name: str | None) -> list[LikelyPatient]:
        """Suggestions, best first (same number, same line, name), each patient once."""
        candidates = number_candidates(caller_number, self.region)
        found: dict[int, LikelyPatient] = {}
        if candidates.exact:
            query = _by_number().where(PhoneNumber.e164.in_(candidates.exact))
            self._collect(found, query, MatchReason.SAME_NUMBER)
        if candidates.line_prefix is not None:
            # The hundred numbers of the block, spelt out: index probes that do not depend
            # on how the database's collation orders "+" and digits (a range would).
            block = [f"{candidates.line_prefix}{n:0{LINE_DIGITS}d}" for n in range(10**LINE_DIGITS)]
            query = _by_number().where(PhoneNumber.e164.in_(block))
            self._collect(found, query, MatchReason.SAME_LINE)
        spoken = (name or "").strip()
        if spoken:
            query = (
                select(Patient.id, Patient.full_name, Patient.date_of_birth, _primary_number())
                .where(Patient.full_name == spoken)
                .order_by(Patient.id)
            )
            self._collect(found, query, MatchReason.NAME)
        return list(found.values())[:MOST]

    def _collect(
        self, found: dict[int, LikelyPatient], query: _Suggestions,
        reason: MatchReason,
    ) -> None:  # fmt: skip
        for patient_id, name, born, e164 in self.session.execute(query.limit(PER_SOURCE)):
            if patient_id in found:
                continue
            found[patient_id] = LikelyPatient(
                patient_id=patient_id,
                name=name,
                masked_number=mask_number(e164) if e164 else None,
                birth_year=born.year if born is not None else None,
                reason=reason,
            )


def _by_number() -> _Suggestions:
    return (
        select(Patient.id, Patient.full_name, Patient.date_of_birth, PhoneNumber.e164)
        .join(Patient, Patient.id == PhoneNumber.patient_id)
        .order_by(PhoneNumber.e164, Patient.id)
    )


def _primary_number() -> ScalarSelect[str]:
    """The patient's primary (else first) number, for the mask shown with a name match."""
    return (
        select(PhoneNumber.e164)
        .where(PhoneNumber.patient_id == Patient.id)
        .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id)
        .limit(1)
        .scalar_subquery()
    )
