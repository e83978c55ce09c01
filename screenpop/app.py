"""The web consoles' FastAPI application, built by :func:`create_app`.

File roles (the same in every console package as it grows):

* ``app.py`` — wiring: services, routes, the error handler, security headers;
* ``dependencies.py`` — ``Annotated`` dependencies (services, current user, roles);
* ``routes/`` — HTTP and WebSocket resources, one module per area;
* ``auth.py``, ``live_calls.py``, ``auditing.py`` — services, no HTTP inside (data
  through the store's repositories);
* ``errors.py`` — the domain error tree and its status codes;
* ``i18n.py`` — UI text in Chinese and English;
* ``templates/``, ``static/`` — server-rendered HTML, CSS and one vanilla JS file.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_store.errors import StoreError
from crm_store.gateway import StoreGateway
from cti.bus import EventBus
from cti.settings import Environment, Settings
from screenpop.agent_desk import AgentDesk
from screenpop.auditing import AccessAudit
from screenpop.auth import Authenticator, AuthPolicy, Clock, LoginThrottle, SessionStore
from screenpop.dependencies import Services, get_optional_user, get_translator
from screenpop.errors import (
    Forbidden,
    NotAuthenticated,
    TooManyAttempts,
    WebError,
    code_for,
    status_for,
)
from screenpop.i18n import LANG_COOKIE, LANGUAGES, Translator, role_label
from screenpop.live_calls import CallBoard
from screenpop.monitoring import Conversations, MonitorService
from screenpop.pages import render, wants_json
from screenpop.pops import PopDesk
from screenpop.routes import auth as auth_routes
from screenpop.routes import calls as calls_routes
from screenpop.routes import (
    complaint_messages,
    supervisor_monitoring,
    supervisor_recordings,
    supervisor_reports,
)
from screenpop.routes import console as console_routes
from screenpop.routes import dialer as dialer_routes
from screenpop.routes import pops as pops_routes
from screenpop.routes import wallboard as wallboard_routes
from screenpop.wallboard_feed import WallboardFeed

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

#: The hospital's clock for displayed times (until Settings has a time zone).
DEFAULT_TIMEZONE = "Asia/Shanghai"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


def create_app(
    *,
    store: StoreGateway,
    bus: EventBus,
    settings: Settings,
    policy: AuthPolicy | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    clock: Clock = time.time,
    monitor: MonitorService | None = None,
) -> FastAPI:
    """The consoles' app over a store and the bus. ``policy`` sets session timeouts and
    sign-in limits (default :class:`AuthPolicy`, Secure cookies in production);
    ``timezone`` is the zone times are shown in; ``clock`` is for tests."""
    if policy is None:
        policy = AuthPolicy(secure_cookies=settings.environment is Environment.PRODUCTION)
    throttle = LoginThrottle(policy, clock=clock)
    pops = PopDesk(store=store, bus=bus)
    services = Services(
        settings=settings,
        store=store,
        bus=bus,
        policy=policy,
        sessions=SessionStore(policy, clock=clock),
        throttle=throttle,
        authenticator=Authenticator(store=store, throttle=throttle),
        audit=AccessAudit(store),
        board=CallBoard(store=store, bus=bus),
        pops=pops,
        templates=_templates(),
        zone=zoneinfo.ZoneInfo(timezone),
        clock=clock,
        desk=AgentDesk(store=store, pops=pops),
        conversations=Conversations(bus),
        wallboard=WallboardFeed(
            store=store,
            bus=bus,
            acd=lambda: services.acd,  # set by the composition root once the ACD runs
            zone=zoneinfo.ZoneInfo(timezone),
        ),
        monitor=monitor,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await services.board.start()
        await services.pops.start()
        await services.wallboard.start()
        await services.conversations.start()
        try:
            yield
        finally:
            await services.conversations.stop()
            await services.wallboard.stop()
            await services.pops.stop()
            await services.board.stop()

    app = FastAPI(
        title="Hotline consoles",
        lifespan=lifespan,
        docs_url=None,  # no CDN-served docs pages; the schema stays at /openapi.json
        redoc_url=None,
    )
    app.state.services = services
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth_routes.router)
    app.include_router(calls_routes.router)
    app.include_router(pops_routes.router)
    app.include_router(console_routes.router)
    app.include_router(dialer_routes.router)
    app.include_router(dialer_routes.page_router)
    app.include_router(supervisor_recordings.router)
    app.include_router(complaint_messages.router)
    app.include_router(supervisor_monitoring.router)
    app.include_router(supervisor_reports.router)
    app.include_router(wallboard_routes.router)
    app.add_exception_handler(WebError, _domain_error)
    app.add_exception_handler(StoreError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.globals["role_label"] = role_label
    templates.env.globals["languages"] = LANGUAGES
    return templates


def _translator(request: Request) -> Translator:
    return get_translator(request, request.app.state.services)


async def _domain_error(request: Request, exc: Exception) -> Response:
    """The one place domain errors become HTTP responses (status from errors.py)."""
    status = status_for(exc)
    message = getattr(exc, "message", None) or "the request could not be completed"
    if isinstance(exc, StoreError) and status < 500:
        message = str(exc)  # store messages are written for the user, without identifiers
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
        if not isinstance(exc, WebError):
            message = "the server could not complete the request; try again in a moment"
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after_s)
    if wants_json(request):
        return JSONResponse(
            {"error": code_for(exc), "message": message}, status_code=status, headers=headers
        )
    if isinstance(exc, NotAuthenticated):
        target = f"/login?next={quote(request.url.path)}"
        if exc.expired:
            target += "&expired=1"
        return RedirectResponse(target, status_code=303)
    t = _translator(request)
    user = get_optional_user(request, request.app.state.services)
    key = exc.message_key if isinstance(exc, WebError) else "error_generic"
    values: dict[str, Any] = {}
    if isinstance(exc, Forbidden):
        values["role"] = role_label(t, exc.role)
    if isinstance(exc, TooManyAttempts):
        values["minutes"] = max(1, exc.retry_after_s // 60)
    title = t("forbidden_title") if status == 403 else t("error_title")
    return render(
        request,
        "error.html",
        t=t,
        status_code=status,
        headers=headers,
        user=user,
        title=title,
        message=t(key, **values),
    )


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query")),
            "message": err.get("msg", "invalid"),
        }
        for err in exc.errors()
    ]
    if wants_json(request) or request.url.path.startswith("/ws/"):
        return JSONResponse(
            {"error": "invalid_request", "message": "the request is invalid", "problems": problems},
            status_code=422,
        )
    t = _translator(request)
    fields = ", ".join(sorted({p["field"] or "?" for p in problems}))
    message = t("error_invalid_request", fields=fields)
    if request.url.path == "/login":
        return render(
            request, "login.html", t=t, status_code=422, error=message, next="/", username=""
        )
    return render(
        request,
        "error.html",
        t=t,
        status_code=422,
        title=t("error_title"),
        message=message,
        user=get_optional_user(request, request.app.state.services),
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_json(request) or exc.status_code not in (404, 405):
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
    t = _translator(request)
    return render(
        request,
        "error.html",
        t=t,
        status_code=exc.status_code,
        title=t("error_title"),
        message=t("error_not_found"),
        user=get_optional_user(request, request.app.state.services),
    )


class SecurityHeaders:
    """Headers every response gets (CSP with no inline script, no framing, no caching of
    pages that may show patient data) and the language cookie when ``?lang=`` chose one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = _query_lang(scope.get("query_string", b""))
        is_static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                if lang:
                    cookie = f"{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Strict"
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _query_lang(query_string: bytes) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs(query_string.decode("latin-1")).get("lang", [])
    return values[0] if values and values[0] in LANGUAGES else None


__all__ = ["DEFAULT_TIMEZONE", "create_app"]
