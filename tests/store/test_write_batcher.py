"""Rows from many live calls reach the store together, in order, and survive a failed
transaction (crm_store.write_batcher, and the IVR's journal built on it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from crm_store.database import Database
from crm_store.gateway import StoreGateway
from crm_store.models import IvrSession, IvrTurn
from crm_store.repositories.ivr import TurnRow
from crm_store.write_batcher import WriteBatcher
from ivr.session_journal import IvrJournal


@pytest.fixture
async def store(database: Database) -> AsyncIterator[StoreGateway]:
    gateway = StoreGateway(database)
    yield gateway
    gateway.close()


class Recorder:
    """A write function that remembers each batch and can be told to fail: ``failures``
    errors to raise first, and ``refused`` items the store rejects whenever they come."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.failures: list[Exception] = []
        self.refused: set[str] = set()

    def __call__(self, _session: Session, items: Sequence[str]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if self.refused & set(items):
            raise IntegrityError("INSERT", {}, Exception("CHECK constraint failed"))
        self.batches.append(list(items))


def store_away() -> OperationalError:
    return OperationalError("INSERT", {}, Exception("could not connect to server"))


async def test_what_is_enqueued_together_is_stored_in_one_transaction_in_order(store):
    recorder = Recorder()
    batcher = WriteBatcher(store, recorder, name="test", max_delay_s=0.05)
    batcher.start()
    stored = [batcher.enqueue(f"row {n}") for n in range(5)]
    await asyncio.gather(*stored)
    await batcher.close()
    assert recorder.batches == [[f"row {n}" for n in range(5)]]
    assert batcher.written == 5


async def test_a_newer_item_with_the_same_key_replaces_the_pending_one(store):
    recorder = Recorder()
    batcher = WriteBatcher(store, recorder, name="test", key=lambda item: item.split(":")[0])
    batcher.start()
    older = batcher.enqueue("call-1:ringing")
    batcher.enqueue("call-2:ringing")
    newer = batcher.enqueue("call-1:answered")
    await asyncio.gather(older, newer)  # the older one is done when its replacement is
    await batcher.close()
    assert recorder.batches == [["call-2:ringing", "call-1:answered"]]


async def test_rows_of_a_store_outage_report_the_error_and_are_stored_on_the_retry(
    store, monkeypatch
):
    monkeypatch.setattr("crm_store.write_batcher.RETRY_AFTER_S", 0.01)
    recorder = Recorder()
    recorder.failures = [store_away()]
    batcher = WriteBatcher(store, recorder, name="test", max_delay_s=0.01)
    batcher.start()
    first = batcher.enqueue("first")
    with pytest.raises(OperationalError, match="could not connect"):
        await first
    await batcher.enqueue("second")
    await batcher.close()
    assert recorder.batches == [["first", "second"]]


async def test_a_row_the_store_refuses_is_dropped_without_holding_back_the_others(store):
    recorder = Recorder()
    recorder.refused = {"bad"}
    batcher = WriteBatcher(store, recorder, name="test", max_delay_s=0.05)
    batcher.start()
    stored = [batcher.enqueue(item) for item in ("one", "bad", "two")]
    outcomes = await asyncio.gather(*stored, return_exceptions=True)
    later = batcher.enqueue("three")
    await later
    await batcher.close()
    assert isinstance(outcomes[1], IntegrityError)
    assert outcomes[0] is None and outcomes[2] is None
    assert recorder.batches == [["one"], ["two"], ["three"]]


async def test_the_ivr_journal_stores_sessions_turns_and_ends_of_many_calls_together(
    store, database: Database
):
    journal = IvrJournal(store, max_delay_s=0.05)
    journal.start()
    sessions = [
        journal.open(linkedid=f"1700000000.{n}", flow="main", language="zh", patient_id=None)
        for n in range(3)
    ]
    for session in sessions:
        journal.add_turns(session, [TurnRow("main.menu", dtmf="5", chosen_action="status")])
    await journal.flush()
    # A later batch numbers on from what the journal numbered before.
    journal.add_turns(sessions[0], [TurnRow("complaints.status", dtmf="123456789#")])
    await asyncio.gather(
        *(
            journal.end(s, outcome="ended", identity_verified=False, patient_id=None, findings={})
            for s in sessions
        )
    )
    await journal.close()
    with database.session() as db:
        ended = db.scalars(select(IvrSession).order_by(IvrSession.linkedid)).all()
        assert [(s.linkedid, s.outcome) for s in ended] == [
            (f"1700000000.{n}", "ended") for n in range(3)
        ]
        turns = db.execute(
            select(IvrTurn.session_id, IvrTurn.seq, IvrTurn.step).order_by(
                IvrTurn.session_id, IvrTurn.seq
            )
        ).all()
    first = ended[0].id
    assert [(t.seq, t.step) for t in turns if t.session_id == first] == [
        (1, "main.menu"),
        (2, "complaints.status"),
    ]
    assert len(turns) == 4
