"""Phone numbers: E.164 parsing and the timezone a number most likely lives in."""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as pn_timezone

from switchboard.errors import InvalidArgument

E164_EXAMPLE = "+14155550100"


def parse_e164(value: str, what: str = "phone_number") -> str:
    """Returns the number in E.164, or raises :class:`InvalidArgument` saying why."""
    text = value.strip() if isinstance(value, str) else ""
    if not text.startswith("+"):
        raise InvalidArgument(
            f"{what} must be E.164 (a '+', country code and number), e.g. {E164_EXAMPLE}"
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidArgument(
            f"{what} is not a phone number ({exc}); expected E.164, e.g. {E164_EXAMPLE}"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidArgument(
            f"{what} has the wrong length for its country; expected E.164, e.g. {E164_EXAMPLE}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """ISO 3166 region code of a number (``"US"``), or None when unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or None
    except phonenumbers.NumberParseException:
        return None


def timezone_for_number(e164: str, default: str = "UTC") -> str:
    """The first IANA timezone of the number's area (``America/Los_Angeles`` for +1415…)."""
    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return default
    usable = [z for z in zones if z != "Etc/Unknown"]
    return usable[0] if usable else default


# What carriers put in the caller ID when the caller withholds it.
_WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable"})


def caller_number(raw: str, region: str) -> str:
    """The caller's number in E.164 from whatever a carrier reports, or ``""`` when the
    caller cannot be identified by number (withheld, or a SIP URI with a name for a user).

    Accepts E.164 (``+14155550100``), a national number read in ``region``
    (``0612345678`` with ``FR``), ``tel:`` and ``sip:`` URIs whose user part is a number,
    and ACS raw ids (``4:+14155550100``).
    """
    text = raw.strip() if isinstance(raw, str) else ""
    text = text.strip("<>")
    for prefix in ("sip:", "sips:", "tel:", "4:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.split("@", 1)[0].split(";", 1)[0].strip()
    if text.lower() in _WITHHELD or not any(c.isdigit() for c in text):
        return ""
    if not all(c.isdigit() or c in "+-(). " for c in text):
        return ""
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(region: str) -> int | None:
    """How many digits a caller types for a national number of ``region`` (ISO 3166):
    ``10`` for FR (``0612345678``); None when that is not certain: numbers there differ
    in length (DE, GB), the region is unknown, or callers may or may not type the trunk
    prefix (NANP's ``1``: ``4155550100`` and ``14155550100`` are both usual)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None or metadata.general_desc is None:
        return None
    lengths = metadata.general_desc.possible_length
    prefix = metadata.national_prefix or ""
    if len(lengths) != 1 or prefix not in ("", "0"):
        return None
    return lengths[0] + len(prefix)
