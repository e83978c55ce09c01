"""Nothing caller-controlled can add a header to an AMI action."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.ami import (
    AmiEvent,
    Backoff,
    _HardenedProtocol,
    _parse_lines,
    _unwanted_event,
    check_action_values,
    parse_frame,
    parse_headers,
    repair_number_injection,
)
from cti.errors import UnsafeAmiValue


def test_plain_originate_passes():
    check_action_values(
        {"Action": "Originate", "Channel": "Local/s@caller-sim", "Variable": ["A=1", "B=2"]}
    )


@pytest.mark.parametrize(
    "action",
    [
        {"Action": "Originate", "CallerID": "x\r\nAction: Command"},
        {"Action": "Setvar", "Value": "a\nb"},
        {"Action": "Originate", "Variable": ["OK=1", "BAD=\r\n"]},
        {"Action": "Ping", "Bad:Key": "1"},
        {"Action": "Ping", "Key": "nul\x00"},
    ],
)
def test_values_that_would_inject_are_refused(action):
    with pytest.raises(UnsafeAmiValue):
        check_action_values(action)


def test_backoff_grows_to_its_cap_and_resets():
    backoff = Backoff(initial_s=0.5, max_s=8.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.25 <= d <= 8.0 for d in delays)
    assert max(delays[6:]) > 2.0  # grew beyond the first steps
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_event_timestamp_prefers_asterisk_time():
    event = AmiEvent("Hangup", {"Timestamp": "1700000000.250000"}, received_at=5.0)
    assert event.timestamp == 1700000000.25
    assert AmiEvent("Hangup", {"Timestamp": "junk"}, received_at=5.0).timestamp == 5.0
    assert AmiEvent("Hangup", {}, received_at=5.0).timestamp == 5.0


def test_a_line_break_in_a_caller_number_is_folded_back_into_the_number():
    frame = (
        "Event: NewCallerid\r\nChannel: Local/s@caller-sim-1;1\r\n"
        "CallerIDNum: 138\r\nUniqueid: victim\r\nEvent: Shutdown\r\n"
        "CallerIDName: Evil\r\nUniqueid: 1.1\r\nLinkedid: 1.1"
    )
    message = parse_frame(frame)
    assert message is not None
    assert message["Event"] == "NewCallerid"
    assert message["Uniqueid"] == "1.1"
    assert message["CallerIDNum"] == "138\r\nUniqueid: victim\r\nEvent: Shutdown"


def test_a_hostile_caller_number_is_warned_about_once_per_call_not_per_event(caplog):
    def frame(event: str, linkedid: str) -> str:
        return (
            f"Event: {event}\r\nChannel: Local/s@caller-sim-1;1\r\n"
            "CallerIDNum: 138\r\nEvent: Shutdown\r\n"
            f"CallerIDName: Evil\r\nUniqueid: {linkedid}\r\nLinkedid: {linkedid}"
        )

    with caplog.at_level("WARNING", logger="cti.ami"):
        for event in ("Newchannel", "NewCallerid", "Newstate", "Hangup"):
            assert parse_frame(frame(event, "hostile.1")) is not None
        assert parse_frame(frame("Newchannel", "hostile.2")) is not None
    warned = [r.getMessage() for r in caplog.records if "line break" in r.getMessage()]
    assert len(warned) == 2
    assert "hostile.1" in warned[0] and "hostile.2" in warned[1]


def test_a_message_with_a_repeated_identity_header_is_refused():
    with pytest.raises(ValueError):
        parse_frame("Event: Hangup\r\nUniqueid: a\r\nUniqueid: b")


def _protocol_dispatching_to(handled: list[str]) -> _HardenedProtocol:
    """A protocol on no socket whose panoramisk side records the events it dispatches."""

    class Factory:
        def dispatch(self, message):
            handled.append(message["Event"])

    protocol = _HardenedProtocol()
    protocol.connection_made(transport=None)
    protocol.factory = Factory()
    return protocol


def test_a_hostile_frame_does_not_stop_the_following_ones():
    received: list[str] = []

    protocol = _protocol_dispatching_to(received)
    protocol.data_received(
        b"Asterisk Call Manager/11.0.0\r\n"
        b"Event: Hangup\r\nUniqueid: a\r\nUniqueid: b\r\n\r\n"
        b"Event: Newchannel\r\nUniqueid: c\r\n\r\nEvent: Hangup\r\nUni"
    )
    protocol.data_received(b"queid: c\r\n\r\n")
    assert received == ["Newchannel", "Hangup"]
    assert protocol.version == "11.0.0"


def test_plain_events_go_straight_to_the_event_sink_and_responses_to_panoramisk():
    sunk: list[tuple[str, str]] = []
    handled: list[str] = []

    protocol = _protocol_dispatching_to(handled)
    protocol.event_sink = lambda name, headers: sunk.append((name, headers["Uniqueid"]))
    protocol.data_received(
        b"Event: Newchannel\r\nUniqueid: 1.1\r\n\r\n"
        b"Event: CoreShowChannel\r\nActionID: a/1\r\nUniqueid: 1.1\r\n\r\n"
        b"Event: Shutdown\r\nShutdown: Cleanly\r\n\r\n"
    )
    assert sunk == [("Newchannel", "1.1")]
    assert handled[0] == "CoreShowChannel"


def test_events_nobody_wants_are_skipped_unparsed_and_the_rest_still_arrive():
    sunk: list[str] = []
    handled: list[str] = []

    protocol = _protocol_dispatching_to(handled)
    protocol.event_sink = lambda name, headers: sunk.append(name)
    protocol.event_wanted = {"Newchannel", "Hangup"}.__contains__
    protocol.data_received(
        b"Event: DeviceStateChange\r\nDevice: Local/x\r\n\r\n"
        b"Event: Newchannel\r\nUniqueid: 1.1\r\n\r\n"
        b"Event: VarSet\r\nUniqueid: a\r\nUniqueid: b\r\n\r\n"  # would be refused if parsed
        b"Event: CoreShowChannel\r\nActionID: a/1\r\nUniqueid: 1.1\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
    )
    assert sunk == ["Newchannel", "Hangup"]
    assert handled == ["CoreShowChannel"]  # replies to actions: always
    # Shutdown is always read (panoramisk reconnects on it), wanted or not
    assert not _unwanted_event("Event: Shutdown\r\nShutdown: Cleanly", lambda name: False)
    assert _unwanted_event("Event: VarSet", lambda name: False)


_KEYS = [
    *("Event", "Channel", "Uniqueid", "Cause"),
    *("CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName"),
    *("DestCallerIDNum", "DestCallerIDName"),
]
_VALUES = ["", "138", "a: b", "CallerIDNum: 1", "x\r\nUniqueid: forged", "张伟", "Name: y"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(_KEYS), st.sampled_from(_VALUES)).map(": ".join),
            st.sampled_from(["a body line", "--END COMMAND--"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_the_fast_path_parses_exactly_as_the_general_one(lines):
    frame = "\r\n".join(lines)
    folded, repaired = repair_number_injection(frame.split("\r\n"))
    try:
        expected = _parse_lines(folded, repaired=repaired)
    except ValueError:
        with pytest.raises(ValueError):
            parse_headers(frame)
        return
    assert parse_headers(frame) == expected
