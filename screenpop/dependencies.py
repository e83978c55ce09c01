"""The app's services and the ``Annotated`` dependencies routes declare.

Everything hangs off ``app.state.services`` (built by :func:`screenpop.app.create_app`);
nothing is module-global, so every test builds its own app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.requests import HTTPConnection
from fastapi.templating import Jinja2Templates

from acd.service import AcdService
from crm_store.gateway import StoreGateway
from cti.bus import EventBus
from cti.settings import Settings
from recordings.service import RecordingService
from screenpop.agent_desk import Actor, AgentDesk
from screenpop.auditing import AccessAudit
from screenpop.auth import (
    Access,
    Authenticator,
    AuthPolicy,
    Clock,
    LoginThrottle,
    SessionStore,
    WebSession,
    roles_with,
)
from screenpop.errors import (
    CrossOriginRefused,
    Forbidden,
    NoPatientAccess,
    NotAnAgent,
    NotAuthenticated,
)
from screenpop.i18n import LANG_COOKIE, Translator, negotiate
from screenpop.live_calls import CallBoard
from screenpop.monitoring import Conversations, MonitorService
from screenpop.pops import PopDesk
from screenpop.wallboard_feed import WallboardFeed


@dataclass
class Services:
    settings: Settings
    store: StoreGateway
    bus: EventBus
    policy: AuthPolicy
    sessions: SessionStore
    throttle: LoginThrottle
    authenticator: Authenticator
    audit: AccessAudit
    board: CallBoard
    pops: PopDesk
    templates: Jinja2Templates
    zone: dt.tzinfo
    clock: Clock
    desk: AgentDesk
    conversations: Conversations  # the ACD's calls a supervisor may listen to
    wallboard: WallboardFeed
    #: Set by the composition root when the ACD runs (agents' states); None without it.
    acd: AcdService | None = None
    monitor: MonitorService | None = None  # listen/whisper/barge; None without an AMI link
    #: Set by the composition root: agents pause recordings of their calls.
    recordings: RecordingService | None = None


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def language_of(connection: HTTPConnection, services: Services) -> str:
    return negotiate(
        query=connection.query_params.get("lang"),
        cookie=connection.cookies.get(LANG_COOKIE),
        accept_language=connection.headers.get("accept-language"),
        default=services.settings.language.value,
    )


def get_translator(connection: HTTPConnection, services: ServicesDep) -> Translator:
    return Translator(language_of(connection, services))


TranslatorDep = Annotated[Translator, Depends(get_translator)]


def session_of(connection: HTTPConnection, services: Services, *, touch: bool) -> WebSession:
    """The caller's live session, else :class:`NotAuthenticated`."""
    token = connection.cookies.get(services.policy.cookie_name)
    session, expired = services.sessions.lookup(token, touch=touch)
    if session is None:
        raise NotAuthenticated(
            "your session has expired; sign in again" if expired else "sign in first",
            expired=expired,
        )
    return session


def get_current_user(connection: HTTPConnection, services: ServicesDep) -> WebSession:
    return session_of(connection, services, touch=True)


CurrentUser = Annotated[WebSession, Depends(get_current_user)]


def get_optional_user(connection: HTTPConnection, services: ServicesDep) -> WebSession | None:
    try:
        return session_of(connection, services, touch=True)
    except NotAuthenticated:
        return None


OptionalUser = Annotated[WebSession | None, Depends(get_optional_user)]


def refusal(user: WebSession, access: Access) -> Forbidden:
    """Why ``user`` may not have ``access``; the message names roles, never data."""
    if access is Access.CALL_HANDLING:
        return NotAnAgent(user.role.value)
    if access is Access.PATIENT_DATA:
        return NoPatientAccess(user.role.value)
    return Forbidden(user.role.value, roles_with(access))


def require_access(user: WebSession, access: Access) -> WebSession:
    """``user`` if their role gets ``access`` (:data:`screenpop.auth.ROLES_WITH`), else
    the :func:`refusal` (403)."""
    if not user.may(access):
        raise refusal(user, access)
    return user


def get_patient_data_viewer(user: CurrentUser) -> WebSession:
    return require_access(user, Access.PATIENT_DATA)


#: A supervisor: recordings, live calls, monitoring, dialer lists, read-only pops.
PatientDataUser = Annotated[WebSession, Depends(get_patient_data_viewer)]


def get_operations_viewer(user: CurrentUser) -> WebSession:
    return require_access(user, Access.OPERATIONS)


#: A supervisor or an admin: reports, the wallboard, the dialer's figures.
OperationsUser = Annotated[WebSession, Depends(get_operations_viewer)]


def get_agent(user: CurrentUser) -> Actor:
    """The signed-in agent (the username is the ACD agent id)."""
    require_access(user, Access.CALL_HANDLING)
    return Actor(agent_id=user.username, user_id=user.user_id)


AgentUser = Annotated[Actor, Depends(get_agent)]


def origin_allowed(connection: HTTPConnection, policy: AuthPolicy) -> bool:
    """Is the request's ``Origin`` this server (or one configured in the policy)?

    Browsers send ``Origin`` on every POST and WebSocket handshake, so a missing header
    means a non-browser client, which cannot be the victim of cross-site forgery (and
    the session cookie is ``SameSite=Strict`` besides); ``null`` (sandboxed frames,
    some redirects) is refused."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
    own = f"{scheme}://{connection.headers.get('host', '')}"
    return origin == own or origin in policy.extra_origins


def check_same_origin(connection: HTTPConnection, services: ServicesDep) -> None:
    origin = connection.headers.get("origin", "")
    if not origin_allowed(connection, services.policy):
        raise CrossOriginRefused(origin)


SameOrigin = Depends(check_same_origin)
