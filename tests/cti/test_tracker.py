"""The call tracker rebuilds calls from channel events, and from a channel listing after
a lost AMI link. Pure: events in, changes out."""

from crm_store.enums import CallDirection
from crm_store.phone_numbers import NumberKind
from cti.ami import AmiEvent
from cti.tracker import LOST_CAUSE_TEXT, CallTracker, ChangeKind, ChannelStatus

T0 = 1_700_000_000.0


def ev(name: str, at: float = T0, **fields: str) -> AmiEvent:
    headers = {"Event": name, "Timestamp": f"{at:.6f}", **fields}
    return AmiEvent(name, headers, received_at=at)


def newchannel(uid: str, linked: str, at: float = T0, num: str = "13800138000", name: str = ""):
    return ev(
        "Newchannel",
        at,
        Uniqueid=uid,
        Linkedid=linked,
        Channel=f"PJSIP/trunk-{uid}",
        ChannelState="4",
        CallerIDNum=num,
        CallerIDName=name,
        Context="hotline-inbound",
    )


def test_inbound_call_lifecycle_is_tracked_from_events():
    tracker = CallTracker(region="CN")
    started = tracker.apply(newchannel("1.1", "1.1", num="+86 138-0013-8000", name="Zhang"))
    assert started is not None and started.kind is ChangeKind.STARTED
    tracker.apply(
        ev("UserEvent", T0 + 0.1, UserEvent="HotlineCall", Uniqueid="1.1", Direction="inbound")
    )
    tracker.apply(ev("Newstate", T0 + 1, Uniqueid="1.1", ChannelState="6"))
    ended = tracker.apply(
        ev("Hangup", T0 + 30, Uniqueid="1.1", Cause="16", **{"Cause-txt": "Normal Clearing"})
    )
    assert ended is not None and ended.kind is ChangeKind.ENDED
    snap = ended.call.snapshot()
    assert snap.direction is CallDirection.INBOUND
    assert snap.caller_number_e164 == "+8613800138000"
    assert snap.caller_name == "Zhang"
    assert (snap.answered_at - snap.arrived_at).total_seconds() == 1
    assert (snap.ended_at - snap.arrived_at).total_seconds() == 30
    assert (snap.hangup_cause, snap.hangup_cause_text) == (16, "Normal Clearing")
    assert tracker.calls == {}


def test_call_ends_only_when_its_last_leg_hangs_up_with_the_callers_cause():
    tracker = CallTracker()
    tracker.apply(newchannel("1.1", "1.1"))
    tracker.apply(newchannel("1.2", "1.1", at=T0 + 5, num="1001"))
    tracker.apply(ev("DialBegin", T0 + 5, Uniqueid="1.1", DestUniqueid="1.2"))
    tracker.apply(ev("DialEnd", T0 + 8, Uniqueid="1.1", DestUniqueid="1.2", DialStatus="ANSWER"))
    change = tracker.apply(ev("Hangup", T0 + 60, Uniqueid="1.1", Cause="16"))
    assert change is not None and change.kind is ChangeKind.UPDATED
    assert change.call.legs["1.2"].dial_status == "ANSWER"
    ended = tracker.apply(ev("Hangup", T0 + 61, Uniqueid="1.2", Cause="17"))
    assert ended is not None and ended.kind is ChangeKind.ENDED
    assert ended.call.hangup_cause == 16
    assert ended.call.caller_number_raw == "13800138000"  # the caller's, not the agent's


def test_hostile_caller_id_is_kept_escaped_and_recognised_as_garbage():
    tracker = CallTracker()
    change = tracker.apply(newchannel("2.1", "2.1", num="\r\nAction: Hangup", name="x\x07y"))
    assert change is not None
    call = change.call
    assert call.caller_number_raw == "\\x0d\\x0aAction: Hangup"
    assert call.caller_name == "x\\x07y"
    assert call.number is not None and call.number.kind is NumberKind.INVALID


def test_caller_id_changed_by_the_dialplan_updates_the_call():
    tracker = CallTracker()
    tracker.apply(newchannel("3.1", "3.1", num=""))
    tracker.apply(
        ev("NewCallerid", T0 + 1, Uniqueid="3.1", CallerIDNum="008613800138000", CallerIDName="Li")
    )
    call = tracker.calls["3.1"]
    assert call.number is not None and call.number.e164 == "+8613800138000"


def test_events_for_unknown_channels_are_counted_not_fatal():
    tracker = CallTracker()
    assert tracker.apply(ev("Hangup", Uniqueid="nope", Cause="16")) is None
    assert tracker.apply(ev("Newstate", Uniqueid="nope", ChannelState="6")) is None
    assert tracker.apply(ev("Newchannel")) is None  # no Uniqueid at all
    assert (
        tracker.apply(ev("UserEvent", UserEvent="HotlineCall", Uniqueid="x", Direction="sideways"))
        is None
    )
    assert tracker.ignored_events == 4


def status(uid: str, linked: str, duration: int, state: str = "6", num: str = "13800138000"):
    return ChannelStatus(
        uniqueid=uid,
        linkedid=linked,
        channel=f"PJSIP/t-{uid}",
        state=state,
        caller_number=num,
        caller_name="",
        context="hotline-inbound",
        duration_s=duration,
    )


def test_resync_adopts_calls_that_started_while_the_link_was_down():
    tracker = CallTracker()
    changes = tracker.resync([status("9.1", "9.1", duration=42)], now=T0 + 100)
    assert [c.kind for c in changes] == [ChangeKind.STARTED]
    call = tracker.calls["9.1"]
    assert (call.arrived_at.timestamp(), call.direction) == (T0 + 58, CallDirection.INBOUND)
    assert call.answered_at is not None
    assert call.number is not None and call.number.e164 == "+8613800138000"


def test_resync_ends_calls_that_hung_up_while_the_link_was_down():
    tracker = CallTracker()
    tracker.apply(newchannel("5.1", "5.1"))
    tracker.apply(newchannel("6.1", "6.1"))
    changes = tracker.resync([status("6.1", "6.1", duration=10)], now=T0 + 20)
    ended = [c for c in changes if c.kind is ChangeKind.ENDED]
    assert [c.call.linkedid for c in ended] == ["5.1"]
    assert ended[0].call.hangup_cause_text == LOST_CAUSE_TEXT
    assert set(tracker.calls) == {"6.1"}


def test_resync_keeps_a_call_it_already_knows_unchanged():
    tracker = CallTracker()
    tracker.apply(newchannel("7.1", "7.1"))
    tracker.apply(ev("Newstate", T0 + 1, Uniqueid="7.1", ChannelState="6"))
    assert tracker.resync([status("7.1", "7.1", duration=1)], now=T0 + 2) == []


def test_a_call_persisted_open_is_adopted_and_then_closed_by_resync():
    tracker = CallTracker()
    tracker.apply(newchannel("8.1", "8.1"))
    snapshot = tracker.calls["8.1"].snapshot()
    restarted = CallTracker()
    restarted.adopt(snapshot)
    changes = restarted.resync([], now=T0 + 50)
    assert [c.kind for c in changes] == [ChangeKind.ENDED]
    assert restarted.calls == {}
