"""Touch-tone digits: the one definition of what a line may carry (RFC 4733 events 0-15)."""

from __future__ import annotations

import re

from switchboard.errors import InvalidArgument

DIGITS = "0123456789*#ABCD"
# The most digits one message may carry (a phone number, an account number, a menu path).
MAX_DIGITS = 32
_VALID = re.compile(rf"^[0-9*#A-D]{{1,{MAX_DIGITS}}}$")


def is_dtmf(digits: str) -> bool:
    """Whether ``digits`` is 1 to 32 touch-tone digits (0-9, *, #, A-D)."""
    return bool(_VALID.match(digits))


def check_dtmf(digits: str, field: str) -> str:
    """``digits`` if valid; else ``InvalidArgument`` naming ``field``."""
    if not is_dtmf(digits):
        raise InvalidArgument(f"{field} must be 1 to {MAX_DIGITS} of 0-9, *, #, A-D")
    return digits
