"""The endpointer and the scoring rules alone (pure logic, synthetic frame features)."""

from __future__ import annotations

import pytest

from ivr.recognition import (
    FREE_FORM,
    EndpointConfig,
    Endpointer,
    Grammar,
    Outcome,
    Word,
    score,
)

QUIET, LOUD = -70.0, -20.0
VOICED, UNVOICED = 0.8, 0.1


def run(frames: list[tuple[float, float]], no_input_s: float | None = None) -> Endpointer:
    ep = Endpointer(EndpointConfig())
    if no_input_s is not None:
        ep.arm_no_input(no_input_s)
    for level, voicing in frames:
        ep.push(level, voicing)
    return ep


def test_speech_ends_after_300_ms_of_quiet() -> None:
    frames = [(QUIET, 0.0)] * 10 + [(LOUD, VOICED)] * 20 + [(QUIET, 0.0)] * 14
    ep = run(frames)
    assert ep.state.name == "SPEAKING"
    ep.push(QUIET, 0.0)  # the 15th quiet frame: 300 ms
    assert ep.state.name == "ENDED" and not ep.no_input
    assert ep.speech_start == 10 and ep.last_active == 29
    assert ep.voiced and ep.voiced_share == 1.0


def test_a_short_pause_inside_a_phrase_does_not_end_it() -> None:
    frames = [(LOUD, VOICED)] * 10 + [(QUIET, 0.0)] * 10 + [(LOUD, VOICED)] * 10
    ep = run(frames)
    assert ep.state.name == "SPEAKING"
    assert ep.active_frames == 20


def test_a_click_is_not_speech() -> None:
    frames = [(LOUD, UNVOICED)] * 4 + [(QUIET, 0.0)] * 20
    ep = run(frames, no_input_s=1.0)
    assert ep.state.name == "WAITING" or ep.no_input
    assert ep.speech_start is None


def test_no_input_after_the_deadline() -> None:
    ep = run([(QUIET, 0.0)] * 49, no_input_s=1.0)
    assert ep.state.name == "WAITING"
    ep.push(QUIET, 0.0)
    assert ep.state.name == "ENDED" and ep.no_input


def test_no_deadline_until_armed() -> None:
    ep = run([(QUIET, 0.0)] * 500)
    assert ep.state.name == "WAITING"


def test_noise_is_loud_but_not_voiced() -> None:
    ep = run([(LOUD, UNVOICED)] * 40 + [(QUIET, 0.0)] * 15)
    assert ep.state.name == "ENDED"
    assert not ep.voiced and ep.voiced_share == 0.0


def test_steady_noise_raises_the_floor_until_it_is_quiet() -> None:
    # Speech over a steady -30 dBFS hum ends: the hum becomes the noise floor.
    ep = run([(-30.0, UNVOICED)] * 600)
    assert ep.state.name == "ENDED"  # max speech 12 s, or the floor caught up


def test_speech_is_cut_at_the_maximum_length() -> None:
    ep = run([(LOUD, VOICED)] * 601)
    assert ep.state.name == "ENDED"


def w(word: str, conf: float = 1.0, start: float = 0.0, end: float = 0.5) -> Word:
    return Word(word, conf, start, end)


def test_score_one_phrase() -> None:
    g = Grammar.of(["예약", "상담원 연결"])
    assert score(g, [w("예약")], 0.5, 0.5) == (Outcome.MATCH, "예약", 1.0)
    outcome, text, conf = score(g, [w("상담원"), w("연결", 0.6)], 0.5, 0.5)
    assert (outcome, text, conf) == (Outcome.MATCH, "상담원 연결", 0.6)


def test_score_noise_and_low_confidence() -> None:
    g = Grammar.of(["예약"])
    assert score(g, [w("예약")], 0.0, 0.5)[0] is Outcome.NO_MATCH  # unvoiced: noise
    assert score(g, [w("예약", 0.3)], 0.5, 0.5) == (Outcome.NO_MATCH, "", 0.3)
    assert score(g, [], 0.5, 0.5) == (Outcome.NO_MATCH, "", 0.0)


def test_score_prefers_the_longer_of_two_phrases() -> None:
    g = Grammar.of(["아니요", "상담원"])
    outcome, text, conf = score(
        g, [w("아니요", 1.0, 0.0, 0.2), w("상담원", 1.0, 0.2, 0.8)], 0.5, 0.5
    )
    assert (outcome, text) == (Outcome.MATCH, "상담원")
    assert conf == pytest.approx(0.75)


def test_score_free_form() -> None:
    outcome, text, conf = score(FREE_FORM, [w("안녕", 0.8), w("하세요", 0.6)], 0.5, 0.5)
    assert (outcome, text) == (Outcome.MATCH, "안녕 하세요")
    assert abs(conf - 0.7) < 1e-9
