"""Sign-in, sessions, roles and request validation, over HTTP against the real server
and a real SQLite store."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select

from crm_store.enums import AuditAction, AuditEntity
from crm_store.models import AuditLogEntry, User
from screenpop.auth import UNKNOWN_USER_ENTITY_ID, AuthPolicy
from screenpop.server import WebServer, WebServerError
from tests.screenpop.conftest import PASSWORDS, Console


def audit_rows(console: Console, action: AuditAction | None = None) -> list[AuditLogEntry]:
    with console.database.session() as session:
        query = select(AuditLogEntry).order_by(AuditLogEntry.id)
        if action is not None:
            query = query.where(AuditLogEntry.action == action)
        return list(session.scalars(query))


def set_cookie_header(response: httpx.Response) -> str:
    return "; ".join(v for k, v in response.headers.multi_items() if k == "set-cookie")


async def test_login_ok_sets_a_strict_httponly_session_and_is_audited(console: Console) -> None:
    async with console.client() as client:
        response = await console.login(client, "supervisor")
        assert response.status_code == 303
        assert response.headers["location"] == "/calls"
        cookie = set_cookie_header(response)
        assert "hotline_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Max-Age=28800" in cookie

        me = await client.get("/api/session")
        assert me.status_code == 200
        assert me.json()["role"] == "supervisor"

    [row] = audit_rows(console, AuditAction.LOGIN)
    assert row.entity_type is AuditEntity.USER
    assert row.user_id == console.user_ids["supervisor"]
    assert row.detail is not None and row.detail["outcome"] == "ok"
    with console.database.session() as session:
        user = session.scalar(select(User).where(User.username == "supervisor"))
        assert user is not None and user.last_login_at is not None


async def test_agent_lands_on_home(console: Console) -> None:
    async with console.client() as client:
        response = await console.login(client, "agent")
        assert response.status_code == 303 and response.headers["location"] == "/"
        home = await client.get("/")
        assert home.status_code == 200


async def test_wrong_password_is_refused_audited_and_never_logged(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Wr0ng-but-secret-pw"
    async with console.client(headers={"Accept-Language": "en"}) as client:
        response = await console.login(client, "supervisor", secret)
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
        assert "hotline_session" not in set_cookie_header(response)
        assert (await client.get("/api/session")).status_code == 401

        unknown = await console.login(client, "nobody", secret)
        assert unknown.status_code == 401
        assert "Wrong username or password." in unknown.text  # same answer as a known name

    rows = audit_rows(console, AuditAction.LOGIN)
    assert [(r.entity_id, r.detail and r.detail["outcome"]) for r in rows] == [
        (console.user_ids["supervisor"], "failed"),
        (UNKNOWN_USER_ENTITY_ID, "failed"),
    ]
    assert all(r.user_id is None and r.actor == "web" for r in rows)
    assert rows[1].detail is not None and rows[1].detail["username"] == "nobody"
    assert all(secret not in str(r.detail) for r in rows)
    assert secret not in caplog.text


async def test_repeated_failures_lock_the_username_out(console: Console) -> None:
    async with console.client() as client:
        for _ in range(5):
            assert (await console.login(client, "supervisor", "wrong-password")).status_code == 401
        # Locked: even the right password is refused, without being checked.
        locked = await console.login(client, "supervisor")
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        assert "Too many failed sign-ins" in locked.text or "登录失败次数过多" in locked.text
        # Another user is not locked by this username's failures.
        assert (await console.login(client, "admin")).status_code == 303

        console.clock.advance(console.policy.lockout_s + 1)
        assert (await console.login(client, "supervisor")).status_code == 303

    outcomes = [r.detail["outcome"] for r in audit_rows(console, AuditAction.LOGIN) if r.detail]
    assert outcomes.count("failed") == 5
    assert outcomes.count("locked_out") == 1


async def test_failures_from_one_address_lock_it_out(make_console: object) -> None:
    console: Console = await make_console(  # type: ignore[operator]
        AuthPolicy(max_failures_per_ip=3, max_failures_per_user=10)
    )
    async with console.client() as client:
        for name in ("a", "b", "c"):
            assert (await console.login(client, name, "whatever")).status_code == 401
        assert (await console.login(client, "supervisor")).status_code == 429


async def test_session_idle_and_absolute_expiry(console: Console) -> None:
    async with console.client() as client:
        await console.login(client, "supervisor")
        console.clock.advance(29 * 60)
        assert (await client.get("/api/session")).status_code == 200  # activity: idle reset
        console.clock.advance(31 * 60)
        expired = await client.get("/calls")
        assert expired.status_code == 303
        assert expired.headers["location"] == "/login?next=/calls&expired=1"
        api = await client.get("/api/session")
        assert api.status_code == 401 and api.json()["error"] == "not_authenticated"

        # Absolute: busy all shift long, still out after 8 hours.
        await console.login(client, "supervisor")
        for _ in range(8 * 3 - 1):
            console.clock.advance(20 * 60)
            assert (await client.get("/api/session")).status_code == 200
        console.clock.advance(20 * 60)
        assert (await client.get("/api/session")).status_code == 401

        page = await client.get("/login?expired=1", headers={"Accept-Language": "en"})
        assert "Your session has expired" in page.text


async def test_logout_ends_the_session(console: Console) -> None:
    async with console.client() as client:
        await console.login(client, "supervisor")
        token = client.cookies["hotline_session"]
        response = await client.post("/logout")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?logged_out=1"
        assert 'hotline_session=""' in set_cookie_header(response)
    async with console.client(cookies={"hotline_session": token}) as replay:
        assert (await replay.get("/api/session")).status_code == 401


async def test_cross_site_posts_are_refused(console: Console) -> None:
    async with console.client() as client:
        evil = await client.post(
            "/login",
            data={"username": "supervisor", "password": PASSWORDS["supervisor"]},
            headers={"Origin": "http://evil.example"},
        )
        assert evil.status_code == 403
        assert "hotline_session" not in set_cookie_header(evil)
        ok = await client.post(
            "/login",
            data={"username": "supervisor", "password": PASSWORDS["supervisor"]},
            headers={"Origin": console.url},
        )
        assert ok.status_code == 303
        refused = await client.post("/logout", headers={"Origin": "null"})
        assert refused.status_code == 403
        assert (await client.get("/api/session")).status_code == 200  # still signed in


async def test_agent_is_refused_live_calls(console: Console) -> None:
    async with console.client(headers={"Accept-Language": "en-GB,en;q=0.9"}) as client:
        await console.login(client, "agent")
        page = await client.get("/calls")
        assert page.status_code == 403
        assert "This page shows patient data and is for supervisors only" in page.text
        assert "You are signed in as agent" in page.text
        api = await client.get("/api/calls")
        assert api.status_code == 403 and api.json()["error"] == "forbidden"


async def test_not_signed_in_is_sent_to_login(console: Console) -> None:
    async with console.client() as client:
        page = await client.get("/calls")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/calls"
        assert (await client.get("/")).status_code == 303
        assert (await client.get("/api/calls")).status_code == 401


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "supervisor"}, "password"),
        ({"password": "x"}, "username"),
        ({"username": "", "password": "x"}, "username"),
        ({"username": "u" * 65, "password": "x"}, "username"),
        ({"username": "u", "password": "p" * 257}, "password"),
    ],
)
async def test_invalid_login_bodies_get_a_clear_422(
    console: Console, data: dict[str, str], field: str
) -> None:
    async with console.client(headers={"Accept-Language": "en"}) as client:
        response = await client.post("/login", data=data)
        assert response.status_code == 422
        assert f"The form was incomplete or invalid: {field}" in response.text
        assert not audit_rows(console, AuditAction.LOGIN)  # nothing was tried


async def test_a_json_body_is_refused_clearly(console: Console) -> None:
    async with console.client(headers={"Accept-Language": "en"}) as client:
        response = await client.post("/login", json={"username": "a", "password": "b"})
        assert response.status_code == 422
        assert "The form was incomplete or invalid" in response.text


async def test_unknown_pages_and_api_paths(console: Console) -> None:
    async with console.client() as client:
        assert (await client.get("/nowhere")).status_code == 404
        api = await client.get("/api/nowhere")
        assert api.status_code == 404 and api.json()["error"] == "http_error"
        assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_security_headers(console: Console) -> None:
    async with console.client() as client:
        page = await client.get("/login")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/static/calls.js")).status_code == 200


async def test_language_choice(console: Console) -> None:
    async with console.client(headers={"Accept-Language": "en-US,en;q=0.8"}) as client:
        english = await client.get("/login")
        assert '<html lang="en">' in english.text and "Sign in" in english.text
        chinese = await client.get("/login?lang=zh")
        assert "登录" in chinese.text
        assert "hotline_lang=zh" in set_cookie_header(chinese)
        remembered = await client.get("/login")  # the cookie beats Accept-Language
        assert '<html lang="zh-CN">' in remembered.text


async def test_next_is_followed_only_to_local_paths(console: Console) -> None:
    async with console.client() as client:
        for target, expected in (
            ("/", "/"),
            ("//evil.example/x", "/calls"),
            ("https://evil.example", "/calls"),
        ):
            response = await client.post(
                "/login",
                data={
                    "username": "supervisor",
                    "password": PASSWORDS["supervisor"],
                    "next": target,
                },
            )
            assert response.headers["location"] == expected


async def test_web_server_reports_a_busy_port(console: Console) -> None:
    second = WebServer(console.server.app, console_settings(console))
    with pytest.raises(WebServerError, match="cannot listen on"):
        await second.start()


def console_settings(console: Console):  # type: ignore[no-untyped-def]
    from cti.settings import Settings

    return Settings(web_port=console.server.port)
