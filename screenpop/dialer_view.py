"""The dialer page's content, from the store's records (pure: no HTTP, no session).

The chart is drawn with the consoles' one chart drawing (:mod:`screenpop.charts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from crm_store.enums import RefillStatus
from crm_store.repositories.dialer import RefillView
from screenpop.charts import BarChart, bar_chart


def local_day(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    return moment.astimezone(zone).date()


def daily_chart(
    refills: Sequence[RefillView], *, today: dt.date, days: int, zone: dt.tzinfo
) -> BarChart:
    """Bars for the last ``days`` days up to ``today`` (hospital time): places freed per
    day of their freeing (series "freed"), and how many of those the dialer refilled
    ("filled")."""
    if days < 1:
        raise ValueError("a chart needs at least one day")
    first = today - dt.timedelta(days=days - 1)
    freed = dict.fromkeys((first + dt.timedelta(days=i) for i in range(days)), 0)
    filled = dict(freed)
    for refill in refills:
        day = local_day(refill.freed_at, zone)
        if day not in freed:
            continue
        freed[day] += 1
        if refill.status is RefillStatus.FILLED and refill.filled_appointment_id is not None:
            filled[day] += 1
    return bar_chart(
        [(day.isoformat(), f"{day.month}/{day.day}") for day in freed],
        {"freed": list(freed.values()), "filled": list(filled.values())},
        key_name="day",
    )


def minutes_text(minutes: float | None) -> str | None:
    """``12 min`` / ``3 h 05 min`` style durations (language-neutral digits)."""
    if minutes is None:
        return None
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"
