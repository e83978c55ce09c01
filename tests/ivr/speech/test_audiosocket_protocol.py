"""AudioSocket framing alone (pure): Asterisk 22's res_audiosocket message layout."""

from __future__ import annotations

import uuid

import pytest

from ivr.audiosocket import (
    HANGUP_FRAME,
    AudioSocketProtocolError,
    FrameDecoder,
    Kind,
    _script_frames,
    encode_frame,
    uuid_frame,
)


def test_frames_split_anywhere_are_reassembled() -> None:
    cid = uuid.uuid4()
    stream = (
        uuid_frame(str(cid))
        + encode_frame(Kind.AUDIO, bytes(320))
        + encode_frame(Kind.DTMF, b"5")
        + HANGUP_FRAME
    )
    for cut in range(1, len(stream)):
        decoder = FrameDecoder()
        frames = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert [f.kind for f in frames] == [Kind.UUID, Kind.AUDIO, Kind.DTMF, Kind.HANGUP]
        assert uuid.UUID(bytes=frames[0].payload) == cid
        assert frames[2].payload == b"5"
        assert decoder.pending == 0


def test_header_layout() -> None:
    assert encode_frame(Kind.AUDIO, b"\x01\x02") == b"\x10\x00\x02\x01\x02"
    assert HANGUP_FRAME == b"\x00\x00\x00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x42\x00\x00", "unknown AudioSocket frame kind 0x42"),
        (b"\x10\x00\x00", "audio frame of 0 bytes"),
        (b"\x10\x00\x03abc", "audio frame of 3 bytes"),
        (b"\x10\xff\xff", "audio frame of 65535 bytes"),
        (b"\x01\x00\x05abcde", "UUID frame of 5 bytes"),
        (b"\x03\x00\x02ab", "DTMF frame of 2 bytes"),
        (b"\x00\x00\x01x", "hang-up frame with 1 bytes"),
        (b"GET / HTTP/1.1\r\n", "unknown AudioSocket frame kind 0x47"),
    ],
)
def test_malformed_frames_are_refused_with_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(AudioSocketProtocolError, match=message):
        FrameDecoder().feed(data)


def test_encode_refuses_what_the_protocol_cannot_carry() -> None:
    with pytest.raises(ValueError, match="65535"):
        encode_frame(Kind.AUDIO, bytes(70000))


def test_a_simulated_caller_sends_its_script_in_20_ms_frames_then_silence() -> None:
    """Speech in whole frames (the last one padded) marked where each chunk ends, the
    pauses as silence frames, and silence for ever after the script."""
    speech = bytes(range(256)) * 3  # 768 bytes: 2 whole frames and a part
    frames = _script_frames([0.04, speech, 0.02])
    sent = [next(frames) for _ in range(8)]
    silence = encode_frame(Kind.AUDIO, bytes(320))
    assert [end for _, end in sent] == [False, False, False, False, True, False, False, False]
    assert sent[0][0] == sent[1][0] == silence and sent[5][0] == sent[7][0] == silence
    assert sent[2][0] == encode_frame(Kind.AUDIO, speech[:320])
    assert sent[4][0] == encode_frame(Kind.AUDIO, speech[640:].ljust(320, b"\0"))
