"""SMS providers, chosen by name through one registry."""

from __future__ import annotations

from switchboard.errors import InvalidArgument
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.sms.log import LogSms

# The config has no SMS section yet, so the dialer uses ``log``; twilio and acs come later.
DEFAULT_SMS = "log"


def create_sms(name: str, store: CallStore) -> SmsProvider:
    if name == "log":
        return LogSms(store)
    raise InvalidArgument(f"unknown SMS provider {name!r}; choose one of log")
