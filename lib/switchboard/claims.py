"""Claim values: validation and normalisation by field type.

The store applies these before it writes a value, so every stored claim value is
in its canonical form: ISO 8601 with offset, a normalised e-mail, E.164.
"""

from __future__ import annotations

import keyword
import re
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from switchboard.domain import ClaimField, ClaimFieldType
from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164

FIELD_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
MAX_TEXT_VALUE = 4000


def check_field_name(name: str) -> None:
    if not FIELD_NAME_RE.match(name) or keyword.iskeyword(name):
        raise InvalidArgument(
            f"claim field name {name!r} must be a lower-case identifier of at most 64 characters "
            "(letters, digits, underscores; not starting with a digit), e.g. incident_date"
        )


def normalise_datetime(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidArgument(
            "must be an ISO 8601 date and time with a UTC offset, e.g. 2026-03-03T14:30:00+01:00"
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidArgument(
            "needs a UTC offset, e.g. 2026-03-03T14:30:00+01:00 or 2026-03-03T13:30:00Z"
        )
    return parsed.isoformat()


def normalise_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidArgument(
            f"must be an e-mail address, e.g. jane.doe@example.com ({exc})"
        ) from exc


def normalise_text(value: str) -> str:
    text = " ".join(value.split())
    if len(text) > MAX_TEXT_VALUE:
        raise InvalidArgument(f"is longer than {MAX_TEXT_VALUE} characters")
    return text


def normalise_claim_value(field: ClaimField, value: str) -> str:
    """The canonical form of ``value`` for ``field``; raises InvalidArgument naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"claim field {field.name!r}: the value is empty")
    try:
        match field.type:
            case ClaimFieldType.TEXT:
                return normalise_text(value)
            case ClaimFieldType.DATETIME:
                return normalise_datetime(value)
            case ClaimFieldType.EMAIL:
                return normalise_email(value)
            case ClaimFieldType.PHONE_NUMBER:
                return parse_e164(value, what="the value")
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"claim field {field.name!r} ({field.type.value}): {exc.message}"
        ) from exc
    raise InvalidArgument(f"claim field {field.name!r}: unknown type {field.type!r}")
