"""Telephony providers, chosen by name (``dialer.telephony``) through the shared registry."""

from __future__ import annotations

from switchboard.config import Settings
from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.advertise import advertised_address
from switchboard_dialer.telephony.base import TelephonyProvider

# Vendor modules are imported only when chosen; each gets its own settings section, a
# path from the root settings (acs is top-level: the gateway reads it too).
TELEPHONY = Seam(
    "dialer.telephony",
    TelephonyProvider,
    {
        "simulator": Vendor("switchboard_dialer.telephony.simulator:SimulatorProvider"),
        "sip": Vendor(
            "switchboard_dialer.telephony.sip.provider:SipProvider", section="dialer.sip"
        ),
        "twilio": Vendor(
            "switchboard_dialer.telephony.twilio_voice:TwilioProvider", section="dialer.twilio"
        ),
        "acs": Vendor(
            "switchboard_dialer.telephony.acs.provider:AcsProvider",
            extra="requirements-azure.txt",
            section="acs",
        ),
    },
)


def create_telephony(settings: Settings) -> TelephonyProvider:
    """The provider named by ``dialer.telephony``, given its own section of ``settings``."""
    provider = create(TELEPHONY, settings.dialer.telephony, settings)
    provider.advertise_address = advertised_address(settings.dialer.advertise_address)
    return provider
