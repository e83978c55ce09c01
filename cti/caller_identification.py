"""Who is calling: a caller ID number to the patients who use it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from crm_store.gateway import StoreGateway
from crm_store.phone_numbers import NormalisedNumber, NumberKind, normalise
from crm_store.repositories.patients import PatientMatch, PatientRepository


@dataclass(frozen=True, slots=True)
class Identification:
    number: NormalisedNumber
    matches: tuple[PatientMatch, ...]

    @property
    def owner(self) -> PatientMatch | None:
        """The patient whose own number this is — the one to greet by name — or None
        (no patient, several, or only a relative's phone: the caller may be the relative)."""
        own = [m for m in self.matches if m.relation is None]
        return own[0] if len(own) == 1 else None

    @property
    def patient(self) -> PatientMatch | None:
        """The patient the call is most likely about, to link it to: the owner, else the
        only patient who listed this number as a relative's."""
        if self.owner is not None:
            return self.owner
        if len(self.matches) == 1:
            return self.matches[0]
        return None  # a number several patients share: don't guess


class CallerIdentifier:
    """Looks numbers up with a short cache: a call's tracker and its IVR ask together."""

    def __init__(self, store: StoreGateway, *, region: str, cache_s: float = 5.0) -> None:
        self.store = store
        self.region = region
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, Identification]] = {}

    async def identify(self, raw_number: str | None) -> Identification:
        number = normalise(raw_number, self.region)
        if number.kind is not NumberKind.VALID or number.e164 is None:
            return Identification(number=number, matches=())
        now = time.monotonic()
        cached = self._cache.get(number.e164)
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        e164 = number.e164
        matches = await self.store.lookup(lambda s: PatientRepository(s).find_by_phone(e164))
        result = Identification(number=number, matches=tuple(matches))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[e164] = (now, result)
        return result
