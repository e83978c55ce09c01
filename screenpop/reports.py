"""Supervisor report figures for a period, computed from plain call records (pure).

Definitions (stated so the numbers can be checked by hand):

* offered — calls that entered a queue within the period (by ``queued_at``);
* service level — offered calls answered within ``target_s`` of entering the queue,
  divided by offered calls (abandoned calls count against it, whenever they left);
* average speed of answer (ASA) — mean of answered - queued over answered calls;
* abandonment rate — offered calls never answered, divided by offered calls;
* average handle time (AHT) — mean of ended - answered over answered, ended calls (talk
  time; after-call work is not recorded yet);
* IVR containment — calls that reached the IVR and finished there (never queued, IVR
  marked complete) divided by calls that reached the IVR; ``ivr_left_at`` counts, for the
  calls that hung up in the IVR without finishing, the IVR step they were at;
* complaints — opened, and closed, within the period.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from html import escape


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
    """Figures of one queue, one agent, or everything (``name`` "*")."""

    name: str
    offered: int
    answered: int
    abandoned: int
    answered_within_target: int
    service_level: float | None  # 0..1, None without offered calls
    average_speed_of_answer_s: float | None
    abandonment_rate: float | None
    average_handle_time_s: float | None


@dataclass(frozen=True)
class Report:
    start: dt.datetime
    end: dt.datetime
    target_s: float
    total: QueueFigures
    queues: list[QueueFigures]
    agents: list[QueueFigures]
    ivr_calls: int
    ivr_contained: int
    ivr_containment: float | None
    ivr_left_at: dict[str, int]
    complaints_opened: int
    complaints_closed: int


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _figures(name: str, calls: list[CallRecord], target_s: float) -> QueueFigures:
    answered = [c for c in calls if c.answered_at is not None and c.queued_at is not None]
    waits = [(c.answered_at - c.queued_at).total_seconds() for c in answered]  # type: ignore[operator]
    handle = [
        (c.ended_at - c.answered_at).total_seconds()  # type: ignore[operator]
        for c in answered
        if c.ended_at is not None
    ]
    within = sum(1 for w in waits if w <= target_s)
    abandoned = len(calls) - len(answered)
    return QueueFigures(
        name=name,
        offered=len(calls),
        answered=len(answered),
        abandoned=abandoned,
        answered_within_target=within,
        service_level=_ratio(within, len(calls)),
        average_speed_of_answer_s=_mean(waits),
        abandonment_rate=_ratio(abandoned, len(calls)),
        average_handle_time_s=_mean(handle),
    )


def _in(moment: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> bool:
    return moment is not None and start <= moment < end


def compute_report(
    calls: Iterable[CallRecord],
    complaints: Iterable[ComplaintRecord],
    *,
    start: dt.datetime,
    end: dt.datetime,
    target_s: float = 20.0,
) -> Report:
    """The report for ``[start, end)``."""
    if end <= start:
        raise ValueError("the period must end after it starts")
    all_calls = list(calls)
    offered = [c for c in all_calls if _in(c.queued_at, start, end)]
    by_queue: dict[str, list[CallRecord]] = {}
    by_agent: dict[str, list[CallRecord]] = {}
    for call in offered:
        by_queue.setdefault(call.queue or "-", []).append(call)
        if call.agent is not None and call.answered_at is not None:
            by_agent.setdefault(call.agent, []).append(call)
    ivr = [c for c in all_calls if c.in_ivr and _in(c.arrived_at, start, end)]
    contained = [c for c in ivr if c.ivr_completed and c.queued_at is None]
    left = Counter(
        c.ivr_last_step or "?"
        for c in ivr
        if not c.ivr_completed and c.queued_at is None and c.ended_at is not None
    )
    complaint_list = list(complaints)
    return Report(
        start=start,
        end=end,
        target_s=target_s,
        total=_figures("*", offered, target_s),
        queues=[_figures(q, cs, target_s) for q, cs in sorted(by_queue.items())],
        agents=[_figures(a, cs, target_s) for a, cs in sorted(by_agent.items())],
        ivr_calls=len(ivr),
        ivr_contained=len(contained),
        ivr_containment=_ratio(len(contained), len(ivr)),
        ivr_left_at=dict(sorted(left.items())),
        complaints_opened=sum(1 for c in complaint_list if _in(c.opened_at, start, end)),
        complaints_closed=sum(1 for c in complaint_list if _in(c.closed_at, start, end)),
    )


def report_json(report: Report) -> dict[str, object]:
    data = asdict(report)
    data["start"] = report.start.isoformat()
    data["end"] = report.end.isoformat()
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
    """One row per queue and per agent, and a total row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = [("total", report.total)]
    rows += [("queue", q) for q in report.queues] + [("agent", a) for a in report.agents]
    for kind, figures in rows:
        values = asdict(figures)
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


def bar_chart_svg(values: dict[str, float], *, width: int = 480, bar_h: int = 22) -> str:
    """A plain server-side horizontal bar chart (no script, no CDN): one bar per label,
    values 0..1 drawn as percentages. Labels are escaped."""
    rows = []
    label_w = 140
    for i, (label, value) in enumerate(values.items()):
        y = i * (bar_h + 6)
        w = max(0.0, min(1.0, value)) * (width - label_w - 60)
        rows.append(
            f'<text x="0" y="{y + bar_h - 6}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" class="bar"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 6}">{value * 100:.0f}%</text>'
        )
    height = max(1, len(values)) * (bar_h + 6)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">' + "".join(rows) + "</svg>"
    )
