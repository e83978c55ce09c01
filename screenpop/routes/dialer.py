"""The outbound dialer for supervisors (administrators get only the figures, which name
no patient): the page ``GET /dialer``
(``?days=`` for the figures' period, ``?slot_id=`` for one slot's history) and the JSON API:

* ``GET /api/dialer/offers`` — offer calls in flight now;
* ``GET /api/dialer/refills?slot_id=&status=&limit=`` — freed places and every call made
  to refill them (a slot's refill history with ``slot_id``);
* ``GET /api/dialer/figures?days=30`` — fill rate, time to fill, calls per fill and
  revenue recovered at the configured average fee;
* ``GET /api/dialer/reminders?kind=reminder|follow_up&limit=`` — reminder and follow-up
  calls, newest first, with their results and survey answers.

Patients appear by id only (no names or numbers); a response that names patients is
preceded by one audit row per patient, as every console view is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from crm_store.enums import RefillStatus, ReminderKind
from crm_store.repositories.dialer import DialerRepository, RefillCall, RefillView
from crm_store.repositories.reminders import ReminderCallView, ReminderRepository
from cti.dialer.figures import refill_figures
from screenpop.dependencies import OperationsUser, PatientDataUser, ServicesDep, TranslatorDep
from screenpop.dialer_view import daily_chart, minutes_text
from screenpop.pages import render

router = APIRouter(prefix="/api/dialer")
page_router = APIRouter()

VIEW = "dialer"
#: Refills read for the figures at most (a month of a large hospital's cancellations).
FIGURES_MAX_REFILLS = 50_000
#: Rows the page lists in its history and reminder tables.
PAGE_ROWS = 50


def _call_json(call: RefillCall) -> dict[str, Any]:
    return {
        "offer_id": call.offer_id,
        "refill_id": call.refill_id,
        "patient_id": call.patient_id,
        "started_at": call.started_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "result": call.result.value,
        "detail": call.detail,
    }


def _refill_json(refill: RefillView) -> dict[str, Any]:
    return {
        "refill_id": refill.refill_id,
        "slot_id": refill.slot_id,
        "slot_starts_at": refill.slot_starts_at.isoformat(),
        "freed_by": refill.freed_by.value,
        "freed_at": refill.freed_at.isoformat(),
        "status": refill.status.value,
        "closed_at": refill.closed_at.isoformat() if refill.closed_at else None,
        "filled_appointment_id": refill.filled_appointment_id,
        "calls": [_call_json(c) for c in refill.calls],
    }


@router.get("/offers")
async def running_offers(services: ServicesDep, user: PatientDataUser) -> dict[str, Any]:
    calls = await services.store.read(lambda s: DialerRepository(s).running_calls())
    await services.audit.patients_viewed(
        user_id=user.user_id, patient_ids=[c.patient_id for c in calls], view=VIEW, via="api"
    )
    return {"offers": [_call_json(c) for c in calls]}


@router.get("/refills")
async def refills(
    services: ServicesDep,
    user: PatientDataUser,
    slot_id: Annotated[int | None, Query(ge=1)] = None,
    status: RefillStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    views = await services.store.read(
        lambda s: DialerRepository(s).refills(slot_id=slot_id, status=status, limit=limit)
    )
    await services.audit.patients_viewed(
        user_id=user.user_id,
        patient_ids=[c.patient_id for r in views for c in r.calls],
        view=VIEW,
        via="api",
    )
    return {"refills": [_refill_json(r) for r in views]}


@router.get("/figures")
async def figures(
    services: ServicesDep,
    _user: OperationsUser,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> dict[str, Any]:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    views = await services.store.read(
        lambda s: DialerRepository(s).refills(freed_since=since, limit=FIGURES_MAX_REFILLS)
    )
    policy = services.settings.dialer
    result = refill_figures(views, average_fee=policy.average_fee, currency=policy.fee_currency)
    return {"days": days, "since": since.isoformat(), **asdict(result)}


@router.get("/reminders")
async def reminder_calls(
    services: ServicesDep,
    user: PatientDataUser,
    kind: ReminderKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    calls = await services.store.read(
        lambda s: ReminderRepository(s).recent(kind=kind, limit=limit)
    )
    await services.audit.patients_viewed(
        user_id=user.user_id, patient_ids=[c.patient_id for c in calls], view=VIEW, via="api"
    )
    return {
        "calls": [
            {
                "call_id": c.call_id,
                "kind": c.kind.value,
                "appointment_id": c.appointment_id,
                "patient_id": c.patient_id,
                "started_at": c.started_at.isoformat(),
                "ended_at": c.ended_at.isoformat() if c.ended_at else None,
                "result": c.result.value,
                "detail": c.detail,
                "answers": c.answers,
            }
            for c in calls
        ]
    }


@page_router.get("/dialer", include_in_schema=False)
async def dialer_page(
    request: Request,
    services: ServicesDep,
    t: TranslatorDep,
    user: PatientDataUser,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    slot_id: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=days)

    def work(
        session: Session,
    ) -> tuple[list[RefillCall], list[RefillView], list[RefillView], list[ReminderCallView]]:
        dialer = DialerRepository(session)
        return (
            dialer.running_calls(),
            dialer.refills(freed_since=since, limit=FIGURES_MAX_REFILLS),
            dialer.refills(slot_id=slot_id, limit=PAGE_ROWS),
            ReminderRepository(session).recent(limit=PAGE_ROWS),
        )

    running, period, history, reminders = await services.store.read(work)
    shown = [c.patient_id for c in running]
    shown += [c.patient_id for r in history for c in r.calls]
    shown += [c.patient_id for c in reminders]
    await services.audit.patients_viewed(
        user_id=user.user_id, patient_ids=shown, view=VIEW, via="page"
    )
    policy = services.settings.dialer
    result = refill_figures(period, average_fee=policy.average_fee, currency=policy.fee_currency)
    zone = services.zone
    return render(
        request,
        "dialer.html",
        t=t,
        user=user,
        days=days,
        slot_id=slot_id,
        figures=result,
        median_text=minutes_text(result.median_minutes_to_fill),
        p90_text=minutes_text(result.p90_minutes_to_fill),
        chart=daily_chart(period, today=now.astimezone(zone).date(), days=days, zone=zone),
        running=running,
        history=history,
        reminders=reminders,
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "",
    )
