"""Asterisk owns the media: a caller whose Hotline disappears mid-call is not dropped."""

from __future__ import annotations

import pytest

from cti.simulator import SimulatedCaller, place_call

pytestmark = pytest.mark.asterisk


async def test_caller_reaches_the_fallback_queue_when_hotline_stops_mid_call(
    hotline_factory, caller_ami
):
    hotline = await hotline_factory()
    try:
        placed = await place_call(caller_ami.ami, SimulatedCaller(number="13900139000", hold_s=15))
        await caller_ami.log.wait_for(
            lambda e: (
                e.name == "AGIExecStart"
                and e.get("Uniqueid") == placed.uniqueid
                and e.get("Command").startswith("GET DATA")  # the greeting, asking
            ),
            what="the greeting starting",
        )
    finally:
        await hotline.stop()

    fallback = await caller_ami.log.wait_for(
        lambda e: (
            e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineFallback"
            and e.get("Uniqueid") == placed.uniqueid
        ),
        what="the dialplan's fallback",
    )
    assert fallback.get("Reason") == "no-next"
    joined = await caller_ami.log.wait_for(
        lambda e: e.name == "QueueCallerJoin" and e.get("Uniqueid") == placed.uniqueid,
        what="the caller joining the fallback queue",
    )
    assert joined.get("Queue") == "hotline-fallback"
    # Still connected to a person's queue, not hung up: no Hangup for the caller yet.
    assert not any(
        e.name == "Hangup" and e.get("Uniqueid") == placed.uniqueid for e in caller_ami.log.events
    )
