"""Console sign-in: the session policy, server-side sessions, the failed-login throttle
and the authenticator that checks passwords against the users table and audits.

Sessions are server-side: the browser holds only a random token (HttpOnly,
SameSite=Strict cookie); the server keeps ``sha256(token)`` → :class:`WebSession`, so a
session ends for real on logout, on its idle or absolute timeout, and a leaked memory
dump holds no usable token. They live in this process (Hotline runs one process by
default); a multi-worker deployment would put :class:`SessionStore` on the database.

Everything here takes a ``clock`` (seconds, ``time.time`` by default) so timeouts and
lockouts are tested without sleeping.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from crm_store.enums import AuditAction, AuditEntity, Role
from crm_store.errors import UserNotFound
from crm_store.gateway import StoreGateway
from crm_store.repositories.audit import AuditLogRepository
from crm_store.repositories.users import UserRepository, UserView
from screenpop.errors import LoginRefused, TooManyAttempts

log = logging.getLogger(__name__)

Clock = Callable[[], float]

#: Audit ``entity_id`` of a failed sign-in with a username that does not exist.
UNKNOWN_USER_ENTITY_ID = 0

#: Who the audit log names for sign-in events nobody was signed in for.
AUDIT_ACTOR = "web"


class Access(enum.Enum):
    """What a console surface exposes; :data:`ROLES_WITH` says which roles get it."""

    #: Act as the agent of a call offered to them (the console, /ws/pops).
    CALL_HANDLING = "call_handling"
    #: Patients' identity or voice: recordings, the live calls page and /ws/calls,
    #: listen/whisper/barge, the dialer's call lists, a live call's pop read-only.
    PATIENT_DATA = "patient_data"
    #: Agent performance and operations without patient identity: reports, wallboard,
    #: the dialer's figures.
    OPERATIONS = "operations"
    #: Managing console users.
    USER_MANAGEMENT = "user_management"


# The one table of who may see what. Roles are not ranks: a hospital draws these lines by
# duty (issue 7), so an admin, who manages users, sees no patient data, and a supervisor
# watching a call must not book or cancel as if they were its agent.
ROLES_WITH: dict[Access, frozenset[Role]] = {
    Access.CALL_HANDLING: frozenset({Role.AGENT}),
    Access.PATIENT_DATA: frozenset({Role.SUPERVISOR}),
    Access.OPERATIONS: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Access.USER_MANAGEMENT: frozenset({Role.ADMIN}),
}


def role_may(role: Role, access: Access) -> bool:
    """Does ``role`` get ``access`` (see :data:`ROLES_WITH`)?"""
    return role in ROLES_WITH[access]


def roles_with(access: Access) -> str:
    """The roles that get ``access``, for refusal messages ("supervisor, admin")."""
    return ", ".join(r.value for r in Role if r in ROLES_WITH[access])


@dataclass(frozen=True)
class AuthPolicy:
    """Sign-in and session rules (settings-like; the composition root may override).

    Defaults: a working shift (8 h) at most, 30 min without a request ends the session;
    5 failed sign-ins for one username or 20 from one address within 15 min lock that
    username / address out for 15 min.
    """

    session_absolute_s: float = 8 * 3600
    session_idle_s: float = 30 * 60
    max_failures_per_user: int = 5
    max_failures_per_ip: int = 20
    failure_window_s: float = 15 * 60
    lockout_s: float = 15 * 60
    #: Mark cookies ``Secure`` (only sent over HTTPS). On by default in production.
    secure_cookies: bool = False
    cookie_name: str = "hotline_session"
    #: Origins other than the server's own allowed to POST (e.g. behind a proxy).
    extra_origins: frozenset[str] = frozenset()
    #: How often an open WebSocket re-checks that its session is still valid.
    websocket_recheck_s: float = 15.0

    def __post_init__(self) -> None:
        if self.session_idle_s <= 0 or self.session_absolute_s <= 0:
            raise ValueError("session timeouts must be positive")
        if self.session_idle_s > self.session_absolute_s:
            raise ValueError("the idle timeout cannot be longer than the absolute timeout")
        if self.max_failures_per_user < 1 or self.max_failures_per_ip < 1:
            raise ValueError("failure limits must be at least 1")


@dataclass(frozen=True)
class WebSession:
    """A signed-in user as the web layer sees them."""

    key: str  # sha256 of the cookie token; never the token itself
    user_id: int
    username: str
    display_name: str
    role: Role
    created_at: float
    last_seen_at: float

    def may(self, access: Access) -> bool:
        return role_may(self.role, access)

    @property
    def takes_calls(self) -> bool:
        """For the layout: show the agent console."""
        return self.may(Access.CALL_HANDLING)

    @property
    def sees_patient_data(self) -> bool:
        """For the layout: show the pages with patient data."""
        return self.may(Access.PATIENT_DATA)

    @property
    def sees_operations(self) -> bool:
        """For the layout: show the reports and the wallboard."""
        return self.may(Access.OPERATIONS)


class SessionStore:
    """Server-side sessions with an absolute and an idle timeout."""

    def __init__(self, policy: AuthPolicy, *, clock: Clock = time.time) -> None:
        self.policy = policy
        self.clock = clock
        self._sessions: dict[str, WebSession] = {}

    @staticmethod
    def key_of(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def create(self, user: UserView) -> tuple[str, WebSession]:
        """A new session (fresh token: sign-in never reuses one). Returns the token for
        the cookie and the session."""
        self._prune()
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = WebSession(
            key=self.key_of(token),
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            created_at=now,
            last_seen_at=now,
        )
        self._sessions[session.key] = session
        return token, session

    def lookup(self, token: str | None, *, touch: bool = True) -> tuple[WebSession | None, bool]:
        """The live session of a cookie token and whether one existed but expired.
        ``touch`` counts this as activity (HTTP requests do; WebSocket traffic doesn't,
        so an unattended screen still times out)."""
        if not token:
            return None, False
        key = self.key_of(token)
        session = self._sessions.get(key)
        if session is None:
            return None, False
        now = self.clock()
        if self._expired(session, now):
            del self._sessions[key]
            return None, True
        if touch:
            session = replace(session, last_seen_at=now)
            self._sessions[key] = session
        return session, False

    def is_live(self, key: str) -> bool:
        session = self._sessions.get(key)
        if session is None:
            return False
        if self._expired(session, self.clock()):
            del self._sessions[key]
            return False
        return True

    def revoke(self, token: str | None) -> None:
        if token:
            self._sessions.pop(self.key_of(token), None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: WebSession, now: float) -> bool:
        return (
            now - session.created_at >= self.policy.session_absolute_s
            or now - session.last_seen_at >= self.policy.session_idle_s
        )

    def _prune(self) -> None:
        now = self.clock()
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed sign-ins per username and per client address; over the limit the
    key is locked out for ``lockout_s`` — no password is even checked meanwhile. Pure
    bookkeeping (no I/O), bounded in memory."""

    MAX_KEYS = 50_000

    def __init__(self, policy: AuthPolicy, *, clock: Clock = time.time) -> None:
        self.policy = policy
        self.clock = clock
        self._by_key: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    @staticmethod
    def _user_key(username: str) -> tuple[str, str]:
        return ("user", username.strip().casefold())

    @staticmethod
    def _ip_key(ip: str) -> tuple[str, str]:
        return ("ip", ip)

    def check(self, username: str, ip: str) -> None:
        """Raise :class:`TooManyAttempts` if the username or the address is locked."""
        now = self.clock()
        waits = [
            entry.locked_until - now
            for key in (self._user_key(username), self._ip_key(ip))
            if (entry := self._by_key.get(key)) is not None and entry.locked_until > now
        ]
        if waits:
            raise TooManyAttempts(int(max(waits)) + 1)

    def record_failure(self, username: str, ip: str) -> bool:
        """Count a failure; True when this failure started a lockout."""
        now = self.clock()
        started = False
        limits = (
            (self._user_key(username), self.policy.max_failures_per_user),
            (self._ip_key(ip), self.policy.max_failures_per_ip),
        )
        for key, limit in limits:
            entry = self._by_key.pop(key, None) or _Failures()
            self._by_key[key] = entry  # most recently used last
            entry.times = [t for t in entry.times if now - t < self.policy.failure_window_s]
            entry.times.append(now)
            if len(entry.times) >= limit and entry.locked_until <= now:
                entry.locked_until = now + self.policy.lockout_s
                entry.times.clear()
                started = True
        while len(self._by_key) > self.MAX_KEYS:
            self._by_key.popitem(last=False)
        return started

    def record_success(self, username: str) -> None:
        """A good password clears the username's failures (not the address's)."""
        self._by_key.pop(self._user_key(username), None)


