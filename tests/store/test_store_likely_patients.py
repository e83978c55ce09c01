"""Likely patients for an unknown caller, recent calls with the agent's wrap-up, and a call
attached to a patient by an agent — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, text

from crm_store.database import Database
from crm_store.enums import CallDirection, CallDisposition
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.calls import CallRepository, CallSnapshot
from crm_store.repositories.likely_patients import (
    LikelyPatientFinder,
    MatchReason,
    mask_number,
    number_candidates,
)
from crm_store.repositories.patients import PatientRepository

T0 = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)


def _patients(database: Database) -> dict[str, int]:
    with database.session() as session:
        repo = PatientRepository(session)
        return {
            # A mobile shared by mother and son: the IVR names neither on its own.
            "mother": repo.create(
                mrn="M-1", full_name="张桂兰", date_of_birth=dt.date(1948, 3, 2),
                numbers=[("13812348000", None)],
            ),
            "son": repo.create(
                mrn="M-2", full_name="张伟", date_of_birth=dt.date(1975, 9, 9),
                numbers=[("13812348000", None)],
            ),
            # The next mobile number: a stranger, never suggested.
            "stranger": repo.create(
                mrn="M-3", full_name="赵敏", numbers=[("13812348001", None)]
            ),
            # A care home's switchboard: extensions differ in the last two digits.
            "resident": repo.create(
                mrn="M-4", full_name="刘淑珍", date_of_birth=dt.date(1939, 1, 1),
                numbers=[("010 6234 5601", None)],
            ),
            "named": repo.create(mrn="M-5", full_name="Emily Smith"),
        }  # fmt: skip


def test_a_garbled_number_finds_everyone_on_that_number_masked(database: Database) -> None:
    ids = _patients(database)
    with database.session() as session:
        found = LikelyPatientFinder(session).find("8613812348000", None)  # no "+"
    assert [m.patient_id for m in found] == sorted([ids["mother"], ids["son"]])
    assert {m.reason for m in found} == {MatchReason.SAME_NUMBER}
    mother = next(m for m in found if m.patient_id == ids["mother"])
    assert (mother.name, mother.masked_number, mother.birth_year) == (
        "张桂兰",
        "+86*******8000",
        1948,
    )


def test_a_fixed_line_suggests_its_switchboard_but_a_mobile_never_its_neighbours(
    database: Database,
) -> None:
    ids = _patients(database)
    with database.session() as session:
        finder = LikelyPatientFinder(session)
        switchboard = finder.find("01062345678", None)
        mobile = finder.find("13812348002", None)  # nobody's; 8000 and 8001 are near
    assert [(m.patient_id, m.reason) for m in switchboard] == [
        (ids["resident"], MatchReason.SAME_LINE)
    ]
    assert switchboard[0].masked_number == "+86******5601"
    assert mobile == []


def test_the_name_given_in_the_ivr_and_a_withheld_number(database: Database) -> None:
    ids = _patients(database)
    with database.session() as session:
        finder = LikelyPatientFinder(session)
        by_name = finder.find(None, " Emily Smith ")
        both = finder.find("+8613812348000", "张伟")
        nothing = finder.find("anonymous", None)
    assert [(m.patient_id, m.reason, m.masked_number) for m in by_name] == [
        (ids["named"], MatchReason.NAME, None)
    ]
    # The son matches by number first and is listed once.
    assert [m.patient_id for m in both] == sorted([ids["mother"], ids["son"]])
    assert nothing == []


def test_number_candidates_read_every_format() -> None:
    assert number_candidates("+86 138 1234 8000").exact == ("+8613812348000",)
    assert number_candidates("0086-138-1234-8000 ext 12").exact == ("+8613812348000",)
    assert number_candidates("99913812348000").exact == ("+8613812348000",)
    assert number_candidates("138123").exact == ()
    assert number_candidates("<unknown>").exact == ()
    assert number_candidates("01062345678").line_prefix == "+8610623456"
    assert number_candidates("13812348000").line_prefix is None
    assert mask_number("+441632960123") == "+44******0123"


def test_likely_patient_lookups_search_indexes_not_tables(database: Database) -> None:
    """At a million patients only index searches will do: SQLite's plan says so."""
    if database.engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner scans tiny tables on purpose; the indexes are shared
    _patients(database)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append((sql, params))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        with database.session() as session:
            LikelyPatientFinder(session).find("01062345678", "Emily Smith")
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    plans = []
    with database.engine.connect() as conn:
        for sql, params in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
                plans.append([row[-1] for row in rows])
    assert len(plans) == 3  # same number, same line, name
    for plan in plans:
        assert not [step for step in plan if step.startswith("SCAN")], plan
        assert any("USING" in step and "INDEX" in step for step in plan), plan


def _call(linkedid: str, patient_id: int | None, minutes: int) -> CallSnapshot:
    at = T0 + dt.timedelta(minutes=minutes)
    return CallSnapshot(
        linkedid=linkedid, direction=CallDirection.INBOUND, caller_number_raw="13812348000",
        caller_number_e164="+8613812348000", caller_name=None, patient_id=patient_id,
        arrived_at=at, answered_at=at + dt.timedelta(seconds=20), ended_at=None,
        hangup_cause=None, hangup_cause_text=None, legs=(),
    )  # fmt: skip


def test_recent_calls_carry_the_agents_disposition_and_notes(database: Database) -> None:
    mother = _patients(database)["mother"]
    with database.session() as session:
        calls, acd = CallRepository(session), AcdRepository(session)
        calls.save(_call("1800000001.1", mother, 0))
        calls.save(_call("1800000002.1", mother, 60))  # never reached an agent
        acd.call_queued("1800000001.1", queue="general", priority="normal", patient_id=mother,
                        at=T0)  # fmt: skip
        acd.call_answered("1800000001.1", "1003", T0 + dt.timedelta(seconds=20))
        acd.wrap_up("1800000001.1", agent_key="1003", disposition=CallDisposition.BOOKED,
                    notes="cardiology, Thursday", at=T0 + dt.timedelta(minutes=5))  # fmt: skip
    with database.session() as session:
        recent = PatientRepository(session).history(mother, now=T0).recent_calls
    assert [(c.linkedid, c.agent, c.disposition, c.agent_notes) for c in recent] == [
        ("1800000002.1", None, None, None),
        ("1800000001.1", "1003", "booked", "cardiology, Thursday"),
    ]


def test_a_call_an_agent_attached_keeps_its_patient_when_the_tracker_saves_it_again(
    database: Database,
) -> None:
    son = _patients(database)["son"]
    with database.session() as session:
        CallRepository(session).save(_call("1800000003.1", None, 0))
        AcdRepository(session).call_queued("1800000003.1", queue="general", priority="normal",
                                           patient_id=None, at=T0)  # fmt: skip
    with database.session() as session:
        assert CallRepository(session).attach_patient("1800000003.1", son)
        assert AcdRepository(session).attach_patient("1800000003.1", son)
        assert not CallRepository(session).attach_patient("1800000009.9", son)
    ended = _call("1800000003.1", None, 0)
    with database.session() as session:
        CallRepository(session).save_many([ended])
        CallRepository(session).save(ended)
    with database.session() as session:
        stored = CallRepository(session).get("1800000003.1")
        record = AcdRepository(session).get_call("1800000003.1")
        count = session.execute(text("SELECT count(*) FROM calls")).scalar_one()
    assert stored is not None and stored.patient_id == son
    assert record is not None and record.patient_id == son
    assert count == 1
