"""SMS providers, chosen by name through the shared registry."""

from __future__ import annotations

from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

# ``dialer.sms``; twilio and acs come later.
SMS = Seam("dialer.sms", SmsProvider, {"log": Vendor("switchboard_dialer.sms.log:LogSms")})


def create_sms(name: str, store: CallStore) -> SmsProvider:
    """The SMS provider called ``name``; ``log`` keeps messages in the call's transcript."""
    return create(SMS, name, store=store)
