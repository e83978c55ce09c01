"""Supervisor report figures for a period, from tallies of the call records (pure).

Definitions (stated so the numbers can be checked by hand):

* offered — calls that entered a queue within the period (by ``queued_at``);
* service level — offered calls answered within their queue's target (``queue_targets``,
  else ``target_s``) of entering the queue,
  divided by offered calls (abandoned calls count against it, whenever they left);
* average speed of answer (ASA) — mean of answered - queued over answered calls;
* abandonment rate — offered calls never answered, divided by offered calls;
* average handle time (AHT) — mean of ended - answered over answered, ended calls (talk
  time; after-call work is not recorded yet);
* IVR containment — calls that reached the IVR and finished there (never queued, IVR
  marked complete) divided by calls that reached the IVR; ``ivr_left_at`` counts, for the
  calls that hung up in the IVR without finishing, the IVR step they were at;
* complaints — opened, and closed, within the period;
* dialer — the refill figures (:mod:`cti.dialer.figures`) of places freed in the period.

The store aggregates in SQL (:class:`crm_store.repositories.reports.ReportRepository`);
:func:`records_data` tallies plain records the same way, so both paths share
:func:`build_report` and its definitions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from crm_store.repositories.reports import IvrTally, ReportData, Tally
from cti.dialer.figures import RefillFigures, refill_figures

#: Periods up to this long are charted by hour, longer ones by day.
HOURLY_UP_TO = dt.timedelta(days=2)


@dataclass(frozen=True)
class CallRecord:
    arrived_at: dt.datetime
    ended_at: dt.datetime | None = None
    in_ivr: bool = False  # reached the IVR
    ivr_completed: bool = False  # the caller finished what they came for in the IVR
    ivr_last_step: str | None = None
    queue: str | None = None
    queued_at: dt.datetime | None = None
    agent: str | None = None
    answered_at: dt.datetime | None = None


@dataclass(frozen=True)
class ComplaintRecord:
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None


@dataclass(frozen=True)
class QueueFigures:
    """Figures of one queue, one agent, one hour or day, or everything (``name`` "*")."""

    name: str
    offered: int
    answered: int
    abandoned: int
    answered_within_target: int
    service_level: float | None  # 0..1, None without offered calls
    average_speed_of_answer_s: float | None
    abandonment_rate: float | None
    average_handle_time_s: float | None


class BucketUnit(str, Enum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True)
class Bucket:
    """One hour or day of the period (``starts`` in the hospital's zone)."""

    starts: dt.datetime
    figures: QueueFigures


@dataclass(frozen=True)
class Report:
    start: dt.datetime
    end: dt.datetime
    target_s: float  # seconds; queues in ``queue_targets`` have their own
    total: QueueFigures
    queues: list[QueueFigures]
    agents: list[QueueFigures]
    ivr_calls: int
    ivr_contained: int
    ivr_containment: float | None
    ivr_left_at: dict[str, int]
    complaints_opened: int
    complaints_closed: int
    calls_received: int = 0
    ivr_to_agent: int = 0
    bucket_unit: BucketUnit = BucketUnit.DAY
    buckets: tuple[Bucket, ...] = ()
    dialer: RefillFigures | None = None
    queue_targets: dict[str, float] = field(default_factory=dict)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def figures(name: str, tally: Tally) -> QueueFigures:
    """The figures a tally gives (definitions in the module docstring)."""
    abandoned = tally.offered - tally.answered
    return QueueFigures(
        name=name,
        offered=tally.offered,
        answered=tally.answered,
        abandoned=abandoned,
        answered_within_target=tally.within_target,
        service_level=_ratio(tally.within_target, tally.offered),
        average_speed_of_answer_s=_mean(tally.wait_sum_s, tally.answered),
        abandonment_rate=_ratio(abandoned, tally.offered),
        average_handle_time_s=_mean(tally.handle_sum_s, tally.handled),
    )


def _tally(call: CallRecord, target_s: float) -> Tally:
    """One call's tally against its queue's target."""
    if call.answered_at is None or call.queued_at is None:
        return Tally(offered=1)
    wait = (call.answered_at - call.queued_at).total_seconds()
    handled = call.ended_at is not None
    return Tally(
        offered=1,
        answered=1,
        within_target=int(wait <= target_s),
        wait_sum_s=wait,
        handled=int(handled),
        handle_sum_s=(call.ended_at - call.answered_at).total_seconds() if call.ended_at else 0.0,
    )


def _in(moment: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> bool:
    return moment is not None and start <= moment < end


def records_data(
    calls: Iterable[CallRecord],
    complaints: Iterable[ComplaintRecord],
    *,
    start: dt.datetime,
    end: dt.datetime,
    target_s: float = 20.0,
    queue_targets: Mapping[str, float] | None = None,
) -> ReportData:
    """Plain records tallied as the store tallies its rows."""
    targets = dict(queue_targets or {})
    if end <= start:
        raise ValueError("the period must end after it starts")
    all_calls = list(calls)
    queues: dict[str, Tally] = {}
    agents: dict[str, Tally] = {}
    hours: dict[int, Tally] = {}
    for call in all_calls:
        if call.queued_at is None or not _in(call.queued_at, start, end):
            continue
        queue = call.queue or "-"
        one = _tally(call, targets.get(queue, target_s))
        queues[queue] = queues.get(queue, Tally()) + one
        if call.agent is not None and call.answered_at is not None:
            agents[call.agent] = agents.get(call.agent, Tally()) + one
        hour = int((call.queued_at - start).total_seconds() // 3600)
        hours[hour] = hours.get(hour, Tally()) + one
    ivr = [c for c in all_calls if c.in_ivr and _in(c.arrived_at, start, end)]
    left = Counter(
        c.ivr_last_step or "?"
        for c in ivr
        if not c.ivr_completed and c.queued_at is None and c.ended_at is not None
    )
    complaint_list = list(complaints)
    return ReportData(
        start=start,
        end=end,
        target_s=target_s,
        queue_targets=targets,
        queues=queues,
        agents=agents,
        hours=hours,
        calls_received=sum(1 for c in all_calls if _in(c.arrived_at, start, end)),
        ivr=IvrTally(
            sessions=len(ivr),
            completed=sum(1 for c in ivr if c.ivr_completed and c.queued_at is None),
            to_agent=sum(1 for c in ivr if c.queued_at is not None),
            left_at=dict(left),
        ),
        complaints_opened=sum(1 for c in complaint_list if _in(c.opened_at, start, end)),
        complaints_closed=sum(1 for c in complaint_list if _in(c.closed_at, start, end)),
        refills=[],
    )


def _buckets(data: ReportData, zone: dt.tzinfo) -> tuple[BucketUnit, tuple[Bucket, ...]]:
    """Hours of a short period, days of a longer one, all of them (empty ones too)."""
    n_hours = -(-int((data.end - data.start).total_seconds()) // 3600)
    if data.end - data.start <= HOURLY_UP_TO:
        hourly = []
        for i in range(n_hours):
            starts = (data.start + dt.timedelta(hours=i)).astimezone(zone)
            name = starts.strftime("%Y-%m-%d %H:00")
            hourly.append(Bucket(starts, figures(name, data.hours.get(i, Tally()))))
        return BucketUnit.HOUR, tuple(hourly)
    days: dict[dt.date, Tally] = {}
    first = data.start.astimezone(zone).date()
    last = (data.end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    for n in range((last - first).days + 1):
        days[first + dt.timedelta(days=n)] = Tally()
    for i, tally in data.hours.items():
        day = (data.start + dt.timedelta(hours=i)).astimezone(zone).date()
        if day in days:
            days[day] = days[day] + tally
    return BucketUnit.DAY, tuple(
        Bucket(
            dt.datetime.combine(day, dt.time(), tzinfo=zone),
            figures(day.isoformat(), tally),
        )
        for day, tally in days.items()
    )


def build_report(
    data: ReportData,
    *,
    zone: dt.tzinfo = dt.UTC,
    average_fee: float = 0.0,
    currency: str = "",
) -> Report:
    """The report of tallied data; hours and days are the hospital's (``zone``)."""
    total = sum(data.queues.values(), Tally())
    unit, buckets = _buckets(data, zone)
    return Report(
        start=data.start,
        end=data.end,
        target_s=data.target_s,
        total=figures("*", total),
        queues=[figures(q, t) for q, t in sorted(data.queues.items())],
        agents=[figures(a, t) for a, t in sorted(data.agents.items())],
        ivr_calls=data.ivr.sessions,
        ivr_contained=data.ivr.completed,
        ivr_containment=_ratio(data.ivr.completed, data.ivr.sessions),
        ivr_left_at=dict(sorted(data.ivr.left_at.items(), key=lambda kv: (-kv[1], kv[0]))),
        complaints_opened=data.complaints_opened,
        complaints_closed=data.complaints_closed,
        calls_received=data.calls_received,
        ivr_to_agent=data.ivr.to_agent,
        bucket_unit=unit,
        buckets=buckets,
        dialer=refill_figures(data.refills, average_fee=average_fee, currency=currency),
        queue_targets=dict(data.queue_targets),
    )


def compute_report(
    calls: Iterable[CallRecord],
    complaints: Iterable[ComplaintRecord],
    *,
    start: dt.datetime,
    end: dt.datetime,
    target_s: float = 20.0,
    zone: dt.tzinfo = dt.UTC,
) -> Report:
    """The report for ``[start, end)`` from plain records."""
    data = records_data(calls, complaints, start=start, end=end, target_s=target_s)
    return build_report(data, zone=zone)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready values (times as ISO 8601 with their offset)."""
    data: dict[str, Any] = _plain(asdict(report))
    return data


CSV_COLUMNS = (
    "kind",
    "name",
    "offered",
    "answered",
    "abandoned",
    "answered_within_target",
    "service_level",
    "average_speed_of_answer_s",
    "abandonment_rate",
    "average_handle_time_s",
)


def report_csv(report: Report) -> str:
    """The call figures: one row for the total, per queue, per agent, then per hour or day
    of the period (the rest of the report is in :func:`report_summary_csv`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = [("total", report.total)]
    rows += [("queue", q) for q in report.queues] + [("agent", a) for a in report.agents]
    rows += [(report.bucket_unit.value, b.figures) for b in report.buckets]
    for kind, row in rows:
        values = asdict(row)
        writer.writerow(
            [kind]
            + [
                ""
                if values[c] is None
                else round(values[c], 4)
                if isinstance(values[c], float)
                else values[c]
                for c in CSV_COLUMNS[1:]
            ]
        )
    return out.getvalue()


SUMMARY_COLUMNS = ("section", "item", "value", "unit")


def _number(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def summary_rows(report: Report, zone: dt.tzinfo) -> list[tuple[str, str, Any, str]]:
    """Everything the page shows besides the call figures, as (section, item, value,
    unit) rows: one kind of table a spreadsheet can filter and sum (ratios are 0..1,
    empty when there is nothing to divide by)."""
    rows: list[tuple[str, str, Any, str]] = [
        ("period", "start", report.start.astimezone(zone).isoformat(), "date-time"),
        ("period", "end", report.end.astimezone(zone).isoformat(), "date-time"),
        ("period", "time_zone", str(zone), ""),
        ("service_level_target", "*", _number(report.target_s), "s"),
    ]
    rows += [
        ("service_level_target", queue, _number(target), "s")
        for queue, target in sorted(report.queue_targets.items())
    ]
    rows += [
        ("calls", "received", report.calls_received, "calls"),
        ("ivr", "calls", report.ivr_calls, "calls"),
        ("ivr", "contained", report.ivr_contained, "calls"),
        ("ivr", "to_agent", report.ivr_to_agent, "calls"),
        ("ivr", "containment", _number(report.ivr_containment), "ratio"),
    ]
    rows += [("ivr_left_at", step, n, "calls") for step, n in report.ivr_left_at.items()]
    rows += [
        ("complaints", "opened", report.complaints_opened, "complaints"),
        ("complaints", "closed", report.complaints_closed, "complaints"),
    ]
    d = report.dialer
    if d is not None:
        rows += [
            ("dialer", "freed", d.freed, "places"),
            ("dialer", "open", d.open, "places"),
            ("dialer", "filled_by_dialer", d.filled_by_dialer, "places"),
            ("dialer", "filled_otherwise", d.filled_otherwise, "places"),
            ("dialer", "not_filled", d.not_filled, "places"),
            ("dialer", "fill_rate", _number(d.fill_rate), "ratio"),
            ("dialer", "median_time_to_fill", _number(d.median_minutes_to_fill), "min"),
            ("dialer", "p90_time_to_fill", _number(d.p90_minutes_to_fill), "min"),
            ("dialer", "calls", d.calls, "calls"),
            ("dialer", "calls_per_fill", _number(d.calls_per_fill), "calls"),
            ("dialer", "revenue_recovered", _number(d.revenue_recovered), d.currency),
        ]
    return rows


def report_summary_csv(report: Report, zone: dt.tzinfo) -> str:
    """The period, targets, IVR containment and where callers left the IVR, complaints
    and the dialer's refill figures, as ``section,item,value,unit`` rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    writer.writerows(summary_rows(report, zone))
    return out.getvalue()
