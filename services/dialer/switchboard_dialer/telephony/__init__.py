"""Telephony providers, chosen by name (``dialer.telephony``) through the shared registry."""

from __future__ import annotations

from switchboard.config import AcsSettings, DialerSettings
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
        # Given the top-level acs section (the gateway reads it too).
        "acs": Vendor(
            "switchboard_dialer.telephony.acs.provider:AcsProvider",
            extra="requirements-azure.txt",
            section="",
        ),
    },
)


def create_telephony(settings: DialerSettings, acs: AcsSettings | None = None) -> TelephonyProvider:
    """The provider named by ``settings.telephony``, given its own section (``settings.sip``,
    or ``acs`` for the acs provider)."""
    if settings.telephony == "acs":
        return create(TELEPHONY, "acs", acs or AcsSettings())
    return create(TELEPHONY, settings.telephony, settings)
