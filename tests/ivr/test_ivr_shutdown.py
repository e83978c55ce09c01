"""Hotline stopping with callers in the IVR: the calls are let go cleanly (the dialplan's
fallback takes them), their sessions are closed, and nothing is logged as a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from crm_store.database import Database
from crm_store.models import IvrSession
from cti.service import Hotline
from cti.simulator import SimulatedCaller, place_call
from ivr.call_adapter import LISTENING_TOPIC, Listening

pytestmark = pytest.mark.asterisk


async def test_stopping_with_calls_in_the_ivr_ends_them_without_a_traceback(
    hotline_factory, caller_ami, caplog: pytest.LogCaptureFixture
):
    hotline: Hotline = await hotline_factory()
    listening: set[str] = set()

    def heard(_topic: str, event: Listening) -> None:
        listening.add(event.uniqueid)

    sub = hotline.bus.subscribe("test-shutdown-listening", [LISTENING_TOPIC], heard)
    placed = [
        await place_call(caller_ami.ami, SimulatedCaller(number=f"1390000000{i}", hold_s=60))
        for i in range(2)
    ]

    async def all_listening() -> None:
        while not {p.uniqueid for p in placed} <= listening:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(all_listening(), 60)
    await hotline.bus.unsubscribe(sub)
    with caplog.at_level(logging.INFO):
        await hotline.stop()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert failures == [], [r.getMessage() for r in failures]
    database = Database(str(hotline.settings.database_url))
    try:
        with database.session() as session:
            sessions = list(session.scalars(select(IvrSession)))
            by_call = {s.linkedid: s for s in sessions}
            for call in placed:
                stored = by_call[call.uniqueid]
                assert stored.ended_at is not None and stored.outcome == "hotline_stopped"
    finally:
        database.dispose()
    for call in placed:  # the calls themselves went on to the dialplan's fallback
        await caller_ami.log.wait_for(
            lambda e, c=call: e.name == "QueueCallerJoin" and e.get("Uniqueid") == c.uniqueid,
            what="the caller joining the fallback queue",
        )
