"""Telephony providers, chosen by name (``dialer.telephony``) through the shared registry."""

from __future__ import annotations

from switchboard.providers import create_provider
from switchboard_dialer.telephony.base import TelephonyProvider

# name → "module:Class"; vendor modules are imported only when chosen.
PROVIDERS = {
    "simulator": "switchboard_dialer.telephony.simulator:SimulatorProvider",
    "sip": "switchboard_dialer.telephony.sip.provider:SipProvider",
}


def create_telephony(name: str) -> TelephonyProvider:
    """The provider called ``name``, built with its defaults."""
    return create_provider("dialer.telephony", name, PROVIDERS, TelephonyProvider)
