"""SMS providers, chosen by name through the shared registry."""

from __future__ import annotations

from switchboard.config import DialerSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

# ``dialer.sms``; each carrier's provider gets its section of the dialer settings.
SMS = Seam(
    "dialer.sms",
    SmsProvider,
    {
        "log": Vendor("switchboard_dialer.sms.log:LogSms"),
        "twilio": Vendor("switchboard_dialer.sms.twilio_sms:TwilioSms", section="twilio"),
    },
)


def create_sms(name: str, store: CallStore, settings: DialerSettings | None = None) -> SmsProvider:
    """The SMS provider called ``name``; ``log`` keeps messages in the call's transcript."""
    return create(SMS, name, settings or DialerSettings(), store=store)
