"""What the call procedures need from the user agent that runs them.

``call``, ``uac``, ``uas``, ``transfer`` and ``registration`` take a :class:`SipContext`
instead of the :class:`~switchboard_dialer.telephony.sip.endpoint.SipEndpoint` itself:
the endpoint sits above them (it builds calls and routes requests to them), so naming it
here would close an import cycle. The endpoint implements this protocol structurally.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from switchboard_dialer.telephony.sip.address import SipUri
from switchboard_dialer.telephony.sip.config import SipConfig
from switchboard_dialer.telephony.sip.transport import SipTransport

# The methods our user agent accepts (the Allow header of INVITEs, 200s and OPTIONS).
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, INFO"


class SipContext(Protocol):
    """The user agent as a call or a registration sees it: its socket, address and tasks."""

    @property
    def config(self) -> SipConfig:
        """The endpoint's settings (trunk, credentials, codecs, timeouts)."""

    @property
    def transport(self) -> SipTransport:
        """The SIP socket and its transactions."""

    @property
    def contact(self) -> str:
        """Our Contact header value: where the far end sends requests in a dialog."""

    @property
    def media_host(self) -> str:
        """The address put into our SDP."""

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Runs ``coro`` as a task the user agent owns (it outlives the call that started it)."""

    def target_uri(self, target: str) -> SipUri:
        """A number on the trunk, or a full ``sip:`` URI, as a URI to send a request to."""
