"""Rendering server-side pages (shared by the routes and the error handler)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from screenpop.dependencies import Services
from screenpop.i18n import Translator


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def render(
    request: Request,
    name: str,
    *,
    t: Translator,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page from ``templates/`` with the layout's context (user, language, text)."""
    services: Services = request.app.state.services
    context.setdefault("user", None)
    context.update(t=t, lang=t.language, path=request.url.path, zone=services.zone)
    return services.templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
