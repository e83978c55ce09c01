"""The ACD's rows on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from acd.model import AgentState
from crm_store.database import Database
from crm_store.repositories.acd import AcdRepository

T0 = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)


def test_agent_state_is_upserted_with_its_pause_reason(database: Database) -> None:
    with database.session() as session:
        AcdRepository(session).save_agent_state("1001", AgentState.AVAILABLE, None, T0)
    later = T0 + dt.timedelta(minutes=5)
    with database.session() as session:
        AcdRepository(session).save_agent_state("1001", AgentState.PAUSED, "lunch", later)
    with database.session() as session:
        saved = AcdRepository(session).agent_states()
    assert list(saved) == ["1001"]
    assert (saved["1001"].state, saved["1001"].pause_reason) == (AgentState.PAUSED, "lunch")
    assert saved["1001"].since == later


def test_a_call_record_follows_queue_offers_answer_and_end(database: Database) -> None:
    with database.session() as session:
        repo = AcdRepository(session)
        repo.call_queued("1.1", queue="general", priority="normal", patient_id=None, at=T0)
        repo.call_offered("1.1", "2001")
        repo.call_queued("1.1", queue="general", priority="normal", patient_id=None, at=T0)
        repo.call_offered("1.1", "1003")
        repo.call_answered("1.1", "1003", T0 + dt.timedelta(seconds=42))
        repo.call_ended("1.1", T0 + dt.timedelta(seconds=300))
        repo.call_queued("1.2", queue="vip", priority="vip", patient_id=None, at=T0)
        repo.call_abandoned("1.2", T0 + dt.timedelta(seconds=9))
        repo.call_offered("no-such-call", "1003")  # a late event for an unknown call
    with database.session() as session:
        repo = AcdRepository(session)
        served, gave_up = repo.get_call("1.1"), repo.get_call("1.2")
        assert repo.get_call("no-such-call") is None
    assert served is not None and gave_up is not None
    assert (served.offers, served.offered_to, served.answered_by) == (2, "1003", "1003")
    assert served.wait_s == 42.0 and served.queued_at == T0 and not served.abandoned
    assert served.ended_at == T0 + dt.timedelta(seconds=300)
    assert gave_up.abandoned and gave_up.wait_s == 9.0 and gave_up.answered_by is None


def test_a_days_calls_are_those_queued_answered_or_ended_since_its_start(
    database: Database,
) -> None:
    start = T0 + dt.timedelta(hours=1)
    with database.session() as session:
        repo = AcdRepository(session)
        for key, queued in (("old", -60), ("old-answered", -60), ("old-ended", -60), ("new", 5)):
            at = start + dt.timedelta(minutes=queued)
            repo.call_queued(key, queue="general", priority="normal", patient_id=None, at=at)
        repo.call_answered("old", "1003", start - dt.timedelta(minutes=59))
        repo.call_ended("old", start - dt.timedelta(minutes=50))
        repo.call_answered("old-answered", "1003", start + dt.timedelta(seconds=1))
        repo.call_answered("old-ended", "1003", start - dt.timedelta(minutes=59))
        repo.call_ended("old-ended", start)
    with database.session() as session:
        repo = AcdRepository(session)
        touching = [r.call_key for r in repo.calls_touching(start)]
        chosen = sorted(r.call_key for r in repo.calls(["new", "old", "missing"]))
        assert repo.calls([]) == []
    assert sorted(touching) == ["new", "old-answered", "old-ended"]
    assert chosen == ["new", "old"]
