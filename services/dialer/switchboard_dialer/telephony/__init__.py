"""Telephony providers, chosen by name (``dialer.telephony``) through the shared registry."""

from __future__ import annotations

from typing import Any

from switchboard.config import DialerSettings
from switchboard.providers import create_provider
from switchboard_dialer.telephony.base import TelephonyProvider

# name → "module:Class"; vendor modules are imported only when chosen.
PROVIDERS = {
    "simulator": "switchboard_dialer.telephony.simulator:SimulatorProvider",
    "sip": "switchboard_dialer.telephony.sip.provider:SipProvider",
}


def create_telephony(settings: DialerSettings) -> TelephonyProvider:
    """The provider named by ``settings.telephony``, given its own section if it has one."""
    name = settings.telephony
    sections: dict[str, Any] = {"sip": settings.sip}
    own = {"settings": sections[name]} if name in sections else {}
    return create_provider("dialer.telephony", name, PROVIDERS, TelephonyProvider, **own)
