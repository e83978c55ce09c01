# ruff: noqa: RUF001  (Chinese UI text uses full-width punctuation on purpose)
"""Pure parts of the consoles: masking, throttling, sessions, language, errors."""

from __future__ import annotations

import pytest

from crm_store.enums import Role
from crm_store.errors import InvalidRecord, PatientNotFound, StoreBusy
from crm_store.repositories.users import UserView
from screenpop.auth import AuthPolicy, LoginThrottle, SessionStore
from screenpop.errors import (
    AuditUnavailable,
    CrossOriginRefused,
    Forbidden,
    LoginRefused,
    NotAuthenticated,
    TooManyAttempts,
    status_for,
)
from screenpop.i18n import MESSAGES, Translator, cause_label, missing_translations, negotiate
from screenpop.live_calls import format_duration, mask_number
from screenpop.routes.auth import safe_next
from tests.screenpop.conftest import FakeClock


@pytest.mark.parametrize(
    ("e164", "raw", "shown"),
    [
        ("+8613812348000", "13812348000", "+86 138****8000"),
        ("+861088881234", "01088881234", "+86 108***1234"),
        ("+442071234567", None, "+44 207***4567"),
        (None, "anonymous", None),
        (None, "", None),
        (None, None, None),
        (None, "1001", "1001"),
        (None, "12\r\n345678", "****5678"),
        (None, "５５５", None),  # full-width digits are not phone digits
    ],
)
def test_mask_number(e164: str | None, raw: str | None, shown: str | None) -> None:
    assert mask_number(e164, raw) == shown


def test_format_duration() -> None:
    assert format_duration(0) == "0:00"
    assert format_duration(65) == "1:05"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(-3) == "0:00"


def user(role: Role = Role.SUPERVISOR) -> UserView:
    return UserView(id=7, username="sup", display_name="Sup", role=role, active=True)


def test_sessions_expire_idle_and_absolute() -> None:
    clock = FakeClock()
    store = SessionStore(AuthPolicy(session_idle_s=60, session_absolute_s=300), clock=clock)
    token, session = store.create(user())
    assert store.lookup(token)[0] == session
    clock.advance(59)
    assert store.lookup(token)[0] is not None
    clock.advance(59)
    assert store.lookup(token, touch=False)[0] is not None  # not touched...
    clock.advance(2)
    assert store.lookup(token) == (None, True)  # ...so idle now; reported as expired
    assert store.lookup(token) == (None, False)  # and gone
    token, _ = store.create(user())
    for _ in range(5):
        clock.advance(59)
        assert store.lookup(token)[0] is not None  # active all along...
    clock.advance(10)
    assert store.lookup(token) == (None, True)  # ...but past the absolute limit
    assert session.key != token and len(session.key) == 64  # only the hash is kept


def test_throttle_locks_and_releases() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(
        AuthPolicy(max_failures_per_user=3, failure_window_s=60, lockout_s=120), clock=clock
    )
    assert not throttle.record_failure("Sup", "10.0.0.1")
    clock.advance(61)  # outside the window: forgotten
    assert not throttle.record_failure("sup", "10.0.0.1")
    assert not throttle.record_failure("SUP ", "10.0.0.2")
    assert throttle.record_failure("sup", "10.0.0.3")  # third in the window: locked
    with pytest.raises(TooManyAttempts) as locked:
        throttle.check("sup", "10.9.9.9")
    assert 100 < locked.value.retry_after_s <= 121
    throttle.check("other", "10.9.9.9")
    clock.advance(121)
    throttle.check("sup", "10.9.9.9")


def test_throttle_success_clears_the_username_only() -> None:
    throttle = LoginThrottle(
        AuthPolicy(max_failures_per_user=2, max_failures_per_ip=3), clock=FakeClock()
    )
    throttle.record_failure("a", "ip")
    throttle.record_success("a")
    assert not throttle.record_failure("a", "ip")
    assert throttle.record_failure("b", "ip")  # the address reached 3


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError):
        AuthPolicy(session_idle_s=10, session_absolute_s=5)
    with pytest.raises(ValueError):
        AuthPolicy(max_failures_per_user=0)


def test_every_message_exists_in_both_languages() -> None:
    assert missing_translations() == set()
    assert set(MESSAGES) == {"zh", "en"}


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("en", "zh", "zh-CN", "en"),
        (None, "en", "zh-CN", "en"),
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "fr-FR, en;q=0.5", "en"),
        (None, None, "en;q=0.1, zh;q=0.9", "zh"),
        (None, None, "garbage;;q=x", "zh"),
        ("xx", "yy", None, "zh"),
    ],
)
def test_language_negotiation(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert negotiate(query=query, cookie=cookie, accept_language=accept, default="zh") == expected


def test_cause_labels() -> None:
    en, zh = Translator("en"), Translator("zh")
    assert cause_label(en, 16, "Normal Clearing") == "Normal clearing"
    assert cause_label(zh, 17, "User busy") == "忙线"
    assert cause_label(en, 99, "Odd cause") == "Odd cause"
    assert cause_label(en, 99, None) == "99"
    assert cause_label(zh, None, "ended while the AMI link was down (cause not reported)") == (
        "在热线未连接时结束"
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/calls", "/calls"),
        ("//evil", None),
        ("/\\evil", None),
        ("http://x", None),
        ("", None),
        (None, None),
        ("/a\nb", None),
    ],
)
def test_safe_next(target: str | None, expected: str | None) -> None:
    assert safe_next(target) == expected


def test_error_status_table() -> None:
    assert status_for(NotAuthenticated()) == 401
    assert status_for(LoginRefused()) == 401
    assert status_for(Forbidden("agent", "supervisor")) == 403
    assert status_for(CrossOriginRefused("http://x")) == 403
    assert status_for(TooManyAttempts(60)) == 429
    assert status_for(AuditUnavailable()) == 503
    assert status_for(PatientNotFound(3)) == 404
    assert status_for(InvalidRecord("f", "bad")) == 422
    assert status_for(StoreBusy()) == 503
    assert status_for(ValueError()) == 500
