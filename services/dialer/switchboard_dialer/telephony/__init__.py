"""Telephony providers, chosen by name (``dialer.telephony``) through the shared registry."""

from __future__ import annotations

from switchboard.config import DialerSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.telephony.base import TelephonyProvider

# Vendor modules are imported only when chosen; each gets its own settings section.
TELEPHONY = Seam(
    "dialer.telephony",
    TelephonyProvider,
    {
        "simulator": Vendor("switchboard_dialer.telephony.simulator:SimulatorProvider"),
        "sip": Vendor("switchboard_dialer.telephony.sip.provider:SipProvider", section="sip"),
        "twilio": Vendor(
            "switchboard_dialer.telephony.twilio_voice:TwilioProvider", section="twilio"
        ),
    },
)


def create_telephony(settings: DialerSettings) -> TelephonyProvider:
    """The provider named by ``settings.telephony``, given its own section (``settings.sip``)."""
    return create(TELEPHONY, settings.telephony, settings)
