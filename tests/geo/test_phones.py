"""Tests for geo.places.phones: validation, canonical forms and tel: URIs."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import DomainError
from geo.places.phones import InvalidPhone, normalize_phone, tel_uri

PROPERTY = settings(database=None, max_examples=300)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # mobiles
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("0086 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("  139 3712 3456 ", "13937123456"),
        ("１３８－００１３－８０００", "13800138000"),  # full-width, as typed on a Chinese IME
        ("19912345678", "19912345678"),
        # landlines: the area code is split by the numbering plan, not the spaces
        ("0371-67891234", "0371-67891234"),
        ("037167891234", "0371-67891234"),
        ("0371 6789 1234", "0371-67891234"),
        ("(0371) 6789-1234", "0371-67891234"),
        ("（0371）67891234", "0371-67891234"),
        ("0371.6789.1234", "0371-67891234"),
        ("0371-6789-1234", "0371-67891234"),  # grouped, not an extension 1234
        ("+86 371 6789 1234", "0371-67891234"),
        ("+86 (0)371 67891234", "0371-67891234"),
        ("0086-371-67891234", "0371-67891234"),
        ("0379-6234567", "0379-6234567"),  # 7-digit local numbers exist in smaller cities
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("021 5234 5678", "021-52345678"),
        # extensions
        ("0371-67891234-123", "0371-67891234-123"),
        ("0371-67891234转8", "0371-67891234-8"),
        ("0371 6789 1234 ext. 42", "0371-67891234-42"),
        ("0371-67891234 x 123456", "0371-67891234-123456"),
        ("0371-67891234#6", "0371-67891234-6"),
        # 400/800 service numbers
        ("400-810-8888", "400-810-8888"),
        ("4008108888", "400-810-8888"),
        ("400 810 8888", "400-810-8888"),
        ("800-820-8820", "800-820-8820"),
    ],
)
def test_valid_numbers_get_their_canonical_form(text: str, canonical: str) -> None:
    assert normalize_phone(text) == canonical


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12345678", "area code"),  # no area code
        ("67891234", "area code"),
        ("6789123", "area code"),
        ("1380013800", "expected"),  # 10 digits
        ("138001380001", "expected"),  # 12 digits
        ("23800138000", "expected"),  # no such prefix
        ("12800138000", "expected"),  # 12x is not a mobile range
        ("0371-12345678", "2-9"),  # local numbers never start with 1
        ("010-02345678", "2-9"),
        ("010-6234567", "expected"),  # Beijing local numbers have 8 digits
        ("0371-678912345", "expected"),  # 9-digit local number
        ("0171-67891234", "expected"),  # 01x other than 010 is no area code
        ("110", "short service numbers"),
        ("12345", "short service numbers"),
        ("95588", "short service numbers"),
        ("+1 650 253 0000", "+86"),
        ("+44 20 7946 0000", "+86"),
        ("13800138000-12", "only landlines"),
        ("400-810-8888转1", "only landlines"),
        ("0371-67891234-1234567", "expected"),  # 7-digit extension
        ("", "empty"),
        ("   ", "empty"),
        ("tel:13800138000", "only digits"),
        ("138 0013 800O", "only digits"),  # letter O
        ("138+00138000", "only digits"),
        ("١٣٨٠٠١٣٨٠٠٠", "only digits"),  # Arabic-Indic digits are digits to Python, not to us
        ("4001081888888", "expected"),
    ],
)
def test_invalid_numbers_raise_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(text)
    assert isinstance(caught.value, DomainError)
    assert caught.value.text == text
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{text!r} is not a valid phone number: ")


@pytest.mark.parametrize(
    ("text", "uri"),
    [
        ("13800138000", "tel:+8613800138000"),
        ("+86 138 0013 8000", "tel:+8613800138000"),
        ("0371-67891234", "tel:+86-371-67891234"),
        ("010 6234 5678", "tel:+86-10-62345678"),
        ("0371-67891234-123", "tel:+86-371-67891234;ext=123"),
        ("400-810-8888", "tel:400-810-8888;phone-context=+86"),
    ],
)
def test_tel_uri_is_rfc3966(text: str, uri: str) -> None:
    assert tel_uri(text) == uri


def test_tel_uri_refuses_invalid_numbers() -> None:
    with pytest.raises(InvalidPhone):
        tel_uri("12345")


_mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_zhengzhou = st.from_regex(r"0371[2-9][0-9]{7}", fullmatch=True)
_separators = st.sampled_from(["", " ", "-", " - ", "."])


@PROPERTY
@given(_mobiles, _separators, st.sampled_from(["", "+86", "+86 ", "0086", "86", "+86-"]))
def test_any_grouping_of_a_mobile_normalizes_to_its_digits(
    mobile: str, sep: str, prefix: str
) -> None:
    text = f"{prefix}{mobile[:3]}{sep}{mobile[3:7]}{sep}{mobile[7:]}"
    assert normalize_phone(text) == mobile
    assert tel_uri(text) == f"tel:+86{mobile}"


@PROPERTY
@given(_zhengzhou, _separators)
def test_any_grouping_of_a_zhengzhou_landline_normalizes(digits: str, sep: str) -> None:
    canonical = f"{digits[:4]}-{digits[4:]}"
    assert normalize_phone(f"{digits[:4]}{sep}{digits[4:8]}{sep}{digits[8:]}") == canonical
    assert normalize_phone(f"+86 {digits[1:4]} {digits[4:]}") == canonical


@PROPERTY
@given(st.text(max_size=20))
def test_normalize_is_idempotent_or_refuses(text: str) -> None:
    try:
        canonical = normalize_phone(text)
    except InvalidPhone:
        return
    assert normalize_phone(canonical) == canonical
    assert re.fullmatch(r"1\d{10}|0\d{2,3}-[2-9]\d{6,7}(-\d{1,6})?|[48]00-\d{3}-\d{4}", canonical)
