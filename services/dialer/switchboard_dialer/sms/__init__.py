"""SMS providers, chosen by name through the shared registry."""

from __future__ import annotations

from switchboard.config import AcsSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

# ``dialer.sms``.
SMS = Seam(
    "dialer.sms",
    SmsProvider,
    {
        "log": Vendor("switchboard_dialer.sms.log:LogSms"),
        "acs": Vendor("switchboard_dialer.sms.acs:AcsSms", "requirements-azure.txt", section=""),
    },
)


def create_sms(name: str, store: CallStore, acs: AcsSettings | None = None) -> SmsProvider:
    """The SMS provider called ``name``; ``log`` keeps messages in the call's transcript,
    ``acs`` sends through Azure Communication Services (settings: the ``acs`` section)."""
    return create(SMS, name, acs or AcsSettings(), store=store)
