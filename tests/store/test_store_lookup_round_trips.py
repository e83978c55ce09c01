"""The caller-ID lookup's path: one round trip per lookup on PostgreSQL, pooled
connections the server dropped replaced without a ping per checkout, and the service's
CallerIdentifier on both engines.

(The lookup's figures are in bench/store_lookup.py; these tests prove the mechanism.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from crm_store.database import Database
from crm_store.gateway import StoreGateway
from crm_store.repositories import PatientRepository
from cti.caller_identification import CallerIdentifier
from tests.fixtures.databases import _admin_conninfo, _empty_all_tables


@pytest.fixture
def pg_database(migrated_postgres_url: str) -> Iterator[Database]:
    database = Database(migrated_postgres_url)
    _empty_all_tables(database)
    try:
        yield database
    finally:
        database.dispose()


def _mother_and_daughter(database: Database) -> tuple[int, int]:
    with database.session() as session:
        patients = PatientRepository(session)
        mother = patients.create(mrn="M1", full_name="张秀英", numbers=[("010-6552 8899", None)])
        daughter = patients.create(
            mrn="M2", full_name="Emily Zhang", numbers=[("+86 139 1000 2000", None)]
        )
        patients.add_phone_number(mother, "13910002000", relation="daughter")
    return mother, daughter


def _round_trips(database: Database, tmp_path: Path, *, read_session: bool, e164: str) -> int:
    """How many times the client waited for the server (ReadyForQuery messages) during
    one lookup in a session of the given kind, pool checkout and commit included."""
    path = tmp_path / f"libpq-{read_session}.trace"
    traced: list[Any] = []

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        sink = path.open("w")
        dbapi_connection.pgconn.trace(sink.fileno())
        traced.append((dbapi_connection, sink))

    # On every pool: a read session has its own.
    event.listen(Pool, "checkout", on_checkout)
    try:
        opened = database.read_session() if read_session else database.session()
        with opened as session:
            PatientRepository(session).find_by_phone(e164)
    finally:
        event.remove(Pool, "checkout", on_checkout)
        for dbapi_connection, sink in traced:
            dbapi_connection.pgconn.untrace()
            sink.close()
    return sum("ReadyForQuery" in line for line in path.read_text().splitlines())


@pytest.mark.postgres
def test_a_lookup_in_a_read_session_is_one_round_trip(
    pg_database: Database, tmp_path: Path
) -> None:
    _mother_and_daughter(pg_database)
    for _ in range(8):  # past psycopg's prepare threshold: the steady state
        with pg_database.read_session() as session:
            PatientRepository(session).find_by_phone("+8613910002000")
    in_transaction = _round_trips(pg_database, tmp_path, read_session=False, e164="+8613910002000")
    alone = _round_trips(pg_database, tmp_path, read_session=True, e164="+8613910002000")
    assert in_transaction == 3  # BEGIN, SELECT, COMMIT (and no ping)
    assert alone == 1


@pytest.mark.postgres
def test_a_read_session_finds_own_numbers_first(pg_database: Database) -> None:
    mother, daughter = _mother_and_daughter(pg_database)
    with pg_database.read_session() as session:
        matches = PatientRepository(session).find_by_phone("+8613910002000")
    assert [(m.patient_id, m.relation) for m in matches] == [(daughter, None), (mother, "daughter")]


@pytest.mark.postgres
def test_a_read_session_sees_no_transaction_block(pg_database: Database) -> None:
    with pg_database.read_session() as session:
        # Autocommit: each statement is its own transaction, so two statements differ.
        first = session.execute(text("SELECT txid_current()")).scalar()
        second = session.execute(text("SELECT txid_current()")).scalar()
    with pg_database.session() as session:
        third = session.execute(text("SELECT txid_current()")).scalar()
        fourth = session.execute(text("SELECT txid_current()")).scalar()
    assert first != second
    assert third == fourth


def _terminate(pid: int) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # until the backend is gone (its socket then is closed)
            row = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            if row is None:
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} did not exit")


@pytest.mark.postgres
def test_a_pooled_connection_the_server_dropped_is_replaced(pg_database: Database) -> None:
    _mother_and_daughter(pg_database)
    for opened in (pg_database.read_session, pg_database.session):
        with opened() as session:
            dropped = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(dropped)
        with opened() as session:
            matches = PatientRepository(session).find_by_phone("+861065528899")
            now_on = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert [m.relation for m in matches] == [None]
        assert now_on != dropped


@pytest.mark.postgres
async def test_the_gateway_lookup_runs_in_autocommit_and_read_does_not(
    pg_database: Database,
) -> None:
    mother, _daughter = _mother_and_daughter(pg_database)

    def autocommit(session: Session) -> bool:
        return bool(session.connection().connection.dbapi_connection.autocommit)

    store = StoreGateway(pg_database, readers=1)
    try:
        matches = await store.lookup(lambda s: PatientRepository(s).find_by_phone("+861065528899"))
        in_lookup = await store.lookup(autocommit)
        in_read = await store.read(autocommit)
    finally:
        store.close()
    assert [m.patient_id for m in matches] == [mother]
    assert in_lookup and not in_read


async def test_the_caller_identifier_finds_the_owner_through_the_gateway(
    database: Database,
) -> None:
    mother, daughter = _mother_and_daughter(database)
    store = StoreGateway(database, readers=1)
    try:
        identifier = CallerIdentifier(store, region="CN")
        shared = await identifier.identify("139 1000 2000")
        landline = await identifier.identify("(010) 6552-8899")
        unknown = await identifier.identify("13700000000")
    finally:
        store.close()
    assert [m.patient_id for m in shared.matches] == [daughter, mother]
    assert shared.owner is not None and shared.owner.patient_id == daughter
    assert landline.patient is not None and landline.patient.patient_id == mother
    assert unknown.matches == () and unknown.patient is None
