"""Caller ID text is stored escaped and bounded, never raw."""

from hypothesis import given
from hypothesis import strategies as st

from cti.callerid import MAX_NAME_LENGTH, clean_caller_name, clean_caller_number, escape_controls


def test_crlf_in_a_name_is_escaped_not_dropped():
    assert clean_caller_name("Evil\r\nAction: Originate") == "Evil\\x0d\\x0aAction: Originate"


def test_chinese_names_pass_unchanged():
    assert clean_caller_name("张伟") == "张伟"


def test_withheld_names_become_none():
    assert clean_caller_name("") is None
    assert clean_caller_name("<unknown>") is None
    assert clean_caller_name("Anonymous") is None


def test_number_with_bell_and_tab_is_escaped():
    assert clean_caller_number("138\x07 0013\t8000") == "138\\x07 0013\\x098000"


@given(st.text())
def test_cleaned_text_never_carries_a_control_character(raw):
    for cleaned in (clean_caller_name(raw), clean_caller_number(raw), escape_controls(raw)):
        if cleaned is not None:
            assert not any(ord(c) < 0x20 or c == "\x7f" for c in cleaned)


@given(st.text(min_size=200))
def test_names_are_bounded(raw):
    cleaned = clean_caller_name(raw)
    assert cleaned is None or len(cleaned) <= MAX_NAME_LENGTH
