"""The provisioned Asterisk: it boots, AMI is least-privilege, and a call entering the
hotline is never dropped — with no Hotline, with Hotline vanishing mid-call, with a bad
HOTLINE_NEXT — and hostile caller IDs arrive intact but cannot split AMI events."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import pytest

from cti.asterisk import AsteriskRunner
from cti.settings import Settings
from tests.asterisk.ami_helpers import AmiSession, is_event, originate_simulated_call
from tests.fixtures.asterisk import TEST_PORTS

AMI_PORT = TEST_PORTS["ami_port"]
AGI_PORT = TEST_PORTS["agi_port"]
SIP_PORT = TEST_PORTS["asterisk_sip_port"]

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def ami(asterisk: AsteriskRunner, test_settings: Settings) -> AsyncIterator[AmiSession]:
    async with AmiSession(test_settings) as session:
        yield session


def _nothing_listens(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return False
    except OSError:
        return True


# -- the instance ---------------------------------------------------------------------


def test_status_reports_a_booted_asterisk_22(asterisk: AsteriskRunner) -> None:
    status = asterisk.status()
    assert status.running and status.booted
    assert status.version is not None and status.version.startswith("22.")
    assert status.pid and status.pid > 0
    assert status.ami_listening
    assert (status.ami_port, status.sip_port) == (AMI_PORT, SIP_PORT)
    assert status.agi_url == f"agi://127.0.0.1:{AGI_PORT}"


def test_up_is_idempotent(asterisk: AsteriskRunner) -> None:
    pid = asterisk.status().pid
    again = asterisk.up(timeout_s=30)
    assert again.booted and again.pid == pid


def test_cli_and_instance_values(asterisk: AsteriskRunner) -> None:
    assert "Asterisk 22." in asterisk.cli("core show version")
    transports = asterisk.cli("pjsip show transports")
    assert f"127.0.0.1:{SIP_PORT}" in transports
    settings = asterisk.cli("manager show settings")
    assert f"127.0.0.1:{AMI_PORT}" in settings
    globals_ = asterisk.cli("dialplan show globals")
    assert f"HOTLINE_AGI_URL=agi://127.0.0.1:{AGI_PORT}" in globals_
    assert f"HOTLINE_SHARE_DIR={asterisk.layout.share_asterisk}" in globals_


def test_layout_maps_shared_files(asterisk: AsteriskRunner) -> None:
    layout = asterisk.layout
    prompt = layout.share_host / "prompts" / "greeting.wav"
    assert layout.to_asterisk(prompt) == layout.share_asterisk / "prompts" / "greeting.wav"
    assert layout.to_host(layout.monitor_asterisk / "a.wav") == layout.monitor_host / "a.wav"
    with pytest.raises(ValueError):
        layout.to_asterisk(Path("/etc/passwd"))
    with pytest.raises(ValueError):
        layout.to_host(PurePosixPath("/etc/passwd"))
    assert (layout.share_host / "sim" / "silence-1s.wav").is_file()


# -- AMI least privilege --------------------------------------------------------------


async def test_ami_user_can_log_in_but_not_run_cli_or_system_actions(ami: AmiSession) -> None:
    pong = await ami.action({"Action": "Ping"})
    assert pong.get("Response") == "Success"
    for forbidden in (
        {"Action": "Command", "Command": "core show channels"},
        {"Action": "ModuleLoad", "Module": "app_system.so", "LoadType": "load"},
        {"Action": "GetConfig", "Filename": "manager.conf"},
    ):
        reply = await ami.action(forbidden)
        assert reply.get("Response") == "Error", forbidden
        assert "Permission denied" in str(reply.get("Message")), reply


async def test_ami_refuses_a_wrong_secret(
    asterisk: AsteriskRunner, test_settings: Settings
) -> None:
    reader, writer = await asyncio.open_connection(test_settings.ami_host, test_settings.ami_port)
    try:
        await reader.readline()  # banner
        writer.write(b"Action: Login\r\nUsername: hotline\r\nSecret: not-the-secret\r\n\r\n")
        await writer.drain()
        reply = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    finally:
        writer.close()
    assert b"Response: Error" in reply and b"Authentication failed" in reply


# -- calls without Hotline --------------------------------------------------------------


async def test_call_with_no_fastagi_server_lands_in_the_fallback_queue(
    ami: AmiSession, test_settings: Settings
) -> None:
    assert _nothing_listens(test_settings.agi_host, test_settings.agi_port)
    uid = await originate_simulated_call(ami, number="13800138000", name="Li Si", hold_s=5)
    await ami.wait_for(is_event("UserEvent", uid, UserEvent="HotlineCall", Direction="inbound"))
    fallback = await ami.wait_for(is_event("UserEvent", uid, UserEvent="HotlineFallback"))
    assert fallback.get("Reason") == "agi-failure"
    assert fallback.get("AgiStatus") == "FAILURE"
    joined = await ami.wait_for(is_event("QueueCallerJoin", uid, Queue="hotline-fallback"))
    assert joined.get("CallerIDNum") == "13800138000"
    # The caller gives up; the queue sees an abandon, not a drop.
    await ami.wait_for(is_event("QueueCallerAbandon", uid), timeout_s=20)
    await ami.wait_for(is_event("Hangup", uid), timeout_s=15)


async def _hang_up(ami: AmiSession, channel: str, uid: str) -> None:
    reply = await ami.action({"Action": "Hangup", "Channel": channel})
    assert reply.get("Response") == "Success", reply
    await ami.wait_for(is_event("Hangup", uid), timeout_s=15)


async def _serve_agi(test_settings: Settings, script: list[bytes], abort: bool) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"", b"\n"):
            pass  # the agi_* environment
        for command in script:
            writer.write(command + b"\n")
            await writer.drain()
            await reader.readline()
        if abort:
            writer.transport.abort()  # Hotline vanishes: connection reset mid-call
        else:
            writer.close()

    return await asyncio.start_server(handle, test_settings.agi_host, test_settings.agi_port)


async def test_hotline_vanishing_mid_call_sends_the_caller_to_the_fallback(
    ami: AmiSession, test_settings: Settings
) -> None:
    server = await _serve_agi(test_settings, [b"ANSWER"], abort=True)
    try:
        uid = await originate_simulated_call(ami, number="13800138001", hold_s=30)
        await ami.wait_for(is_event("AGIExecEnd", uid, Command="ANSWER"))
        fallback = await ami.wait_for(is_event("UserEvent", uid, UserEvent="HotlineFallback"))
    finally:
        server.close()
        await server.wait_closed()
    # Verified fact: a FastAGI connection closed mid-call leaves AGISTATUS=SUCCESS;
    # the missing HOTLINE_NEXT is what routes the caller to the fallback.
    assert fallback.get("AgiStatus") == "SUCCESS"
    assert fallback.get("Reason") == "no-next"
    joined = await ami.wait_for(is_event("QueueCallerJoin", uid, Queue="hotline-fallback"))
    await _hang_up(ami, str(joined.get("Channel")), uid)


async def test_hotline_next_is_followed_and_a_bad_one_falls_back(
    ami: AmiSession, test_settings: Settings
) -> None:
    server = await _serve_agi(
        test_settings, [b'SET VARIABLE HOTLINE_NEXT "hotline-hangup,s,1"'], abort=False
    )
    try:
        good = await originate_simulated_call(ami, hold_s=5)
        await ami.wait_for(is_event("Hangup", good, Context="hotline-hangup"))
    finally:
        server.close()
        await server.wait_closed()
    assert not [e for e in ami.of_call(good) if e.get("UserEvent") == "HotlineFallback"]
    assert not [e for e in ami.of_call(good) if e.get("Event") == "QueueCallerJoin"]

    server = await _serve_agi(
        test_settings, [b'SET VARIABLE HOTLINE_NEXT "no-such-context,s,1"'], abort=False
    )
    try:
        bad = await originate_simulated_call(ami, hold_s=30)
        fallback = await ami.wait_for(is_event("UserEvent", bad, UserEvent="HotlineFallback"))
    finally:
        server.close()
        await server.wait_closed()
    assert fallback.get("Reason") == "bad-next"
    joined = await ami.wait_for(is_event("QueueCallerJoin", bad, Queue="hotline-fallback"))
    await _hang_up(ami, str(joined.get("Channel")), bad)


# -- simulated callers ---------------------------------------------------------------------


async def test_simulated_caller_plays_audio_then_keys_dtmf(ami: AmiSession) -> None:
    uid = await originate_simulated_call(
        ami, number="10086", audio="hello-world&silence:1&dtmf:12", dtmf="#", hold_s=1
    )
    caller = uid + "-caller"
    await ami.wait_for(is_event("UserEvent", caller, UserEvent="HotlineSim", Phase="script-done"))
    digits = []
    for digit in "12#":
        event = await ami.wait_for(is_event("DTMFEnd", uid, Digit=digit, Direction="Received"))
        digits.append(event.get("Digit"))
    assert digits == ["1", "2", "#"]
    assert not [e for e in ami.of_call(caller) if e.get("Phase") == "playback-failed"]
    await ami.wait_for(is_event("Hangup", uid), timeout_s=15)


async def test_hostile_caller_id_arrives_exactly_and_cannot_split_ami_events(
    ami: AmiSession,
) -> None:
    name = 'Evil\r\nEvent: Fake\r\n\r\nX\x07\tTab 张三 "q" , ; | ) ('
    # CR/LF in the number: see the raw-socket test below. (Trailing blanks and control
    # characters would be trimmed by Set(CALLERID(num)=...), so keep them inside.)
    number = "+86\x07 138\t0013"
    uid = await originate_simulated_call(ami, number=number, name=name, hold_s=3)
    call = await ami.wait_for(is_event("UserEvent", uid, UserEvent="HotlineCall"))
    # The exact bytes, base64 in the event...
    assert base64.b64decode(str(call.get("CallerIDNameB64"))).decode() == name
    assert base64.b64decode(str(call.get("CallerIDNumB64"))).decode() == number
    # ...and on the channel (Getvar of the base64 copy: a raw CALLERID(name) Getvar
    # would put the CR/LF straight into the AMI response).
    reply = await ami.action(
        {"Action": "Getvar", "Channel": call.get("Channel"), "Variable": "HOTLINE_CID_NAME_B64"}
    )
    assert base64.b64decode(str(reply.get("Value"))).decode() == name
    # The dialplan strips control characters from the NUMBER (which Asterisk would not
    # escape in AMI events) and from the NAME (which would split the AGI environment);
    # Chinese characters and other printable text stay.
    assert str(call.get("CallerIDName")).startswith("EvilEvent: FakeXTab 张三 ")
    assert call.get("CallerIDNum") == "+86 1380013"
    assert not [e for e in ami.events if e.get("Event") == "Fake"]
    await ami.wait_for(is_event("Hangup", uid), timeout_s=15)


async def test_a_cr_lf_caller_number_is_raw_in_ami_until_hotline_inbound_cleans_it(
    asterisk: AsteriskRunner, test_settings: Settings
) -> None:
    """Documents an Asterisk 22 fact the AMI client must survive: caller NUMBERS are not
    escaped in AMI events (names are), so a CR/LF in the number splits the event that
    first carries it (here NewCallerid; for a trunk call, Newchannel). panoramisk 1.4's
    protocol dies on such a frame, hence a raw socket here."""
    reader, writer = await asyncio.open_connection(test_settings.ami_host, test_settings.ami_port)
    number = "+86 138\r\nEvent: Fake\r\n0013"
    uid = "sim-crlf-number"
    try:
        await reader.readline()
        secret = test_settings.ami_secret.get_secret_value()
        writer.write(
            (
                f"Action: Login\r\nUsername: hotline\r\nSecret: {secret}\r\n\r\n"
                "Action: Originate\r\nChannel: Local/s@caller-sim\r\n"
                "Context: caller-sim-inbound\r\nExten: s\r\nPriority: 1\r\nAsync: true\r\n"
                f"ChannelId: {uid}\r\nOtherChannelId: {uid}-caller\r\n"
                f"Variable: SIM_CID_NUM_B64={base64.b64encode(number.encode()).decode()}\r\n"
                "Variable: SIM_HOLD_S=0\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        received = b""
        while b"Event: Hangup" not in received or f"Uniqueid: {uid}\r\n".encode() not in received:
            received += await asyncio.wait_for(reader.read(65536), timeout=15)
    finally:
        writer.close()
    text = received.decode("utf-8", "replace")
    assert "CallerIDNum: +86 138\r\nEvent: Fake\r\n0013\r\n" in text  # raw, unescaped
    assert "CallerIDNum: +86 138Event: Fake0013\r\n" in text  # after hotline-inbound
