"""Every caller journey of issue 4, walked through the shipped zh and en flows with
scripted events (keys are the same in both languages, so keypad journeys run in both)."""

from __future__ import annotations

import pytest

from ivr.flows import (
    Hangup,
    Identity,
    Phase,
    Play,
    RecordTurn,
    RunAction,
    SpeechResult,
    VoiceMessage,
)
from tests.ivr.flows.conftest import Caller

LANGUAGES = ["zh", "en"]
OFFERS = {
    "department_name": "Cardiology",
    "day_text": "on Thursday, 26th November",
    "offer_1_id": "101",
    "offer_1_text": "9 AM with Dr Wang",
    "offer_2_id": "102",
    "offer_2_text": "9:15 AM with Dr Wang",
}
APPOINTMENTS = {
    "appointment_count": "2",
    "appointment_1_reference": "R-1001",
    "appointment_1_text": "Thursday 26th November, 9 AM, Cardiology",
    "appointment_1_department": "CARD",
    "appointment_2_reference": "R-1002",
    "appointment_2_text": "Monday 30th November, 2 PM, Ophthalmology",
    "appointment_2_department": "OPHT",
}


def verified_known_caller(caller: Caller, language: str) -> None:
    """A caller whose number is known, past the greeting, at the main menu."""
    caller.call(language=language, patient_id="7", patient_name="Zhang Wei")
    assert caller.step == "main.greet_known"
    caller.silence()  # no language change: on to the menu
    assert caller.step == "main.menu"


def pass_dob(caller: Caller, dob: str = "19850312") -> None:
    assert caller.step == "main.ask_dob"
    caller.press(dob + "#")
    action = caller.action()
    assert (action.name, action.params["method"], action.params["value"]) == (
        "verify_identity",
        "dob",
        dob,
    )
    caller.result("verify_identity", "verified")
    assert caller.state.identity is Identity.VERIFIED


