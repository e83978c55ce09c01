"""The period a supervisor's report covers: presets and custom dates, in the hospital's
time zone, checked before anything is read (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from screenpop.errors import InvalidPeriod

#: The longest period one report covers (a leap year).
MAX_DAYS = 366


class Preset(str, Enum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this_week"  # Monday to today
    LAST_7_DAYS = "last_7_days"  # today and the six days before
    THIS_MONTH = "this_month"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` to ``last`` (both included) of the hospital's calendar."""

    first: dt.date
    last: dt.date
    preset: Preset

    def bounds(self, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` in UTC: local midnight of ``first`` to the one after ``last``."""

        def midnight(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

        return midnight(self.first), midnight(self.last + dt.timedelta(days=1))


def preset_period(preset: Preset, today: dt.date) -> Period:
    match preset:
        case Preset.YESTERDAY:
            day = today - dt.timedelta(days=1)
            return Period(day, day, preset)
        case Preset.THIS_WEEK:
            return Period(today - dt.timedelta(days=today.weekday()), today, preset)
        case Preset.LAST_7_DAYS:
            return Period(today - dt.timedelta(days=6), today, preset)
        case Preset.THIS_MONTH:
            return Period(today.replace(day=1), today, preset)
        case _:
            return Period(today, today, Preset.TODAY)


def _date(name: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidPeriod(f"{name} must be a date as YYYY-MM-DD; got {value[:40]!r}") from None


def parse_period(
    *, preset: str | None, first: str | None, last: str | None, today: dt.date
) -> Period:
    """The period a request asks for: ``from``/``to`` dates (``to`` defaults to
    ``from``), else a preset, else today. :class:`InvalidPeriod` for an unknown preset,
    a malformed date, a period that ends before it starts or one longer than a year."""
    if first or last:
        if not first:
            raise InvalidPeriod("give from as well as to (YYYY-MM-DD)")
        start = _date("from", first)
        end = _date("to", last) if last else start
        if start > end:
            raise InvalidPeriod(f"from ({start}) is after to ({end}); swap them")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidPeriod(f"a report covers at most {MAX_DAYS} days; shorten the period")
        return Period(start, end, Preset.CUSTOM)
    if not preset:
        return preset_period(Preset.TODAY, today)
    try:
        chosen = Preset(preset)
    except ValueError:
        names = ", ".join(p.value for p in Preset if p is not Preset.CUSTOM)
        raise InvalidPeriod(f"unknown period {preset[:40]!r}; use one of {names}") from None
    if chosen is Preset.CUSTOM:
        raise InvalidPeriod("a custom period needs from (and to) dates as YYYY-MM-DD")
    return preset_period(chosen, today)
