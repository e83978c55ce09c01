"""Web console fixtures: a real store (SQLite file), the real bus, the app served by
the real WebServer on a loopback port, and an HTTP client for it."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_store.database import Database
from crm_store.enums import CallDirection, Role
from crm_store.gateway import StoreGateway
from crm_store.phone_numbers import normalise
from crm_store.repositories.patients import PatientRepository
from crm_store.repositories.users import UserRepository
from cti.bus import EventBus
from cti.settings import Settings
from cti.tracker import Leg, TrackedCall
from screenpop.app import create_app
from screenpop.auth import AuthPolicy
from screenpop.server import WebServer
from tests.fixtures.asterisk import PORT_OFFSET

#: Loopback port of the consoles under test (the service's own tests use 28080).
WEB_TEST_PORT = 28090 + PORT_OFFSET

PASSWORDS = {
    "admin": "admin-pass-123",
    "supervisor": "supervisor-pass-123",
    "agent": "agent-pass-123",
}


class FakeClock:
    """Seconds since the epoch, moved by the test (for session expiry and lockouts)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Console:
    """A running console app and what a test needs to drive it."""

    url: str
    bus: EventBus
    store: StoreGateway
    database: Database
    clock: FakeClock
    server: WebServer
    policy: AuthPolicy
    user_ids: dict[str, int] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/calls"

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, follow_redirects=False, timeout=10, **kwargs)  # type: ignore[arg-type]

    async def login(
        self, client: httpx.AsyncClient, username: str, password: str | None = None
    ) -> httpx.Response:
        response = await client.post(
            "/login", data={"username": username, "password": password or PASSWORDS[username]}
        )
        return response


def tracked_call(
    linkedid: str,
    *,
    number: str | None = "+8613812348000",
    patient_id: int | None = None,
    arrived_at: dt.datetime | None = None,
    answered: bool = False,
    ended: bool = False,
    cause: int | None = 16,
) -> TrackedCall:
    """A TrackedCall as the tracker publishes it (built directly for the tests)."""
    arrived = arrived_at or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=42)
    call = TrackedCall(
        linkedid=linkedid,
        arrived_at=arrived,
        direction=CallDirection.INBOUND,
        caller_number_raw=number,
        caller_name=None,
        number=normalise(number, "CN") if number else None,
        patient_id=patient_id,
        primary_uniqueid=linkedid,
    )
    call.legs[linkedid] = Leg(
        uniqueid=linkedid, channel=f"PJSIP/trunk-{linkedid}", created_at=arrived
    )
    if answered:
        call.answered_at = arrived + dt.timedelta(seconds=5)
    if ended:
        call.ended_at = arrived + dt.timedelta(seconds=65)
        call.hangup_cause = cause
        call.hangup_cause_text = "Normal Clearing" if cause == 16 else None
        call.legs[linkedid].ended_at = call.ended_at
    return call


def seed(database: Database) -> tuple[dict[str, int], dict[str, int]]:
    users: dict[str, int] = {}
    with database.session() as session:
        repo = UserRepository(session)
        for username, role in (
            ("admin", Role.ADMIN),
            ("supervisor", Role.SUPERVISOR),
            ("agent", Role.AGENT),
        ):
            users[username] = repo.create(
                username=username,
                display_name=username.title(),
                role=role,
                password=PASSWORDS[username],
            )
        patients = PatientRepository(session)
        ids = {
            "wang": patients.create(
                mrn="MRN-1", full_name="王秀英", numbers=[("13812348000", None)]
            ),
            "smith": patients.create(
                mrn="MRN-2", full_name="Emily Smith", numbers=[("13900001111", None)]
            ),
        }
    return users, ids


@pytest.fixture
async def make_console(migrated_sqlite_template: Path, tmp_path: Path) -> AsyncIterator[object]:
    """Factory: ``await make_console(policy=..., before_start=fn, settings={...})`` starts
    a console; ``settings`` are further Settings fields (e.g. ``acd_queues``);
    ``database`` a migrated, empty store to use instead of a fresh SQLite file."""
    started: list[tuple[WebServer, StoreGateway, EventBus, Database]] = []

    async def make(
        policy: AuthPolicy | None = None,
        before_start: object = None,
        settings: Mapping[str, Any] | None = None,
        database: Database | None = None,
    ) -> Console:
        if database is None:  # else a given store (e.g. the ``database`` fixture's engines)
            path = tmp_path / f"store-{len(started)}.db"
            shutil.copyfile(migrated_sqlite_template, path)
            database = Database(f"sqlite:///{path}")
        users, patients = seed(database)
        if callable(before_start):
            before_start(database, patients)
        store = StoreGateway(database)
        bus = EventBus()
        fields: dict[str, Any] = {
            "state_dir": tmp_path / "state",
            "cache_dir": tmp_path / "cache",
            "web_port": WEB_TEST_PORT,
            **(settings or {}),
        }
        app_settings = Settings(**fields)
        clock = FakeClock()
        policy = policy or AuthPolicy(websocket_recheck_s=0.2)
        app = create_app(store=store, bus=bus, settings=app_settings, policy=policy, clock=clock)
        server = WebServer(app, app_settings, graceful_shutdown_s=2)
        await server.start()
        started.append((server, store, bus, database))
        return Console(
            url=server.url,
            bus=bus,
            store=store,
            database=database,
            clock=clock,
            server=server,
            policy=policy,
            user_ids=users,
            patients=patients,
        )

    yield make
    for server, store, bus, database in reversed(started):
        await server.stop()
        await bus.close()
        store.close()
        database.dispose()


@pytest.fixture
async def console(make_console: object) -> Console:
    return await make_console()  # type: ignore[operator,no-any-return]
