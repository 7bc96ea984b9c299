"""Telephony providers, chosen by name (``dialer.telephony``) through one registry."""

from __future__ import annotations

import importlib

from switchboard.errors import InvalidArgument
from switchboard_dialer.telephony.base import TelephonyProvider

# name → "module:Class"; vendor modules are imported only when chosen.
PROVIDERS = {
    "simulator": "switchboard_dialer.telephony.simulator:SimulatorProvider",
}


def create_telephony(name: str) -> TelephonyProvider:
    """The provider called ``name``, built with its defaults."""
    target = PROVIDERS.get(name)
    if target is None:
        raise InvalidArgument(
            f"unknown telephony provider {name!r}; choose one of {', '.join(sorted(PROVIDERS))}"
        )
    module_name, _, class_name = target.partition(":")
    provider_cls = getattr(importlib.import_module(module_name), class_name)
    provider = provider_cls()
    assert isinstance(provider, TelephonyProvider)
    return provider
