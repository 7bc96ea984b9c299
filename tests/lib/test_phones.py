"""Caller IDs as carriers report them, read into E.164 (or nothing)."""

from __future__ import annotations

import pytest

from switchboard.phones import caller_number, national_digits


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+14155550100", "US", "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),  # national format, read in the region
        ("0612345678", "FR", "+33612345678"),
        ("00336 12 34 56 78", "FR", "+33612345678"),  # international prefix of the region
        ("sip:+33612345678@trunk.example;user=phone", "US", "+33612345678"),
        ("<sips:+14155550100@pbx.example>", "US", "+14155550100"),
        ("tel:+442071838750", "US", "+442071838750"),
        ("4:+14155550100", "US", "+14155550100"),  # an ACS raw id
    ],
)
def test_a_number_in_any_carrier_form_is_read_as_e164(raw: str, region: str, expected: str) -> None:
    assert caller_number(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "anonymous", "Restricted", "unknown", "<sip:alice@example.com>", "12", "+1415x", "sip:"],
)
def test_a_withheld_or_non_numeric_caller_has_no_number(raw: str) -> None:
    assert caller_number(raw, "US") == ""


@pytest.mark.parametrize(
    ("region", "digits"),
    [("FR", 10), ("US", None), ("GB", None), ("DE", None), ("ZZ", None)],
)
def test_a_typed_national_number_has_a_known_length_only_where_it_is_certain(
    region: str, digits: int | None
) -> None:
    assert national_digits(region) == digits
