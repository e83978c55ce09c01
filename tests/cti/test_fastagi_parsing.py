"""AGI wire format: results, environment, and command quoting (no sockets)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.errors import AgiProtocolError, UnsafeAgiValue
from cti.fastagi import format_command, parse_environment, parse_response, quote_argument


def test_success_result_with_data_and_extras_is_parsed():
    response = parse_response("200 result=1 (speech) endpos=8000")
    assert (response.code, response.result, response.data) == (200, "1", "speech")
    assert response.extras == {"endpos": "8000"}


def test_timeout_result_with_empty_value_is_parsed():
    response = parse_response("200 result= (timeout)")
    assert response.result == "" and response.data == "timeout"


def test_error_codes_keep_their_text():
    response = parse_response("510 Invalid or unknown command")
    assert response.code == 510 and not response.ok
    assert response.text == "Invalid or unknown command"


@pytest.mark.parametrize("line", ["", "garbage", "20 result=0", "200 nothing here", "abc 200"])
def test_malformed_result_lines_raise_a_protocol_error(line):
    with pytest.raises(AgiProtocolError):
        parse_response(line)


@given(st.text())
def test_no_result_line_crashes_the_parser(line):
    try:
        parse_response(line)
    except AgiProtocolError:
        pass


def test_environment_keeps_agi_variables_and_counts_junk():
    env = parse_environment(
        [
            "agi_network_script: inbound?x=1",
            "agi_callerid: +8613800138000",
            "agi_arg_1: first",
            "agi_arg_2: second",
            "this is not a header",
            "other_key: value",
        ]
    )
    assert env.script == "inbound"
    assert env.caller_number == "+8613800138000"
    assert env.arguments == ["first", "second"]
    assert env.malformed_lines == 2


def test_arguments_are_quoted_and_escaped():
    assert format_command("STREAM FILE", "/x/y z", "") == 'STREAM FILE "/x/y z" ""\n'
    assert quote_argument('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'


@pytest.mark.parametrize("value", ["a\nHANGUP", "a\rb", "nul\x00"])
def test_line_breaks_in_arguments_are_refused(value):
    with pytest.raises(UnsafeAgiValue):
        format_command("SET VARIABLE", "NAME", value)


@pytest.mark.parametrize("verb", ["EXEC System", "stream file", "ANSWER\nHANGUP", ""])
def test_only_plain_upper_case_verbs_are_sent(verb):
    with pytest.raises(UnsafeAgiValue):
        format_command(verb)


@given(st.text())
def test_any_argument_either_quotes_to_one_line_or_is_refused(value):
    try:
        line = format_command("VERBOSE", value)
    except UnsafeAgiValue:
        assert any(c in value for c in "\r\n\x00")
    else:
        assert line.count("\n") == 1 and line.endswith("\n")


def test_a_line_break_in_the_caller_name_marks_the_environment_as_tampered():
    # What Asterisk sends for the name "Evil\nagi_callerid: 13800138000".
    env = parse_environment(
        [
            "agi_network_script: inbound",
            "agi_callerid: 13900139000",
            "agi_calleridname: Evil",
            "agi_callerid: 13800138000",
        ]
    )
    assert env.tampered
    assert env.caller_number == "13900139000"  # the genuine, first, value


def test_an_ordinary_environment_is_not_tampered():
    env = parse_environment(["agi_network_script: inbound", "agi_callerid: 13900139000"])
    assert not env.tampered