@pytest.mark.parametrize("language", LANGUAGES)
def test_caller_books_cardiology_on_thursday_by_keypad(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("1")  # book: verification comes first
    pass_dob(caller)
    assert caller.step == "booking.start"
    caller.press("1")  # cardiology
    caller.press("2")  # any doctor
    caller.press("4")  # Thursday
    action = caller.action()
    assert action.name == "list_free_slots"
    assert action.params == {"department": "CARD", "doctor": "", "day": "thursday"}
    caller.result("list_free_slots", "found", **OFFERS)
    assert "9 AM with Dr Wang" in caller.said() and "9:15 AM with Dr Wang" in caller.said()
    assert caller.listen().dtmf.accept == "1290"  # no third offer, no key 3
    caller.press("2")
    assert caller.step == "booking.confirm_new"
    assert "9:15 AM with Dr Wang" in caller.said()
    assert not caller.actions("book")  # nothing booked before the yes
    caller.press("1")
    book = caller.action()
    assert (book.name, book.params, book.patient_id) == ("book", {"slot_id": "102"}, "7")
    assert book.identity is Identity.VERIFIED
    caller.result("book", "booked", reference="R-2001", reference_text="R 2 0 0 1")
    assert "R 2 0 0 1" in caller.said()
    assert caller.step == "main.anything_else"
    caller.press("2")
    assert isinstance(caller.last[-1], Hangup)
    assert caller.state.phase is Phase.ENDED and caller.state.outcome == "completed"
    assert caller.state.intents == ("book",)


def test_caller_books_by_voice_in_mandarin(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.say("我想预约挂号")
    pass_dob(caller)
    caller.say("心内科", 0.92)
    caller.say("不指定", 0.9)
    caller.say("星期四", 0.88)
    assert caller.action().params["day"] == "thursday"
    caller.result("list_free_slots", "found", **OFFERS)
    caller.say("第一个", 0.9)
    caller.say("确认", 0.95)
    assert caller.action().params == {"slot_id": "101"}


def test_caller_books_by_voice_in_english(caller: Caller):
    verified_known_caller(caller, "en")
    caller.say("i would like to book an appointment")
    pass_dob(caller)
    caller.say("cardiology please")
    caller.say("any doctor")
    caller.say("thursday")
    caller.result("list_free_slots", "found", **OFFERS)
    caller.say("the second one")
    caller.say("yes")
    assert caller.action().params == {"slot_id": "102"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_two_no_inputs_transfer_to_a_person_with_findings(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("1")
    pass_dob(caller)
    caller.press("1")  # cardiology
    caller.silence()
    assert caller.step == "booking.ask_doctor" and caller.listen()  # asked again
    caller.silence()
    transfer = caller.transfer()
    assert transfer.reason == "no_input" and transfer.queue == "patients"
    findings = transfer.findings
    assert findings.patient_id == "7" and findings.identity is Identity.VERIFIED
    assert findings.intent == "book" and findings.step == "booking.ask_doctor"
    assert findings.slots["department"] == "CARD"
    assert "dob" not in findings.slots  # what was keyed at a sensitive step stays here
    assert caller.state.phase is Phase.TRANSFERRED and caller.state.outcome == "to_agent"


@pytest.mark.parametrize("language", LANGUAGES)
def test_two_no_matches_transfer_to_a_person(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.say("嗯嗯啊啊 mumble")
    assert caller.step == "main.menu" and caller.listen()
    caller.press("7")  # no such choice
    assert caller.transfer().reason == "no_match"


def test_noise_with_no_words_is_a_no_match(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.say("", 0.0)
    caller.say("   ", 0.1)
    assert caller.transfer().reason == "no_match"


def test_low_confidence_asks_for_confirmation_not_a_guess(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.say("投诉", 0.3)  # below the 0.6 threshold
    assert caller.state.phase is Phase.CONFIRMING
    assert "投诉建议" in caller.said() and caller.step == "main.menu"
    assert set(caller.listen().dtmf.accept) == {"1", "2", "0"}
    caller.say("是的", 0.9)
    assert caller.step == "complaints.start"


def test_low_confidence_answer_denied_is_asked_again(caller: Caller):
    verified_known_caller(caller, "en")
    caller.say("complaint", 0.2)
    caller.say("no", 0.9)
    assert caller.step == "main.menu" and caller.state.phase is Phase.LISTENING
    assert "didn't catch" in caller.said()
    caller.press("3")
    assert caller.step == "info.start"


def test_an_alternative_hypothesis_is_confirmed_never_taken(caller: Caller):
    verified_known_caller(caller, "en")
    caller.say("bork", 0.9, ("book", 0.4))
    assert caller.state.phase is Phase.CONFIRMING
    caller.press("1")
    assert caller.step == "main.ask_dob"


@pytest.mark.parametrize("language", LANGUAGES)
def test_identity_is_verified_before_appointments_are_read_out(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("2")  # my appointments
    assert caller.step == "main.ask_dob"
    assert not caller.actions("lookup")  # nothing personal asked for yet
    caller.press("19850312")
    caller.result("verify_identity", "verified")
    lookup = caller.action()
    assert lookup.params == {"what": "appointments"} and lookup.identity is Identity.VERIFIED
    caller.result("lookup", "found", **APPOINTMENTS)
    assert "Ophthalmology" in caller.said()
    assert caller.step == "appointments.list"
    assert set(caller.listen().dtmf.accept) == {"1", "2", "8", "9", "0"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_three_failed_verifications_go_to_a_person(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("2")
    for attempt in range(3):
        assert caller.step == "main.ask_dob", attempt
        caller.press("20000101")
        caller.result("verify_identity", "failed")
    transfer = caller.transfer()
    assert transfer.reason == "verification_failed"
    assert transfer.findings.identity is Identity.IDENTIFIED
    assert not caller.actions("lookup")


@pytest.mark.parametrize("language", LANGUAGES)
def test_unknown_caller_verifies_by_record_number_and_date_of_birth(caller: Caller, language):
    caller.call(language=language, number=None)
    assert caller.step == "main.greet_unknown"
    caller.silence()
    caller.press("2")
    assert caller.step == "main.ask_mrn"
    caller.press("00123456#")
    caller.press("19850312")
    action = caller.action()
    assert action.params == {"method": "mrn_dob", "mrn": "00123456", "value": "19850312"}
    assert action.patient_id is None
    caller.result("verify_identity", "verified", patient_id="42", patient_name="Li Na")
    assert caller.state.identity is Identity.VERIFIED
    assert caller.action().name == "lookup" and caller.action().patient_id == "42"


@pytest.mark.parametrize("language", LANGUAGES)
def test_hangup_mid_booking_books_nothing(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("1")
    pass_dob(caller)
    for key in "124":
        caller.press(key)
    caller.result("list_free_slots", "found", **OFFERS)
    caller.press("1")
    assert caller.step == "booking.confirm_new"
    out = caller.hangup()
    assert all(isinstance(e, RecordTurn) for e in out)
    assert caller.state.phase is Phase.ENDED and caller.state.outcome == "caller_hangup"
    for event in (caller.press, caller.say):
        assert event("1") == []  # a dead call stays dead
    assert not caller.actions("book")


@pytest.mark.parametrize("language", LANGUAGES)
def test_caller_cancels_an_appointment(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("2")
    caller.press("19850312")
    caller.result("verify_identity", "verified")
    caller.result("lookup", "found", **APPOINTMENTS)
    caller.press("2")  # the second appointment
    assert "Ophthalmology" in caller.said()
    caller.press("2")  # cancel it
    assert caller.step == "appointments.confirm_cancel" and not caller.actions("cancel")
    caller.press("1")
    assert caller.action().params == {"reference": "R-1002"}
    caller.result("cancel", "cancelled", cancelled_text="")
    assert caller.step == "main.anything_else"
    assert caller.state.intents == ("appointments", "cancel")


@pytest.mark.parametrize("language", LANGUAGES)
def test_caller_moves_an_appointment_to_another_day(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("2")
    caller.press("19850312")
    caller.result("verify_identity", "verified")
    caller.result("lookup", "found", **APPOINTMENTS)
    caller.press("1")
    caller.press("1")  # change the time
    assert caller.step == "booking.choose_day"
    caller.press("5")  # Friday
    assert caller.action().params == {"department": "CARD", "doctor": "", "day": "friday"}
    caller.result("list_free_slots", "found", **OFFERS)
    caller.press("1")
    assert caller.step == "booking.confirm_change"
    assert "Thursday 26th November" in caller.said()
    caller.press("1")
    action = caller.action()
    assert (action.name, action.params) == (
        "reschedule",
        {"reference": "R-1001", "slot_id": "101"},
    )
    caller.result("reschedule", "rescheduled", reference="R-3", reference_text="R 3")
    assert caller.step == "main.anything_else"


def test_a_slot_taken_meanwhile_offers_times_again(caller: Caller):
    verified_known_caller(caller, "en")
    caller.press("1")
    pass_dob(caller)
    for key in "128":
        caller.press(key)
    assert caller.action().params["day"] == "soonest"
    caller.result("list_free_slots", "found", **OFFERS)
    caller.press("1")
    caller.press("1")
    caller.result("book", "taken")
    assert "just been taken" in caller.said()
    assert caller.action().name == "list_free_slots"


def test_no_free_slots_asks_for_another_day(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("1")
    pass_dob(caller)
    for key in "126":
        caller.press(key)
    caller.result("list_free_slots", "none", department_name="心内科", day_text="星期六")
    assert "约满" in caller.said() and caller.step == "booking.choose_day"


def test_caller_chooses_a_particular_doctor(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("1")
    pass_dob(caller)
    caller.press("1")
    caller.press("1")
    caller.press("1024#")
    caller.press("3")
    assert caller.action().params == {"department": "CARD", "doctor": "1024", "day": "wednesday"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_hospital_information_needs_no_identity(caller: Caller, language: str):
    caller.call(language=language, number=None)
    caller.silence()
    caller.press("3")
    caller.press("1")
    action = caller.action()
    assert action.params == {"topic": "opening_hours"} and action.identity is Identity.UNKNOWN
    caller.result("hospital_info", "found", info_text="Clinics open 8 AM to 5 PM.")
    assert "8 AM to 5 PM" in caller.said()


def test_doctor_clinic_days_by_code(caller: Caller):
    caller.call(language="en")
    caller.silence()
    caller.press("3")
    caller.press("3")
    caller.press("77#")
    assert caller.action().params == {"topic": "doctor_days", "doctor": "77"}
    caller.result("hospital_info", "not_found")
    assert caller.step == "info.start"


@pytest.mark.parametrize("language", LANGUAGES)
def test_caller_files_a_complaint_and_hears_the_ticket_number(caller: Caller, language: str):
    verified_known_caller(caller, language)
    caller.press("4")
    caller.press("2")  # waiting time
    listen = caller.listen()
    assert listen.free_form and listen.grammar == ()
    caller.say("I waited three hours at the clinic", 0.45)  # free-form: kept as heard
    assert caller.step == "complaints.confirm" and not caller.actions("open_complaint")
    caller.press("1")
    action = caller.action()
    assert action.params == {
        "category": "waiting_time",
        "description": "I waited three hours at the clinic",
        "voice_message": "",  # spoken and transcribed: no voice message
        "voice_message_s": "",
    }
    caller.result("open_complaint", "opened", ticket_number="1", ticket_number_text="4 7 1")
    assert "4 7 1" in caller.said()


@pytest.mark.parametrize(("language", "says"), [("zh", "语音留言(7秒)"), ("en", "(7 seconds)")])
def test_keypad_caller_files_a_complaint_by_voice_message(caller: Caller, language: str, says: str):
    verified_known_caller(caller, language)
    caller.press("4")
    caller.press("2")  # waiting time
    listen = caller.listen()
    assert listen.voice_message is not None and listen.voice_message.max_s > 0
    caller.send(VoiceMessage("/store/vm/1.wav", 6.6, at=caller.tick()))
    assert caller.step == "complaints.confirm" and not caller.actions("open_complaint")
    assert "7" in caller.said()  # the confirmation says how long the message is
    caller.press("1")
    params = caller.action().params
    assert (params["voice_message"], params["voice_message_s"]) == ("/store/vm/1.wav", "7")
    assert says in params["description"]  # the description says it is a voice message
    assert any(t.action == "voice_message" for t in caller.turns())


def test_an_empty_voice_message_is_asked_again_then_a_person(caller: Caller):
    verified_known_caller(caller, "en")
    caller.press("4")
    caller.press("6")
    caller.silence()  # the recording held nothing: the adapter says no input
    assert caller.step == "complaints.describe" and caller.listen().voice_message is not None
    caller.silence()
    assert caller.transfer().reason == "no_input"


@pytest.mark.parametrize("language", LANGUAGES)
def test_complaint_status_by_ticket_number(caller: Caller, language: str):
    caller.call(language=language)
    caller.silence()
    caller.press("5")
    caller.press("123456789#")
    assert caller.action().params == {"ticket": "123456789"}
    caller.result("complaint_status", "found", complaint_status_text="Responded on 3rd May.")
    assert "Responded on 3rd May." in caller.said()


def test_unknown_ticket_number_is_asked_again(caller: Caller):
    caller.call(language="zh")
    caller.silence()
    caller.press("5")
    caller.press("12345")  # too short
    assert caller.step == "complaints.status"
    caller.press("123456789")
    caller.result("complaint_status", "not_found")
    assert caller.step == "complaints.status" and "没有找到" in caller.said()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "keys",
    [
        "",  # at the greeting
        "1",  # at the identity check, mid-way through booking
        "4",  # at the complaint category
        "45",  # at the free-form complaint
        "5",  # at the ticket number
    ],
)
def test_the_person_key_works_at_every_step(caller: Caller, language: str, keys: str):
    caller.call(language=language, patient_id="7", patient_name="Zhang Wei")
    if keys:
        caller.silence()
    for key in keys:
        caller.press(key)
    assert caller.state.phase is Phase.LISTENING
    assert "0" in caller.listen().dtmf.accept
    caller.press("0")
    transfer = caller.transfer()
    assert transfer.reason == "caller_asked"


@pytest.mark.parametrize(("language", "phrase"), [("zh", "我要转人工"), ("en", "an agent please")])
def test_asking_for_a_person_works_at_every_step(caller: Caller, language: str, phrase: str):
    verified_known_caller(caller, language)
    caller.press("1")
    assert caller.step == "main.ask_dob"
    caller.say(phrase, 0.9)
    assert caller.transfer().reason == "caller_asked"


def test_a_mumbled_wish_for_a_person_is_confirmed(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.say("人工", 0.2)
    assert caller.state.phase is Phase.CONFIRMING
    caller.press("1")
    assert caller.transfer().reason == "caller_asked"


def test_choosing_english_switches_the_language(caller: Caller):
    caller.call(language="zh", patient_id="7", patient_name="Zhang Wei")
    plays = [e for e in caller.last if isinstance(e, Play)]
    assert [p.language for p in plays] == ["zh", "en"]  # "For English, press 9" in English
    caller.press("9")
    assert caller.state.language == "en" and caller.step == "main.menu"
    assert "How can we help" in caller.said()
    assert caller.state.slots["hospital"] == "Renhe Hospital"


def test_silence_at_the_greeting_keeps_the_language(caller: Caller):
    caller.call(language="en")
    caller.silence()
    assert caller.state.language == "en" and caller.step == "main.menu"


def test_date_of_birth_can_be_spoken(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("2")
    caller.say("一九八五零三幺二", 0.9)
    assert caller.action().params["value"] == "19850312"


def test_spoken_digits_below_the_threshold_are_read_back_first(caller: Caller):
    verified_known_caller(caller, "en")
    caller.press("2")
    caller.say("one nine eight five oh three one two", 0.3)
    assert caller.state.phase is Phase.CONFIRMING
    readback = [e for e in caller.last if isinstance(e, Play)][-1]
    assert "1 9 8 5 0 3 1 2" in readback.text and readback.sensitive
    caller.say("yes")
    assert caller.action().params["value"] == "19850312"


def test_what_is_keyed_at_a_sensitive_step_is_never_stored(caller: Caller):
    verified_known_caller(caller, "en")
    caller.press("2")
    caller.say("one nine seven two oh five one four", 0.3)
    caller.press("1")
    assert caller.action().params["value"] == "19720514"
    for turn in caller.turns():
        for value in (turn.heard, turn.dtmf, turn.prompt):
            assert "1972" not in (value or "") and "1 9 7 2" not in (value or "")
            assert "seven" not in (value or "")
    assert all("seven" not in (t.heard or "") for t in caller.state.history)


def test_every_turn_is_recorded(caller: Caller):
    verified_known_caller(caller, "en")
    caller.say("information", 0.8)
    caller.press("1")
    turns = caller.turns()
    assert [t.action for t in turns] == ["no_input", "choice:info", "choice:hours"]
    assert turns[1].heard == "information" and turns[1].confidence == 0.8
    assert turns[1].prompt and turns[1].prompt.startswith("How can we help")
    assert turns[1].duration_ms == 1500
    assert len(caller.state.history) == 3


def test_silence_at_the_end_says_goodbye(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("3")
    caller.press("1")
    caller.result("hospital_info", "found", info_text="门诊时间为早上八点到下午五点。")
    caller.silence()
    caller.silence()
    assert isinstance(caller.last[-1], Hangup) and "再见" in caller.said()


def test_a_failed_action_goes_to_a_person(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("3")
    caller.press("1")
    caller.result("hospital_info", "failed")
    assert caller.transfer().reason == "hospital_info_failed"


def test_results_of_other_actions_and_input_during_an_action_are_ignored(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("3")
    caller.press("1")
    state = caller.state
    assert caller.result("book", "booked") == []
    assert caller.press("5") == [] and caller.silence() == []
    assert caller.state == state


def test_values_an_action_does_not_provide_are_dropped(caller: Caller):
    verified_known_caller(caller, "zh")
    caller.press("3")
    caller.press("1")
    caller.result("hospital_info", "found", info_text="好", patient_id="99")
    assert caller.state.slots["patient_id"] == "7"


def test_korean_test_flow_by_voice(engine):
    caller = Caller(engine)
    caller.call(language="ko")
    assert set(caller.listen().grammar) == {"예약", "문의", "민원", "상담원"}
    caller.say("예약", 0.9)
    assert caller.step == "main.confirm_book"
    assert set(caller.listen().grammar) == {"네", "아니요", "상담원"}
    caller.say("아니요", 0.9)
    assert caller.step == "main.welcome"
    caller.say("민원", 0.9)
    caller.say("네", 0.9)
    assert caller.step == "main.describe"
    caller.say("대기 시간이 너무 길었어요", 0.8)
    assert caller.step == "main.confirm_file"
    caller.say("아니요", 0.9)  # not filed by voice: a person takes the complaint
    transfer = caller.transfer()
    assert (transfer.reason, transfer.skill, transfer.findings.intent) == (
        "complaint",
        "ko",
        "complaint",
    )


def test_korean_test_flow_asks_for_a_person(engine):
    caller = Caller(engine)
    caller.call(language="ko")
    caller.say("상담원", 0.8)
    assert caller.transfer().reason == "caller_asked"


def test_an_unknown_language_falls_back_to_the_default(caller: Caller):
    caller.call(language="fr")
    assert caller.state.language == "zh"


def test_run_action_effects_carry_the_session_language(caller: Caller):
    verified_known_caller(caller, "en")
    caller.press("3")
    caller.press("2")
    action = caller.action()
    assert isinstance(action, RunAction) and action.language == "en"


def test_a_transcribed_complaint_keeps_its_audio_as_the_voice_message(caller: Caller):
    verified_known_caller(caller, "en")
    caller.press("4")
    caller.press("1")
    kept = VoiceMessage("/store/vm/2.wav", 3.2, at=caller.tick())
    caller.send(SpeechResult("the nurse was rude", 0.7, at=caller.tick(), recording=kept))
    caller.press("1")
    params = caller.action().params
    assert params["description"] == "the nurse was rude"  # the transcription stays
    assert (params["voice_message"], params["voice_message_s"]) == ("/store/vm/2.wav", "3")
