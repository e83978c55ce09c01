"""Sign-in, sign-out, the console home and the session API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from crm_store.enums import Role
from screenpop.auth import Access, role_may
from screenpop.dependencies import (
    CurrentUser,
    OptionalUser,
    SameOrigin,
    ServicesDep,
    TranslatorDep,
)
from screenpop.errors import LoginRefused, TooManyAttempts, status_for
from screenpop.i18n import role_label
from screenpop.pages import render

router = APIRouter()

USERNAME_MAX = 64
PASSWORD_MAX = 256


def safe_next(target: str | None) -> str | None:
    """A local path to go to after sign-in, or None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 0x20 for ch in target) or len(target) > 200:
        return None
    return target


def landing_for(role: Role) -> str:
    if role_may(role, Access.PATIENT_DATA):
        return "/calls"
    return "/supervisor/reports" if role_may(role, Access.OPERATIONS) else "/"


@router.get("/login", include_in_schema=False)
async def login_form(
    request: Request,
    t: TranslatorDep,
    user: OptionalUser,
    next: str | None = None,
    expired: bool = False,
    logged_out: bool = False,
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next) or landing_for(user.role), status_code=303)
    notice = t("error_session_expired") if expired else t("logged_out") if logged_out else None
    return render(
        request,
        "login.html",
        t=t,
        next=safe_next(next) or "",
        notice=notice,
        error=None,
        username="",
    )


@router.post("/login", include_in_schema=False, dependencies=[SameOrigin])
async def login(
    request: Request,
    services: ServicesDep,
    t: TranslatorDep,
    username: Annotated[str, Form(min_length=1, max_length=USERNAME_MAX)],
    password: Annotated[str, Form(min_length=1, max_length=PASSWORD_MAX)],
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    ip = request.client.host if request.client else "unknown"
    try:
        user = await services.authenticator.login(username, password, ip=ip)
    except (LoginRefused, TooManyAttempts) as exc:
        headers = (
            {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyAttempts) else None
        )
        values: dict[str, Any] = {}
        if isinstance(exc, TooManyAttempts):
            values["minutes"] = max(1, exc.retry_after_s // 60)
        return render(
            request,
            "login.html",
            t=t,
            status_code=status_for(exc),
            headers=headers,
            error=t(exc.message_key, **values),
            next=safe_next(next) or "",
            username=username,
            notice=None,
        )
    policy = services.policy
    services.sessions.revoke(request.cookies.get(policy.cookie_name))  # never reuse a session
    token, _session = services.sessions.create(user)
    response = RedirectResponse(safe_next(next) or landing_for(user.role), status_code=303)
    response.set_cookie(
        policy.cookie_name,
        token,
        max_age=int(policy.session_absolute_s),
        path="/",
        httponly=True,
        samesite="strict",
        secure=policy.secure_cookies,
    )
    return response


@router.post("/logout", include_in_schema=False, dependencies=[SameOrigin])
async def logout(request: Request, services: ServicesDep) -> Response:
    policy = services.policy
    services.sessions.revoke(request.cookies.get(policy.cookie_name))
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    response.delete_cookie(
        policy.cookie_name,
        path="/",
        httponly=True,
        samesite="strict",
        secure=policy.secure_cookies,
    )
    return response


@router.get("/", include_in_schema=False)
async def home(request: Request, t: TranslatorDep, user: CurrentUser) -> Response:
    return render(request, "home.html", t=t, user=user)


@router.get("/api/session")
async def session_info(user: CurrentUser, t: TranslatorDep) -> dict[str, Any]:
    """Who is signed in (for the consoles' scripts)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "role_label": role_label(t, user.role.value),
        "language": t.language,
    }


@router.get("/healthz")
async def health() -> dict[str, str]:
    """Liveness for the demo and monitors; shows nothing about calls or patients."""
    return {"status": "ok"}
