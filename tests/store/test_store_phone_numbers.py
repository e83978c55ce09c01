"""Phone number normalisation (pure; property-tested)."""

# Full-width digits are deliberate test input.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_store.phone_numbers import NumberKind, normalise


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086-138-0013-8000", "+8613800138000"),
        ("13800138000", "+8613800138000"),
        ("(+86) 138-0013-8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("138 0013 8000 ext. 12", "+8613800138000"),
        ("010-6552 8899", "+861065528899"),
        ("(010) 65528899", "+861065528899"),
        ("+86 10 6552 8899", "+861065528899"),
        ("+86 (0)10 6552 8899", "+861065528899"),
        ("0086 10 65528899", "+861065528899"),
        ("021 6497 8888 转 123", "+862164978888"),
        ("0755-8888-8888#6", "+8675588888888"),
        ("+1 212 555 0100", "+12125550100"),
    ],
)
def test_valid_forms(raw: str, e164: str) -> None:
    number = normalise(raw)
    assert number.kind is NumberKind.VALID and number.e164 == e164 and number.raw == raw
    assert number.national


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "  ",
        "0",
        "anonymous",
        "Anonymous",
        "unknown",
        "<unknown>",
        "RESTRICTED",
        "private",
        "Withheld",
        "unavailable",
        "000",
    ],
)
def test_withheld(raw: str | None) -> None:
    assert normalise(raw).kind is NumberKind.WITHHELD


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "hello",
        "138\x000138000",
        "13800138000\r\nAction: Hangup",
        "+",
        "9" * 30,
        "x" * 1000,
        "1-800-FLOWERS",
        "\u202e13800138000",
        "++86138",
    ],
)
def test_invalid(raw: str) -> None:
    number = normalise(raw)
    assert number.kind is NumberKind.INVALID and number.e164 is None


def test_region_is_configurable() -> None:
    assert normalise("020 7946 0958", region="GB").e164 == "+442079460958"
    assert normalise("020 7946 0958", region="CN").e164 != "+442079460958"
    assert normalise("13800138000", region="ZZ").kind is NumberKind.INVALID  # never raises


@given(st.text(max_size=200), st.sampled_from(["CN", "GB", "US", "ZZ", "", "cn"]))
def test_never_raises(raw: str, region: str) -> None:
    number = normalise(raw, region)
    assert number.raw == raw
    assert (number.e164 is not None) == (number.kind is NumberKind.VALID)


MOBILE_PREFIXES = ["130", "135", "138", "139", "150", "158", "186", "188", "199"]
AREA_CODES = ["10", "21", "20", "755", "28"]


@st.composite
def cn_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(national significant number, area code or "" for mobiles)."""
    if draw(st.booleans()):
        prefix = draw(st.sampled_from(MOBILE_PREFIXES))
        return prefix + draw(st.from_regex(r"\A[0-9]{8}\Z")), ""
    area = draw(st.sampled_from(AREA_CODES))
    return area + draw(st.from_regex(r"\A[2-8][0-9]{7}\Z")), area


@given(cn_numbers(), st.sampled_from([" ", "-", "", "  "]), st.integers(0, 99))
def test_formatting_variants_normalise_alike(number: tuple[str, str], sep: str, ext: int) -> None:
    nsn, area = number
    reference = normalise("+86" + nsn)
    if reference.kind is not NumberKind.VALID:
        return  # a range not allocated in libphonenumber's metadata
    rest = nsn[len(area) :]
    national = ("0" + area + sep + rest) if area else nsn
    spaced = sep.join([rest[:4], rest[4:]]) if sep else rest
    variants = [
        national,
        f"+86{sep}{area}{sep}{spaced}" if area else f"+86{sep}{spaced[:3]}{sep}{spaced[3:]}",
        f"0086{sep}{nsn}",
        f"(0{area}) {rest}" if area else f"({nsn[:3]}) {nsn[3:]}",
        f"{national} ext {ext}",
        f"{national}#{ext}",
        f" {national} ",
    ]
    for variant in variants:
        assert normalise(variant).e164 == reference.e164, variant
