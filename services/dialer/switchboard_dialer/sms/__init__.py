"""SMS providers, chosen by name through the shared registry."""

from __future__ import annotations

from switchboard.config import AcsSettings, DialerSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

# ``dialer.sms``; twilio gets its section of the dialer settings, acs the top-level ``acs``.
SMS = Seam(
    "dialer.sms",
    SmsProvider,
    {
        "log": Vendor("switchboard_dialer.sms.log:LogSms"),
        "twilio": Vendor("switchboard_dialer.sms.twilio_sms:TwilioSms", section="twilio"),
        "acs": Vendor("switchboard_dialer.sms.acs:AcsSms", "requirements-azure.txt", section=""),
    },
)


def create_sms(
    name: str,
    store: CallStore,
    settings: DialerSettings | None = None,
    acs: AcsSettings | None = None,
) -> SmsProvider:
    """The SMS provider called ``name``: ``log`` keeps messages in the call's transcript,
    ``twilio`` sends through Twilio Messaging (``settings.twilio``), ``acs`` through Azure
    Communication Services (the ``acs`` section)."""
    if name == "acs":
        return create(SMS, name, acs or AcsSettings(), store=store)
    return create(SMS, name, settings or DialerSettings(), store=store)
