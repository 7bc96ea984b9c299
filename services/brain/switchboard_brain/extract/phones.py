"""Phone numbers, typed or spoken, to E.164 ("four one five, five five five, oh one double oh")."""

from __future__ import annotations

import re

import phonenumbers

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}  # fmt: skip
_TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
    "eighty": "8", "ninety": "9",
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3}
# Words a recogniser writes for a digit it heard ("call me at for 1-5-5…"); read as digits
# only right before or after another digit, so "a number for you" stays words.
_HOMOPHONES = {"for": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
_TOKEN_RE = re.compile(r"\+|\d+|[a-z]+")
MIN_DIGITS = 5


def spoken_digits(text: str) -> str:
    """The digits (and a leading ``+``) a caller said or typed, in order."""
    tokens = _TOKEN_RE.findall(text.lower())
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token in _REPEATS:
            repeat = _REPEATS[token]
            continue
        if token == "+" or token == "plus":
            if not out:
                out.append("+")
            continue
        if token == "hundred":
            out.append("00")
            continue
        if token == "thousand":
            out.append("000")
            continue
        if token in _TENS:
            unit = tokens[i] if i < len(tokens) else ""
            unit_digit = _DIGIT_WORDS.get(unit, "")
            if len(unit_digit) == 1 and unit_digit != "0":
                out.append(_TENS[token] + unit_digit)
                i += 1
            else:
                out.append(_TENS[token] + "0")
            repeat = 1
            continue
        digits = token if token.isdigit() else _DIGIT_WORDS.get(token)
        if digits is None and token in _HOMOPHONES and _next_to_a_digit(tokens, i - 1):
            digits = _HOMOPHONES[token]
        if digits is None:
            repeat = 1
            continue
        out.append(digits[0] * repeat + digits[1:] if repeat > 1 else digits)
        repeat = 1
    return "".join(out)


def _is_digit_token(token: str) -> bool:
    return token.isdigit() or _DIGIT_WORDS.get(token, "x").isdigit()


def _next_to_a_digit(tokens: list[str], index: int) -> bool:
    before = tokens[index - 1] if index > 0 else ""
    after = tokens[index + 1] if index + 1 < len(tokens) else ""
    return _is_digit_token(before) or _is_digit_token(after)


def parse_phone(text: str, region: str | None) -> str | None:
    """The number in E.164, read in ``region`` (ISO 3166, e.g. "US") when it has no
    country code; None when it is not a valid number there."""
    digits = spoken_digits(text)
    if len(digits.lstrip("+")) < MIN_DIGITS:
        return None
    if not digits.startswith("+") and digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else (region or "US"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def speak_phone(e164: str) -> str:
    """Digit by digit, grouped as written, for reading back aloud: "plus 1, 4 1 5, 5 5 5, 0 1 0 0".

    A voice reads "415" as "four hundred fifteen"; single digits it reads one by one.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = written.lstrip("+").replace("-", " ").split()
    return "plus " + ", ".join(" ".join(group) for group in groups)