class Authenticator:
    """Checks a username and password against the users table; audits every outcome
    (never the password)."""

    def __init__(self, *, store: StoreGateway, throttle: LoginThrottle) -> None:
        self.store = store
        self.throttle = throttle

    async def login(self, username: str, password: str, *, ip: str) -> UserView:
        try:
            self.throttle.check(username, ip)
        except TooManyAttempts:
            log.info("sign-in refused while locked out (from %s)", ip)
            raise

        def work(session: Session) -> tuple[UserView | None, int]:
            user = UserRepository(session).authenticate(username, password)
            audit = AuditLogRepository(session)
            if user is not None:
                audit.write(
                    action=AuditAction.LOGIN,
                    entity_type=AuditEntity.USER,
                    entity_id=user.id,
                    user_id=user.id,
                    detail={"outcome": "ok", "ip": ip},
                )
                return user, user.id
            try:
                entity_id = UserRepository(session).get(username).id
            except UserNotFound:
                entity_id = UNKNOWN_USER_ENTITY_ID
            audit.write(
                action=AuditAction.LOGIN,
                entity_type=AuditEntity.USER,
                entity_id=entity_id,
                actor=AUDIT_ACTOR,
                detail={"outcome": "failed", "username": username[:64], "ip": ip},
            )
            return None, entity_id

        # A write: a good sign-in updates last_login_at and both outcomes are audited.
        user, entity_id = await self.store.write(work)
        if user is not None:
            self.throttle.record_success(username)
            log.info("user %s signed in from %s", user.username, ip)
            return user
        if self.throttle.record_failure(username, ip):
            log.warning(
                "sign-in locked out after repeated failures (user id %d, from %s)", entity_id, ip
            )
            await self.store.write(
                lambda s: AuditLogRepository(s).write(
                    action=AuditAction.LOGIN,
                    entity_type=AuditEntity.USER,
                    entity_id=entity_id,
                    actor=AUDIT_ACTOR,
                    detail={"outcome": "locked_out", "username": username[:64], "ip": ip},
                )
            )
        else:
            log.info("failed sign-in (user id %d, from %s)", entity_id, ip)
        raise LoginRefused()
