"""The operators' figures for slot refill, from the refills' records (pure).

* fill rate — places the dialer refilled / places whose refill is over (still-open
  refills are not counted yet; places someone else booked first count as not refilled
  by the dialer but are reported apart);
* time to fill — from the cancellation to the patient's accepting key, median and p90;
* calls per fill — every offer call made for the closed refills / places refilled;
* revenue recovered — places refilled x the configured average fee.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from crm_store.enums import RefillStatus
from crm_store.repositories.dialer import RefillView


@dataclass(frozen=True)
class RefillFigures:
    freed: int
    open: int
    filled_by_dialer: int
    filled_otherwise: int
    not_filled: int  # too soon, nobody left, dialer off
    fill_rate: float | None  # None until a refill is over
    median_minutes_to_fill: float | None
    p90_minutes_to_fill: float | None
    calls: int
    calls_per_fill: float | None
    revenue_recovered: float
    currency: str


def refill_figures(
    refills: Sequence[RefillView], *, average_fee: float, currency: str
) -> RefillFigures:
    closed = [r for r in refills if r.status is not RefillStatus.OPEN]
    by_dialer = [
        r
        for r in closed
        if r.status is RefillStatus.FILLED
        and r.filled_appointment_id is not None
        and r.closed_at is not None
    ]
    minutes = sorted(
        (r.closed_at - r.freed_at) / dt.timedelta(minutes=1)
        for r in by_dialer
        if r.closed_at is not None
    )
    calls = sum(len(r.calls) for r in closed)
    filled_otherwise = sum(
        1 for r in closed if r.status is RefillStatus.FILLED and r.filled_appointment_id is None
    )
    return RefillFigures(
        freed=len(refills),
        open=len(refills) - len(closed),
        filled_by_dialer=len(by_dialer),
        filled_otherwise=filled_otherwise,
        not_filled=len(closed) - len(by_dialer) - filled_otherwise,
        fill_rate=len(by_dialer) / len(closed) if closed else None,
        median_minutes_to_fill=statistics.median(minutes) if minutes else None,
        p90_minutes_to_fill=minutes[min(len(minutes) - 1, int(0.9 * len(minutes)))]
        if minutes
        else None,
        calls=calls,
        calls_per_fill=calls / len(by_dialer) if by_dialer else None,
        revenue_recovered=round(len(by_dialer) * average_fee, 2),
        currency=currency,
    )
