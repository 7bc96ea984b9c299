import pytest

from switchboard.claims import check_field_name, normalise_claim_value
from switchboard.domain import ClaimField, ClaimFieldType
from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164, timezone_for_number


def field(kind: ClaimFieldType) -> ClaimField:
    return ClaimField(name="f", type=kind)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (ClaimFieldType.DATETIME, "2026-03-03T14:30:00Z", "2026-03-03T14:30:00+00:00"),
        (ClaimFieldType.DATETIME, "2026-03-03T14:30:00-05:00", "2026-03-03T14:30:00-05:00"),
        (ClaimFieldType.EMAIL, " John.Smith@Example.COM ", "John.Smith@example.com"),
        (ClaimFieldType.PHONE_NUMBER, "+1 (415) 555-0100", "+14155550100"),
        (ClaimFieldType.TEXT, "  a   broken\nwindow ", "a broken window"),
    ],
)
def test_valid_values_are_stored_in_their_canonical_form(
    kind: ClaimFieldType, value: str, expected: str
) -> None:
    assert normalise_claim_value(field(kind), value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        (ClaimFieldType.DATETIME, "2026-03-03T14:30:00", "UTC offset"),
        (ClaimFieldType.DATETIME, "last monday", "ISO 8601"),
        (ClaimFieldType.EMAIL, "john at example", "e-mail"),
        (ClaimFieldType.PHONE_NUMBER, "4155550100", "E.164"),
        (ClaimFieldType.PHONE_NUMBER, "+1415", "length"),
        (ClaimFieldType.TEXT, "   ", "empty"),
    ],
)
def test_bad_values_are_rejected_with_the_field_and_the_reason(
    kind: ClaimFieldType, value: str, reason: str
) -> None:
    with pytest.raises(InvalidArgument, match=reason) as caught:
        normalise_claim_value(field(kind), value)
    assert "'f'" in caught.value.message


@pytest.mark.parametrize("name", ["Incident", "1st", "with-dash", "class", "", "x" * 65])
def test_field_names_must_be_identifiers(name: str) -> None:
    with pytest.raises(InvalidArgument, match="identifier"):
        check_field_name(name)


def test_numbers_get_the_timezone_of_their_area() -> None:
    assert timezone_for_number("+14155550100") == "America/Los_Angeles"
    assert timezone_for_number("+33612345678") == "Europe/Paris"
    assert parse_e164("+33 6 12 34 56 78") == "+33612345678"
