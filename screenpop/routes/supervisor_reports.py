"""Reports for supervisors and administrators over a chosen period (hospital time):

* ``GET /supervisor/reports?preset=&from=&to=`` — the page: queue, agent and overall
  figures, a chart of calls and service level per hour (a day or two) or per day,
  IVR containment and where callers left the IVR, complaints, dialer refill figures;
* ``GET /api/supervisor/reports?from=&to=`` — the same as JSON;
* ``GET /api/supervisor/reports.csv?from=&to=`` — the call figures: total, queue, agent
  and hour/day rows, all with the same columns;
* ``GET /api/supervisor/reports-summary.csv?from=&to=`` — the rest of the page (period,
  targets, IVR containment and where callers left it, complaints, dialer refills) as
  ``section,item,value,unit`` rows. Two files because a spreadsheet wants one kind of
  row per sheet; both open straight into one.

``from``/``to`` are dates (YYYY-MM-DD, both included; ``to`` defaults to ``from``);
without them ``preset`` (today, yesterday, this_week, last_7_days, this_month; default
today). A malformed, backwards or over-a-year period is a 422 (:class:`InvalidPeriod`).

Auditing: a report names no patients, but it is agents' performance data, so each view
writes one audit row per agent whose figures it shows (VIEW of that user; EXPORT for the
call figures' CSV; the summary CSV shows no agent's figures), with the period, in the
same transaction that reads the figures: if the rows cannot be written, nothing is
shown (503). Agents are refused (403).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from crm_store.enums import AuditAction, AuditEntity
from crm_store.repositories.audit import AuditLogRepository
from crm_store.repositories.reports import ReportData, ReportRepository
from screenpop.charts import BarChart, bar_chart
from screenpop.dependencies import OperationsUser, Services, ServicesDep, TranslatorDep
from screenpop.dialer_view import minutes_text
from screenpop.errors import AuditUnavailable
from screenpop.pages import render
from screenpop.report_period import Period, Preset, parse_period
from screenpop.reports import (
    Bucket,
    BucketUnit,
    Report,
    build_report,
    report_csv,
    report_json,
    report_summary_csv,
)

log = logging.getLogger(__name__)

router = APIRouter()

VIEW = "reports"
#: The service-level target of queues the settings do not list.
DEFAULT_TARGET_S = 20.0
PRESETS = tuple(p for p in Preset if p is not Preset.CUSTOM)


def get_period(
    request: Request,
    services: ServicesDep,
    preset: Annotated[str | None, Query(max_length=40)] = None,
    first: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Period:
    now = dt.datetime.fromtimestamp(services.clock(), dt.UTC)
    return parse_period(
        preset=preset, first=first, last=last, today=now.astimezone(services.zone).date()
    )


PeriodDep = Annotated[Period, Depends(get_period)]


async def _report(
    services: Services,
    user_id: int,
    period: Period,
    *,
    via: str,
    action: AuditAction,
    shows_agents: bool = True,
) -> Report:
    start, end = period.bounds(services.zone)
    targets = {q.name: q.service_level_target_s for q in services.settings.acd_queues}

    def work(session: Session) -> ReportData:
        reports = ReportRepository(session)
        data = reports.load(start=start, end=end, target_s=DEFAULT_TARGET_S, queue_targets=targets)
        audit = AuditLogRepository(session)
        detail = {"view": VIEW, "via": via, "from": str(period.first), "to": str(period.last)}
        shown = reports.user_ids(data.agents) if shows_agents else {}
        for _agent, agent_user_id in sorted(shown.items()):
            audit.write(
                action=action,
                entity_type=AuditEntity.USER,
                entity_id=agent_user_id,
                user_id=user_id,
                detail=detail,
            )
        return data

    try:
        data = await services.store.write(work)
    except Exception as exc:
        log.error("report %s..%s not audited (user %d): %s", start, end, user_id, exc)
        raise AuditUnavailable() from exc
    policy = services.settings.dialer
    return build_report(
        data, zone=services.zone, average_fee=policy.average_fee, currency=policy.fee_currency
    )


def _column(bucket: Bucket, unit: BucketUnit) -> tuple[str, str]:
    if unit is BucketUnit.HOUR:
        return bucket.starts.strftime("%Y-%m-%dT%H:00"), bucket.starts.strftime("%H")
    return bucket.starts.date().isoformat(), f"{bucket.starts.month}/{bucket.starts.day}"


def calls_chart(report: Report) -> BarChart:
    """Calls offered and answered per hour or day, with the service level as a line."""
    buckets = report.buckets
    return bar_chart(
        [_column(b, report.bucket_unit) for b in buckets],
        {
            "offered": [b.figures.offered for b in buckets],
            "answered": [b.figures.answered for b in buckets],
        },
        key_name=report.bucket_unit.value,
        line=[b.figures.service_level for b in buckets],
        line_name="service-level",
    )


def _api_json(report: Report, period: Period) -> dict[str, Any]:
    return {
        "period": {
            "preset": period.preset.value,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
        },
        **report_json(report),
    }


@router.get("/supervisor/reports", include_in_schema=False)
async def reports_page(
    request: Request,
    services: ServicesDep,
    t: TranslatorDep,
    user: OperationsUser,
    period: PeriodDep,
) -> Response:
    report = await _report(services, user.user_id, period, via="page", action=AuditAction.VIEW)
    query = f"from={period.first.isoformat()}&to={period.last.isoformat()}"
    dialer = report.dialer
    return render(
        request,
        "supervisor_reports.html",
        t=t,
        user=user,
        report=report,
        period=period,
        presets=PRESETS,
        chart=calls_chart(report),
        csv_url=f"/api/supervisor/reports.csv?{query}",
        summary_csv_url=f"/api/supervisor/reports-summary.csv?{query}",
        json_url=f"/api/supervisor/reports?{query}",
        median_text=minutes_text(dialer.median_minutes_to_fill if dialer else None),
    )


@router.get("/api/supervisor/reports")
async def reports_api(
    services: ServicesDep, user: OperationsUser, period: PeriodDep
) -> JSONResponse:
    report = await _report(services, user.user_id, period, via="api", action=AuditAction.VIEW)
    return JSONResponse(_api_json(report, period))


@router.get("/api/supervisor/reports.csv")
async def reports_csv(services: ServicesDep, user: OperationsUser, period: PeriodDep) -> Response:
    report = await _report(services, user.user_id, period, via="csv", action=AuditAction.EXPORT)
    return _csv_download(report_csv(report), "calls", period)


@router.get("/api/supervisor/reports-summary.csv")
async def reports_summary_csv(
    services: ServicesDep, user: OperationsUser, period: PeriodDep
) -> Response:
    report = await _report(
        services,
        user.user_id,
        period,
        via="summary-csv",
        action=AuditAction.EXPORT,
        shows_agents=False,
    )
    return _csv_download(report_summary_csv(report, services.zone), "summary", period)


def _csv_download(text: str, part: str, period: Period) -> Response:
    name = f"hotline-report-{part}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
