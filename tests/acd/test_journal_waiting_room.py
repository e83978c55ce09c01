"""What the ACD journal writes for callbacks, overflow and told expected waits, on SQLite
and PostgreSQL, and the expected-wait error it reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from acd.callbacks import CallbackOutcome, CallbackPolicy
from acd.journal import AcdJournal
from acd.model import OverflowKind, PriorityClass, Queue
from acd.routing import OverflowReason
from acd.service import (
    AcdService,
    CallbackPlaced,
    CallbackRequested,
    CallbackResult,
    CallOffered,
    CallOverflowed,
    CallQueued,
    WaitAnnounced,
)
from crm_store.database import Database
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdCallRecord, AcdRepository
from crm_store.repositories.ivr import IvrRepository
from cti.bus import EventBus
from ivr.flows import Identity
from tests.acd.live import Parked, handover_of

T0 = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def offered(call_id: str, seconds: float) -> CallOffered:
    handover = handover_of(Parked(call_id, "Local/s@caller-sim-1;1"), "general")
    return CallOffered(
        call_id, "1001", "general", PriorityClass.NORMAL, False, 0, handover, at(seconds)
    )


async def journal_of(database: Database, *events: tuple[str, object]) -> StoreGateway:
    bus = EventBus()
    store = StoreGateway(database)
    journal = AcdJournal(bus, store)
    journal.start()
    for topic, event in events:
        bus.publish(topic, event)
    await journal.close()
    await bus.close()
    return store


async def record(store: StoreGateway, call_id: str) -> AcdCallRecord:
    row = await store.read(lambda s: AcdRepository(s).get_call(call_id))
    assert row is not None
    return row


async def test_callback_overflow_and_told_wait_land_on_the_call_record(database: Database):
    queued = [
        ("acd.queued", CallQueued(cid, "general", PriorityClass.NORMAL, None, T0))
        for cid in ("cb.1", "of.1", "ew.1", "ew.2")
    ]
    store = await journal_of(
        database,
        *queued,
        ("acd.callback_requested", CallbackRequested("cb.1", "+8613800138000", at(20))),
        ("acd.offered", offered("cb.1", 60)),
        ("acd.callback_placed", CallbackPlaced("cb.1", "1001", at(62))),
        ("acd.callback_result", CallbackResult("cb.1", CallbackOutcome.NOT_REACHED, 1, at(90))),
        ("acd.offered", offered("cb.1", 400)),
        ("acd.callback_placed", CallbackPlaced("cb.1", "1001", at(402))),
        ("acd.callback_result", CallbackResult("cb.1", CallbackOutcome.CONNECTED, 2, at(500))),
        (
            "acd.overflowed",
            CallOverflowed(
                "of.1", "general", OverflowReason.MAX_WAIT, OverflowKind.QUEUE, "spill", at(30)
            ),
        ),
        ("acd.announced", WaitAnnounced("ew.1", 2, 180.0, at(30))),
        ("acd.announced", WaitAnnounced("ew.1", 1, 60.0, at(90))),  # later: first one kept
        ("acd.offered", offered("ew.1", 240)),
        ("acd.announced", WaitAnnounced("ew.2", None, 120.0, at(10))),
        ("acd.offered", offered("ew.2", 70)),
    )
    try:
        callback = await record(store, "cb.1")
        assert callback.callback_number == "+8613800138000"
        assert callback.callback_requested_at == at(20)
        assert callback.callback_placed_at == at(402)
        assert (callback.callback_attempts, callback.callback_outcome) == (2, "connected")
        assert callback.offers == 2

        moved = await record(store, "of.1")
        assert (moved.overflow_reason, moved.overflow_target, moved.queue) == (
            "max_wait",
            "spill",
            "spill",
        )

        told = await record(store, "ew.1")
        assert (told.expected_wait_told_s, told.wait_after_told_s) == (180.0, 210.0)

        # ew.1: told 180 s, waited 210 s; ew.2: told 120 s, waited 60 s.
        journal = AcdJournal(EventBus(), store)
        report = await journal.expected_wait_error(T0, at(3600))
        assert report.calls == 2
        assert report.mean_absolute_error_s == 45.0
        assert report.bias_s == -15.0
        assert (await journal.expected_wait_error(at(1), at(3600))).calls == 0
    finally:
        store.close()


def restoring_service(bus: EventBus) -> AcdService:
    """An ACD with callbacks, as built at start-up before it restores them (no AMI yet)."""
    return AcdService.build(  # type: ignore[arg-type]
        bus=bus,
        ami=None,
        queues=[Queue("general", "general", "zh")],
        agents=[],
        phones={},
        callbacks=CallbackPolicy("Local/{digits}@patient-sim"),
    )


async def test_callbacks_not_yet_placed_survive_a_restart_in_their_places(database: Database):
    def write(session: Session) -> None:
        repo = AcdRepository(session)
        for key, minutes, priority in (
            ("old.1", -24 * 60, "normal"),  # asked a day ago: stale, not restored
            ("cb.1", 0, "normal"),
            ("cb.2", 1, "vip"),
            ("done.1", 2, "normal"),  # connected: nothing left to do
            ("held.1", 3, "normal"),  # a caller who held: not a callback
        ):
            repo.call_queued(
                key, queue="general", priority=priority, patient_id=None, at=at(60 * minutes)
            )
        for key in ("old.1", "cb.1", "cb.2", "done.1"):
            repo.callback_requested(key, "+8613800138000", at(600))
        repo.callback_result("cb.2", CallbackOutcome.NOT_REACHED.value, 1)
        repo.callback_result("done.1", CallbackOutcome.CONNECTED.value, 1)

    store = StoreGateway(database)
    bus = EventBus()
    try:
        await store.write(write)
        journal = AcdJournal(bus, store)
        pending = await journal.pending_callbacks(since=at(-12 * 3600))
        service = restoring_service(bus)
        assert service.restore_callbacks(pending) == ["cb.1", "cb.2"]
        first, second = service.waiting["cb.1"], service.waiting["cb.2"]
        assert first.callback_requested and first.channel is None
        assert first.callback_number == "+8613800138000" and first.enqueued_at == T0
        assert (second.priority, second.callback_attempts) == (PriorityClass.VIP, 1)
        assert first.sequence < second.sequence
        assert service.handovers["cb.2"].reason == "callback"
    finally:
        await bus.close()
        store.close()


async def test_restored_callback_pops_with_what_the_ivr_learnt_on_the_call(database: Database):
    learnt = handover_of(Parked("cb.1", "Local/s@caller-sim-1;1"), "general", "7").findings

    def write(session: Session) -> None:
        repo = AcdRepository(session)
        for key in ("cb.1", "cb.2"):
            repo.call_queued(key, queue="general", priority="normal", patient_id=None, at=at(0))
            repo.callback_requested(key, "+8613800138000", at(60))
        ivr = IvrRepository(session)
        sid = ivr.start_session(linkedid="cb.1", flow="main", language="zh", now=T0)
        ivr.end_session(sid, outcome="to_agent", identity_verified=True, findings=learnt.to_json())

    store = StoreGateway(database)
    bus = EventBus()
    try:
        await store.write(write)
        journal = AcdJournal(bus, store)
        pending = await journal.pending_callbacks(since=at(-3600))
        service = restoring_service(bus)
        restored = service.restore_callbacks(pending, await journal.callback_findings(pending))
        assert sorted(restored) == ["cb.1", "cb.2"]
        assert service.handovers["cb.1"].findings == learnt  # verified, wanted to book
        assert service.handovers["cb.1"].findings.identity is Identity.VERIFIED
        # No IVR session stored: nothing is claimed about the caller.
        assert service.handovers["cb.2"].findings.identity is Identity.UNKNOWN
    finally:
        await bus.close()
        store.close()
