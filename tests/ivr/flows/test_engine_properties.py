"""Properties of the engine over any sequence of events: it never raises, and after every
event the call is either listening, waiting for an action it asked for, or handed to a
person / ended — never a dead end. Silence always reaches a person; a booking is only
ever asked for right after the caller said yes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.flows import (
    ACTIONS,
    ActionResult,
    Alternative,
    CallerHangup,
    CallStarted,
    DtmfInput,
    Event,
    FlowEngine,
    FlowSet,
    Hangup,
    Listen,
    NoInput,
    Phase,
    RunAction,
    SpeechResult,
    Transfer,
    load_flows,
)
from tests.ivr.flows.conftest import FLOWS_DIR, HOSPITAL

FLOWS: FlowSet = load_flows(FLOWS_DIR)
ENGINE = FlowEngine(FLOWS, default_language="zh")

PHRASES = sorted(
    {
        phrase
        for lf in FLOWS.languages.values()
        for flow in lf.flows.values()
        for step in flow.steps.values()
        for choice in step.choices
        for phrase in choice.phrases
    }
    | {
        phrase
        for lf in FLOWS.languages.values()
        for phrase in (
            *lf.settings.person.phrases,
            *lf.settings.yes_no.yes_phrases,
            *lf.settings.yes_no.no_phrases,
            *lf.settings.digit_words,
        )
    }
)
OUTCOMES = sorted({o for spec in ACTIONS.values() for o in spec.outcomes} | {"bogus"})
VALUES = sorted({v for spec in ACTIONS.values() for v in spec.provides})

texts = st.one_of(st.sampled_from(PHRASES), st.text(max_size=30))
confidences = st.one_of(st.floats(min_value=-1, max_value=2), st.just(float("nan")))
speech = st.builds(
    SpeechResult,
    text=texts,
    confidence=confidences,
    alternatives=st.lists(st.builds(Alternative, texts, confidences), max_size=2).map(tuple),
)
keys = st.one_of(
    st.sampled_from(list("0123456789*#")), st.text("0123456789*#", max_size=14), st.text(max_size=5)
)
results = st.builds(
    ActionResult,
    name=st.sampled_from(sorted(ACTIONS)),
    outcome=st.sampled_from(OUTCOMES),
    data=st.dictionaries(st.sampled_from(VALUES), st.text(max_size=20), max_size=4),
)
# ActionResults mostly answer the action that was asked for (see run()).
events = st.one_of(
    speech,
    st.builds(DtmfInput, keys),
    st.just(NoInput()),
    results,
    st.just("answer"),  # answer the pending action with one of its outcomes
    st.just(CallerHangup()),
)
starts = st.builds(
    CallStarted,
    caller_number=st.one_of(st.none(), st.text(max_size=15)),
    patient_id=st.one_of(st.none(), st.just("7")),
    patient_name=st.one_of(st.none(), st.text(max_size=12)),
    language=st.sampled_from(["zh", "en", "ko", "fr", None]),
    hospital=st.just(HOSPITAL),
)


def check_live(state, effects) -> None:
    """The call is never left without something to wait for."""
    assert not any(isinstance(e, Transfer) and e.reason == "engine_error" for e in effects)
    if state.phase in (Phase.LISTENING, Phase.CONFIRMING):
        listens = [e for e in effects if isinstance(e, Listen)]
        assert listens, f"listening at {state.ref} without a Listen"
        assert ENGINE.flows.step(state.language, state.ref) is not None
        person_key = FLOWS.languages[state.language].settings.person.key
        assert person_key in listens[-1].dtmf.accept
    elif state.phase is Phase.WAITING_ACTION:
        assert state.pending_action is not None
    elif state.phase is Phase.TRANSFERRED:
        assert any(isinstance(e, Transfer) for e in effects)
    elif state.phase is Phase.ENDED:
        assert state.outcome in ("completed", "caller_hangup")
    else:
        raise AssertionError(f"phase {state.phase} after an event")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=starts, script=st.lists(events, max_size=60), outcome_seed=st.randoms())
def test_any_events_never_raise_and_never_dead_end(start, script, outcome_seed):
    state, effects = ENGINE.next(ENGINE.new_session(), start)
    check_live(state, effects)
    for item in script:
        if item == "answer":
            if state.pending_action is None:
                continue
            spec = ACTIONS[state.pending_action]
            outcome = outcome_seed.choice(sorted(spec.outcomes))
            data = {v: str(outcome_seed.randint(1, 9)) for v in spec.provides}
            event: Event = ActionResult(state.pending_action, outcome, data)
        else:
            event = item
        was = state
        state, out = ENGINE.next(state, event)
        if was.finished:
            assert out == [] and state == was
            continue
        if out:
            effects = out
        check_live(state, effects)
        # a booking, a cancellation or a change is asked for only on a caller's choice
        for effect in out:
            if isinstance(effect, RunAction) and ACTIONS[effect.name].needs_confirmation:
                assert isinstance(event, SpeechResult | DtmfInput), event
                turns = [t.action for t in state.history]
                assert turns[-1].startswith("choice:") or turns[-1] == "confirmed", turns


@settings(max_examples=200, deadline=None)
@given(start=starts, script=st.lists(events, max_size=20))
def test_silence_after_anything_reaches_a_person_or_the_end(start, script):
    state, _ = ENGINE.next(ENGINE.new_session(), start)
    for item in script:
        if item != "answer":
            state, _ = ENGINE.next(state, item)
    for _ in range(60):
        if state.finished:
            break
        if state.phase is Phase.WAITING_ACTION:
            assert state.pending_action is not None
            state, _ = ENGINE.next(state, ActionResult(state.pending_action, "failed"))
        else:
            state, _ = ENGINE.next(state, NoInput())
    assert state.finished, f"still {state.phase} at {state.ref} after a minute of silence"


@settings(max_examples=200, deadline=None)
@given(start=starts, keys_pressed=st.lists(st.text("0123456789*#", min_size=1, max_size=3)))
def test_the_person_key_always_reaches_a_person(start, keys_pressed):
    state, _ = ENGINE.next(ENGINE.new_session(), start)
    for digits in keys_pressed:
        if state.phase not in (Phase.LISTENING, Phase.CONFIRMING):
            break
        state, _ = ENGINE.next(state, DtmfInput(digits))
    if state.phase in (Phase.LISTENING, Phase.CONFIRMING):
        state, out = ENGINE.next(state, DtmfInput("0"))
        assert state.phase is Phase.TRANSFERRED
        assert any(isinstance(e, Transfer) and e.reason == "caller_asked" for e in out)


def test_hangup_is_the_only_way_to_end_without_a_person():
    state, _ = ENGINE.next(ENGINE.new_session(), CallStarted(language="en", hospital=HOSPITAL))
    state, out = ENGINE.next(state, CallerHangup())
    assert state.phase is Phase.ENDED and not any(isinstance(e, Hangup) for e in out)
