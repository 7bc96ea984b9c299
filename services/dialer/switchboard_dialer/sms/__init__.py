"""SMS providers, chosen by name through the shared registry."""

from __future__ import annotations

from switchboard.config import Settings
from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

# ``dialer.sms``; each vendor's section is a path from the root settings.
SMS = Seam(
    "dialer.sms",
    SmsProvider,
    {
        "log": Vendor("switchboard_dialer.sms.log:LogSms"),
        "twilio": Vendor("switchboard_dialer.sms.twilio_sms:TwilioSms", section="dialer.twilio"),
        "acs": Vendor("switchboard_dialer.sms.acs:AcsSms", "requirements-azure.txt", section="acs"),
    },
)


def create_sms(settings: Settings, store: CallStore) -> SmsProvider:
    """The SMS provider named by ``dialer.sms``: ``log`` keeps messages in the call's
    transcript, ``twilio`` sends through Twilio Messaging (``dialer.twilio``), ``acs``
    through Azure Communication Services (``acs``)."""
    return create(SMS, settings.dialer.sms, settings, store=store)
